"""Bad input to ``posekit analyze``: one clear line each, and nothing already written is lost.

Also: the fast line reader gives exactly what ``json`` gives, and falls back to it on lines it
does not expect.
"""

from __future__ import annotations

import json
from unittest import mock

import numpy as np
import pytest

from posekit.analysis import load_recording
from posekit.analysis import synthetic as sy
from posekit.analysis import tracks as tracks_module
from posekit.cli import main
from tests.analysis.test_cli_analyze import _scene


@pytest.fixture()
def done(tmp_path):
    """A scene analysed into out/ once, with the summary's text kept to compare."""
    _scene(tmp_path / "scene.jsonl")
    assert main(["analyze", str(tmp_path / "scene.jsonl"), "--out", str(tmp_path / "out"), "--exercise", "squat"]) == 0
    return tmp_path, {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}


def _unchanged(folder, before):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def _problem_lines(err: str) -> list[str]:
    return [line for line in err.strip().splitlines() if "track " not in line and "tracks analysed" not in line]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ('{"frame_index": 0, "peo', "no frame records"),
        ("[1, 2]\n", "no frame"),
    ],
)
def test_empty_or_unreadable_jsonl_is_one_line_and_keeps_earlier_outputs(done, capsys, content, expected):
    tmp_path, before = done
    capsys.readouterr()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    assert main(["analyze", str(bad), "--out", str(tmp_path / "out")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "bad.jsonl" in lines[0] and expected in lines[0]
    assert _unchanged(tmp_path / "out", before)


def test_missing_file_is_one_line(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "out")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "nope.jsonl" in lines[0] and "no such file" in lines[0]


def test_truncated_last_line_is_skipped_with_one_line(tmp_path, capsys):
    text = "\n".join(sy.jsonl_lines({1: sy.render_track(sy.walk_motion(1.1, 1.2), np.arange(0, 6, 1 / 30))},
                                    np.arange(0, 6, 1 / 30)))  # fmt: skip
    cut = text[: len(text) - len(text.splitlines()[-1]) // 2]  # half of the last line gone
    (tmp_path / "cut.jsonl").write_text(cut)
    assert main(["analyze", str(tmp_path / "cut.jsonl"), "--out", str(tmp_path / "out")]) == 0
    problems = _problem_lines(capsys.readouterr().err)
    assert len(problems) == 1 and "cut.jsonl" in problems[0] and f"line {len(text.splitlines())}" in problems[0]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["skipped_lines"] == 1 and summary["frames"] == len(text.splitlines()) - 1
    assert summary["tracks"][0]["gait"] is not None


def test_three_frame_track_and_three_frame_file(tmp_path, capsys):
    t = np.arange(0, 8, 1 / 30)
    walker = sy.render_track(sy.walk_motion(1.1, 1.2), t)
    blip = {"coco17": np.full_like(walker["coco17"], np.nan)}
    blip["coco17"][100:103] = sy.render_track(sy.walk_motion(1.1, 1.2, start=(1, 0, 6)), t)["coco17"][100:103]
    (tmp_path / "two.jsonl").write_text("\n".join(sy.jsonl_lines({1: walker, 7: blip}, t)) + "\n")
    assert main(["analyze", str(tmp_path / "two.jsonl"), "--out", str(tmp_path / "a"), "--exercise", "squat"]) == 0
    tracks = {t["track_id"]: t for t in json.loads((tmp_path / "a" / "summary.json").read_text())["tracks"]}
    assert tracks[1]["gait"] is not None
    assert tracks[7]["gait"] is None and tracks[7]["repetitions"]["count"] == 0
    assert any("too short" in note and "3 frames" in note for note in tracks[7]["notes"])
    (tmp_path / "three.jsonl").write_text("\n".join(sy.jsonl_lines({1: walker}, t)[:3]) + "\n")
    assert main(["analyze", str(tmp_path / "three.jsonl"), "--out", str(tmp_path / "b"), "--exercise", "auto"]) == 0
    entry = json.loads((tmp_path / "b" / "summary.json").read_text())["tracks"][0]
    assert entry["gait"] is None and "too short" in entry["notes"][0]
    assert "too short" in capsys.readouterr().err


def test_person_who_never_walks_has_gait_null_and_a_reason(tmp_path):
    t = np.arange(0, 10, 1 / 30)
    jumper = sy.render_track(sy.jumping_jack_motion([(1 + 1.2 * i, 1.0) for i in range(7)]), t, noise_px=1.0)
    still = sy.render_track(sy.Motion({}, sy.still((-1, 0, 6))), t, noise_px=1.0)
    (tmp_path / "s.jsonl").write_text("\n".join(sy.jsonl_lines({1: jumper, 2: still}, t)) + "\n")
    assert main(["analyze", str(tmp_path / "s.jsonl"), "--out", str(tmp_path / "o")]) == 0
    for entry in json.loads((tmp_path / "o" / "summary.json").read_text())["tracks"]:
        assert entry["gait"] is None and "repetitions" not in entry
        assert any(note.startswith("not walking") for note in entry["notes"])


@pytest.mark.parametrize(
    ("flags", "names"),
    [(["--exercise", "yoga"], ("unknown exercise", "jumping_jack", "auto")),
     (["--angles", "left_knee_flexion,elbow"], ("unknown angle elbow", "left_elbow_flexion", "trunk_tilt"))],
)  # fmt: skip
def test_unknown_exercise_or_angle_lists_the_known_ones(done, capsys, flags, names):
    tmp_path, before = done
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "scene.jsonl"), "--out", str(tmp_path / "out"), *flags]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and all(name in lines[0] for name in names)
    assert _unchanged(tmp_path / "out", before)


def test_fast_reader_equals_json_and_falls_back(tmp_path):
    t = np.arange(0, 2, 1 / 30)
    person = sy.render_track(sy.walk_motion(1.1, 1.2), t, noise_px=1.0, with_feet=True)
    person["coco17"][5:9, 3] = np.nan  # missing points: [null, null, 0.0]
    records = [json.loads(line) for line in sy.jsonl_lines({4: person, 9: person}, t)]
    for number, record in enumerate(records):
        for entry in record["people"]:
            entry["world_xyz"] = (np.arange(99).reshape(33, 3) * 0.01 + number).round(3).tolist()
    lines = [json.dumps(r, separators=(",", ":")) for r in records]
    lines[7] = json.dumps(records[7])  # spaces: the json path
    records[9]["people"][0]["track_id"] = None  # no id: the json path (numbered by position)
    lines[9] = json.dumps(records[9], separators=(",", ":"))
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    fast = load_recording(tmp_path / "mixed.jsonl")
    with mock.patch.object(tracks_module, "fast_record", lambda line: None):
        slow = load_recording(tmp_path / "mixed.jsonl")
    assert [t.track_id for t in fast.tracks] == [t.track_id for t in slow.tracks] == [0, 4, 9]
    for a, b in zip(fast.tracks, slow.tracks, strict=True):
        assert np.array_equal(a.frame_index, b.frame_index) and np.array_equal(a.timestamp_s, b.timestamp_s)
        assert set(a.points) == set(b.points) == {"coco17", "blazepose33"}
        for name in a.points:
            assert np.array_equal(a.points[name], b.points[name], equal_nan=True)
        assert np.array_equal(a.world_xyz, b.world_xyz, equal_nan=True)
    assert np.isnan(fast.tracks[1].points["coco17"][5, 3, 0]) and np.isfinite(fast.tracks[1].world_xyz[3]).all()
