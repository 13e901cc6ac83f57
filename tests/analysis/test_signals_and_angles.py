"""Angles, gap filling and filtering on synthetic sequences with exact ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.analysis import ANGLES, fill_gaps, joint_angles, low_pass, mirrored
from posekit.analysis import synthetic as sy
from posekit.analysis.angles import angles_from_points, check_angle_names
from posekit.analysis.tracks import body_points, tracks_from_arrays
from posekit.errors import UsageError


def test_left_side_is_the_mirror_of_the_right():
    for _name, definition in ANGLES.items():
        if definition.side == "centre":
            continue
        other = ANGLES[mirrored(definition).name]
        assert mirrored(other) == definition
        assert all(
            ("left_" in p) == ("right_" in q)
            for p, q in zip(definition.points, other.points, strict=True)
            if "_" in p and not p.startswith("mid")
        )


def test_mirrored_pose_gives_the_same_joint_angles_on_the_other_side():
    t = np.arange(0, 3, 1 / 30)
    arrays = sy.render_track(sy.walk_motion(1.1, 1.2, 0.0), t, with_feet=True)
    points = body_points(tracks_from_arrays(1, range(t.size), t, arrays["coco17"], blazepose33=arrays["blazepose33"]))
    swapped = {}
    for name, xy in points.items():
        other = name.replace("left_", "#").replace("right_", "left_").replace("#", "right_")
        swapped[other] = xy * np.array([-1.0, 1.0])
    joint = [n for n, d in ANGLES.items() if d.kind == "joint"]
    original, flipped = angles_from_points(points, joint), angles_from_points(swapped, joint)
    for name in joint:
        mirror_name = mirrored(ANGLES[name]).name
        np.testing.assert_allclose(flipped[mirror_name], original[name], atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("fps", [10, 30, 60])
def test_knee_and_elbow_flexion_follow_the_known_trajectory(fps):
    t = np.arange(0, 4, 1 / fps)
    knee, elbow = sy.rep_wave(5, 110, [(0.5, 2.0)]), sy.rep_wave(10, 130, [(1.0, 2.0)])
    motion = sy.Motion(
        {
            "right_knee_flexion": knee,
            "left_knee_flexion": knee,
            "right_elbow_flexion": elbow,
            "right_hip_flexion": lambda t: 20 + 0 * t,
            "right_shoulder_flexion": lambda t: 30 + 0 * t,
        },
        sy.still((0.0, 0.0, 4.0)),
        heading_deg=0.0,
    )
    arrays = sy.render_track(motion, t, noise_px=0.5, rng=np.random.default_rng(3))
    track = tracks_from_arrays(1, range(t.size), t, arrays["coco17"])
    angles = joint_angles(track, ["right_knee_flexion", "right_elbow_flexion"])
    assert np.nanmedian(np.abs(angles["right_knee_flexion"] - knee(t))) < 2.0
    assert np.nanmedian(np.abs(angles["right_elbow_flexion"] - elbow(t))) < 2.5


def test_segment_conventions():
    points = {
        "mid_hip": np.array([[0.0, 0.0]]),
        "mid_shoulder": np.array([[1.0, -1.0]]),
        "left_hip": np.array([[0.0, 0.0]]),
        "right_hip": np.array([[-1.0, -1.0]]),
    }
    values = angles_from_points(points, ["trunk_tilt", "pelvis_tilt"])
    assert values["trunk_tilt"][0] == pytest.approx(45.0)  # leaning towards the image's right
    assert values["pelvis_tilt"][0] == pytest.approx(-45.0)  # down to the right: clockwise, folded into -90..90


def test_unknown_angle_is_one_clear_error():
    with pytest.raises(UsageError, match="unknown angle left_nose_flexion"):
        check_angle_names(["left_knee_flexion", "left_nose_flexion"])


def test_fill_gaps_interpolates_short_gaps_only():
    values = np.arange(20, dtype=float)
    values[3:5] = np.nan
    values[10:16] = np.nan
    filled = fill_gaps(values, 3)
    np.testing.assert_allclose(filled[3:5], [3, 4])
    assert np.isnan(filled[10:16]).all()


def test_low_pass_removes_noise_without_lag():
    fps, t = 60.0, np.arange(0, 5, 1 / 60)
    clean = np.sin(2 * np.pi * 1.0 * t)
    noisy = clean + np.random.default_rng(0).normal(0, 0.2, t.size)
    noisy[100:103] = np.nan
    smooth = low_pass(noisy, fps, 4.0)
    assert np.isnan(smooth[100:103]).all()
    keep = np.isfinite(smooth)
    keep &= np.isfinite(noisy)
    noisy_error = np.sqrt(np.mean((noisy[keep] - clean[keep]) ** 2))
    assert np.sqrt(np.mean((smooth[keep] - clean[keep]) ** 2)) < 0.5 * noisy_error
    assert abs(np.argmax(smooth[20:80]) - np.argmax(clean[20:80])) <= 1  # zero phase
