"""posekit analyze on a synthetic JSONL (a jumping jack and a walker) end to end, and bad input."""

from __future__ import annotations

import json

import numpy as np

from posekit.analysis import synthetic as sy
from posekit.cli import main


def _scene(path):
    t = np.arange(0, 16, 1 / 30)
    jumps = [(1.0 + 1.2 * i, 1.0) for i in range(9)]
    rng = np.random.default_rng(5)
    jumper = sy.render_track(sy.jumping_jack_motion(jumps, (1.2, 0, 5)), t, noise_px=1.5, rng=rng)
    walker = sy.render_track(sy.walk_motion(1.1, 1.2, 0.0, start=(-4, 0, 7)), t, noise_px=1.5, rng=rng)
    path.write_text("\n".join(sy.jsonl_lines({1: jumper, 2: walker}, t)) + "\n")
    return len(jumps)


def test_help(capsys):
    try:
        main(["analyze", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "--exercise" in capsys.readouterr().out


def test_jsonl_end_to_end(tmp_path):
    count = _scene(tmp_path / "scene.jsonl")
    assert (
        main(["analyze", str(tmp_path / "scene.jsonl"), "--out", str(tmp_path / "out"), "--exercise", "jumping_jack"])
        == 0
    )
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    tracks = {t["track_id"]: t for t in summary["tracks"]}
    assert tracks[1]["repetitions"]["count"] == count and tracks[1]["gait"] is None
    assert tracks[2]["repetitions"]["count"] == 0
    assert abs(tracks[2]["gait"]["cadence_steps_per_min"] - 2 * 60 / 1.1) < 0.05 * 2 * 60 / 1.1
    assert {"frame_index", "side"} <= set(tracks[2]["gait"]["heel_strikes"][0])
    for name in ("angles.csv", "events.csv", "report.html"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert "data:image/png;base64," in (tmp_path / "out" / "report.html").read_text()


def test_bad_inputs_are_one_line_each(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["analyze", str(empty), "--out", str(tmp_path / "o1")]) == 1
    assert capsys.readouterr().err.strip().count("\n") == 0
    _scene(tmp_path / "scene.jsonl")
    assert main(["analyze", str(tmp_path / "scene.jsonl"), "--out", str(tmp_path / "o2"), "--exercise", "yoga"]) == 2
    assert "unknown exercise" in capsys.readouterr().err
    assert not (tmp_path / "o2" / "summary.json").exists()
    truncated = tmp_path / "truncated.jsonl"
    text = (tmp_path / "scene.jsonl").read_text()
    truncated.write_text(text[: len(text) // 2])
    assert main(["analyze", str(truncated), "--out", str(tmp_path / "o3"), "--exercise", "jumping_jack"]) == 0
    assert json.loads((tmp_path / "o3" / "summary.json").read_text())["skipped_lines"] == 1
