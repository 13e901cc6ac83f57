"""``posekit classify fit``: classes from example folders, leave-one-out accuracy, then used by analyze."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from posekit.analysis import synthetic as sy
from posekit.cli import main

_CLASSES = {
    "standing": {},
    "arms_up": {"right_shoulder_abduction": 160.0, "left_shoulder_abduction": 160.0},
    "squat": {"right_hip_flexion": 95.0, "left_hip_flexion": 95.0, "right_knee_flexion": 110.0,
              "left_knee_flexion": 110.0, "trunk_lean": 35.0},
}  # fmt: skip


def _held(angles: dict[str, float], position, heading: float) -> sy.Motion:
    return sy.Motion({k: (lambda t, v=v: v + 0 * t) for k, v in angles.items()}, sy.still(position), heading)


def _example(path, angles, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(0, 1.0, 1 / 20)
    position = (rng.uniform(-1.5, 1.5), 0.0, rng.uniform(4, 8))
    motion = _held(angles, position, heading=float(rng.choice([0.0, 180.0, -60.0])))
    path.write_text("\n".join(sy.jsonl_lines({1: sy.render_track(motion, t, noise_px=2.0, rng=rng)}, t)) + "\n")


@pytest.fixture()
def examples(tmp_path):
    for number, (name, angles) in enumerate(_CLASSES.items()):
        (tmp_path / "ex" / name).mkdir(parents=True)
        for i in range(3):
            _example(tmp_path / "ex" / name / f"{i}.jsonl", angles, 10 * number + i)
    return tmp_path / "ex"


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["classify", "fit", "--help"])
    assert exc.value.code == 0
    assert "leave-one-out" in capsys.readouterr().out


def test_fit_prints_leave_one_out_accuracy_and_analyze_uses_the_model(examples, tmp_path, capsys):
    model = tmp_path / "classes.json"
    assert main(["classify", "fit", str(examples), "--out", str(model)]) == 0
    printed = capsys.readouterr().out
    accuracy = float(re.search(r"leave-one-out accuracy ([\d.]+)%", printed).group(1))
    assert accuracy >= 90.0  # three poses far apart, each seen from other places and sides
    assert json.loads(model.read_text())["classes"] == sorted(_CLASSES)
    # a person standing 2 s, squatting 2 s, then arms up 2 s: three segments in that order
    t = np.arange(0, 6, 1 / 30)
    parts = [sy.render_track(_held(a, (0.5, 0, 6), 0.0), t[:60], noise_px=1.0) for a in _CLASSES.values()]
    order = [parts[0], parts[2], parts[1]]
    scene = {"coco17": np.concatenate([p["coco17"] for p in order])}
    (tmp_path / "scene.jsonl").write_text("\n".join(sy.jsonl_lines({1: scene}, t)) + "\n")
    out = tmp_path / "o"
    assert main(["analyze", str(tmp_path / "scene.jsonl"), "--out", str(out), "--classifier", str(model)]) == 0
    classes = json.loads((tmp_path / "o" / "summary.json").read_text())["tracks"][0]["classes"]
    assert [c["class"] for c in classes] == ["standing", "squat", "arms_up"]
    assert abs(classes[1]["start_frame"] - 60) <= 8 and abs(classes[2]["start_frame"] - 120) <= 8
    assert (tmp_path / "o" / "events.csv").read_text().count(",class,") == 3


def test_one_class_or_no_folder_is_one_line(examples, tmp_path, capsys):
    for name in ("arms_up", "squat"):
        for path in (examples / name).iterdir():
            path.unlink()
    assert main(["classify", "fit", str(examples)]) == 1
    assert main(["classify", "fit", str(tmp_path / "missing")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "at least 2 classes" in lines[0] and "missing" in lines[1]
