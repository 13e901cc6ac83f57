"""Every exercise preset and the gait events on synthetic people with exact ground truth, at
10-60 fps, with noise, gaps and track flicker; and on real tracks counted by eye."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from posekit.analysis import AnalysisOptions, analyse_track, count_repetitions, load_recording
from posekit.analysis import synthetic as sy
from posekit.analysis.tracks import tracks_from_arrays

DATA = Path(__file__).resolve().parents[1] / "data" / "analysis"
REPS = [(1.0 + 2.0 * i, 1.6) for i in range(6)]
PARTIAL = [(13.0, 1.6)]  # a half rep after the full ones: must not count


def _side(angles, **fixed):
    out = dict(angles)
    for name, value in fixed.items():
        out[name] = (lambda v: lambda t: v + 0 * t)(value)
    return out


def _both(name, trajectory):
    return {f"left_{name}": trajectory, f"right_{name}": trajectory}


def _exercise_motion(exercise: str) -> sy.Motion:
    full, half = REPS, PARTIAL
    if exercise in ("squat", "lunge"):
        knee = lambda t: sy.rep_wave(5, 100, full)(t) + sy.rep_wave(0, 30, half)(t)  # noqa: E731
        angles = {**_both("knee_flexion", knee), **_both("hip_flexion", lambda t: 0.6 * knee(t))}
        return sy.Motion(angles, sy.still((0, 0, 4)), 0.0)
    if exercise == "push_up":
        elbow = lambda t: sy.rep_wave(10, 100, full)(t) + sy.rep_wave(0, 30, half)(t)  # noqa: E731
        angles = {
            **_both("elbow_flexion", elbow),
            **_both("shoulder_flexion", lambda t: 0 * t - 10),
            **_both("hip_flexion", lambda t: 0 * t + 90),
            "trunk_lean": lambda t: 0 * t + 85,
        }
        return sy.Motion(angles, sy.still((0, 0.5, 4)), 0.0)
    if exercise == "sit_up":
        lean = lambda t: sy.rep_wave(-85, -10, full)(t) + sy.rep_wave(0, 25, half)(t)  # noqa: E731
        angles = {
            "trunk_lean": lean,
            **_both("hip_flexion", lambda t: 0 * t + 135),
            **_both("knee_flexion", lambda t: 0 * t + 90),
        }
        return sy.Motion(angles, sy.still((0, 0.5, 4)), 0.0)
    if exercise == "biceps_curl":
        elbow = lambda t: sy.rep_wave(10, 140, full)(t) + sy.rep_wave(0, 40, half)(t)  # noqa: E731
        return sy.Motion(_both("elbow_flexion", elbow), sy.still((0, 0, 4)), 0.0)
    if exercise == "shoulder_press":
        shoulder = lambda t: sy.rep_wave(90, 170, full)(t) + sy.rep_wave(0, 25, half)(t)  # noqa: E731
        elbow = lambda t: sy.rep_wave(90, 5, full)(t) - sy.rep_wave(0, 25, half)(t)  # noqa: E731
        angles = {**_both("shoulder_abduction", shoulder), **_both("elbow_flexion", elbow)}
        return sy.Motion(angles, sy.still((0, 0, 4)), -90.0, arm_plane="frontal")
    assert exercise == "jumping_jack"
    motion = sy.jumping_jack_motion(full + [(13.0, 1.6)])
    half_arms = sy.rep_wave(12, 80, half)
    angles = dict(motion.angles)
    for side in ("left", "right"):  # the last one: arms only to shoulder height (partial)
        full_arms = sy.rep_wave(12, 165, full)
        angles[f"{side}_shoulder_abduction"] = lambda t, f=full_arms: np.maximum(f(t), half_arms(t))
    return sy.Motion(angles, motion.pelvis, motion.heading_deg, arm_plane="frontal")


def _track(motion, fps, noise=1.0, gaps=True, seed=0, feet=False):
    t = np.arange(0, 16, 1 / fps)
    arrays = sy.render_track(motion, t, noise_px=noise, rng=np.random.default_rng(seed), with_feet=feet)
    if gaps:
        for a in arrays.values():
            a[int(3.3 * fps) : int(3.3 * fps) + 2] = np.nan  # short gap: interpolated
            a[int(9.0 * fps), 9:11] = np.nan  # one frame without wrists
    extra = {k: v for k, v in arrays.items() if k != "coco17"}
    return tracks_from_arrays(1, range(t.size), t, arrays["coco17"], **extra)


@pytest.mark.parametrize(
    "exercise", ["squat", "lunge", "push_up", "sit_up", "biceps_curl", "shoulder_press", "jumping_jack"]
)
@pytest.mark.parametrize("fps", [10, 30, 60])
def test_each_preset_counts_full_reps_only(exercise, fps):
    track = _track(_exercise_motion(exercise), fps, seed=fps)
    reps = count_repetitions(track, exercise)
    assert len(reps) == len(REPS), [track.timestamp_s[r.peak] for r in reps]
    peaks = np.array([track.timestamp_s[r.peak] for r in reps])
    expected = np.array([start + duration / 2 for start, duration in REPS])
    assert np.abs(peaks - expected).max() <= 0.15 + 1 / fps
    for rep in reps:
        assert rep.start < rep.peak < rep.end and rep.range_deg > 30


def test_auto_finds_the_moving_angle():
    track = _track(_exercise_motion("squat"), 30)
    analysis = analyse_track(track, AnalysisOptions(exercise="auto"))
    assert analysis.exercise.startswith("auto:") and len(analysis.reps) == len(REPS)


def test_walker_does_no_jumping_jacks_and_a_jumper_does_not_walk():
    walker = _track(sy.walk_motion(1.1, 1.3, 0.0, start=(-4, 0, 7)), 30)
    assert count_repetitions(walker, "jumping_jack") == []
    jumper = analyse_track(_track(_exercise_motion("jumping_jack"), 30), AnalysisOptions(exercise="jumping_jack"))
    assert jumper.gait is None and len(jumper.reps) == len(REPS)


def test_flicker_cannot_add_a_rep():
    track = _track(_exercise_motion("squat"), 30, gaps=False)
    coco = track.points["coco17"]
    peak_row = int(5.8 * 30)  # around the third rep's turning point, flicker frames to rest and back
    rest = coco[0].copy()
    for row in (peak_row, peak_row + 2):
        coco[row] = rest
    assert len(count_repetitions(track, "squat")) == len(REPS)


@pytest.mark.parametrize(
    ("fps", "heading", "feet", "start", "speed", "tolerance_s"),
    [
        (30, 0.0, True, (-3, 0, 7), 1.3, 0.1),
        (10, 0.0, False, (-3, 0, 7), 1.3, 0.1),
        (60, 180.0, False, (3, 0, 7), 1.2, 0.1),
        (30, 90.0, True, (0, 0, 3), 1.3, 0.2),
        (25, 0.0, True, (0, 0, 5), 0.0, 0.1),
    ],
    ids=["across-30fps", "across-10fps-ankles", "right-to-left-60fps", "away", "treadmill"],
)
def test_heel_strikes_and_cadence(fps, heading, feet, start, speed, tolerance_s):
    # walking away the picture shrinks and the heel's reach shows only through perspective: looser
    stride_s = 1.1
    motion = sy.walk_motion(stride_s, speed, heading, start=start)
    track = _track(motion, fps, feet=feet)
    analysis = analyse_track(track, AnalysisOptions())
    assert analysis.gait is not None
    cadence = analysis.gait["cadence_steps_per_min"]
    assert cadence == pytest.approx(2 * 60 / stride_s, rel=0.05)
    true = np.array([time for time, _ in sy.true_heel_strikes(motion, track.timestamp_s)])
    found = np.array([track.timestamp_s[row] for row, _ in analysis.gait["heel_strikes"]])
    matched = sum(np.abs(found - time).min() <= tolerance_s + 1 / fps for time in true)
    assert matched >= 0.8 * true.size
    assert len(found) <= true.size + 1  # nothing counted twice


def test_real_walker_heel_strikes_match_eye_counts():
    labels = json.loads((DATA / "eye_counts.json").read_text())["vtest_track10"]
    recording = load_recording(DATA / "vtest_track10.jsonl")
    analysis = analyse_track(recording.tracks[0], AnalysisOptions())
    assert analysis.gait is not None
    found = np.array([analysis.track.frame_index[row] for row, _ in analysis.gait["heel_strikes"]])
    eye = np.array(labels["heel_strike_frames"])
    matched = sum(np.abs(found - frame).min() <= 1 for frame in eye)
    assert matched >= 0.8 * eye.size, (found.tolist(), eye.tolist())
    cadence_by_eye = 60 * 10 / labels["step_interval_frames"]
    assert analysis.gait["cadence_steps_per_min"] == pytest.approx(cadence_by_eye, rel=0.1)


def test_real_balancing_person_does_not_walk():
    labels = json.loads((DATA / "eye_counts.json").read_text())["pose2sim_cam01"]
    recording = load_recording(DATA / "pose2sim_cam01.jsonl")
    main = max(
        recording.tracks, key=lambda t: np.nanmax(t.points["coco17"][..., 1]) - np.nanmin(t.points["coco17"][..., 1])
    )
    analysis = analyse_track(main, AnalysisOptions(exercise="auto"))
    assert analysis.gait is None and labels["steps"] == 0
    assert len(analysis.reps) <= labels["repetitions_at_most"]
