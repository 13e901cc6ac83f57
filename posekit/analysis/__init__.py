"""Movement analysis on tracked keypoints: angles, repetitions, gait and pose classes.

Pure functions on arrays (no models)::

    from posekit.analysis import load_recording, joint_angles, count_repetitions, gait_events
    recording = load_recording("out/walk.jsonl")        # posekit track JSONL, CSV or OpenPose folder
    track = recording.tracks[0]
    joint_angles(track, ["left_knee_flexion"])           # {name: (n,) degrees}
    count_repetitions(track, "squat")                    # [Repetition(start, peak, end, ...)]
    gait_events(track)                                   # GaitEvents or None (not walking)

``run_analysis`` writes the whole analysis of a file; ``LiveAnalyzer`` works frame by frame.
Conventions and figures: docs/analysis.md.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from posekit.analysis import gait as _gait
from posekit.analysis.angles import ANGLES, DEFAULT_ANGLES, AngleDefinition, angles_from_points, mirrored
from posekit.analysis.classify import PoseClassifier
from posekit.analysis.gait import GaitEvents, gait_measures
from posekit.analysis.live import LiveAnalyzer
from posekit.analysis.reps import PRESETS, ExercisePreset, Repetition, auto_preset, check_exercise, count_reps_in
from posekit.analysis.run import AnalysisOptions, TrackAnalysis, analyse_track, run_analysis, sound_segments
from posekit.analysis.tracks import Recording, Track, body_points, fill_gaps, load_recording, low_pass


def joint_angles(track: Track, names: Iterable[str] = DEFAULT_ANGLES, *, world: bool = False) -> dict[str, np.ndarray]:
    """``{name: (n,) degrees}`` for a track (image pixels, or BlazePose world metres with ``world``)."""
    points = body_points(track, world=world, cutoff_hz=min(6.0, 0.4 * track.fps))
    return angles_from_points(points, names)


def count_repetitions(track: Track, exercise: str) -> list[Repetition]:
    """Counted reps of ``exercise`` (a preset name or ``auto``) in one track."""
    return analyse_track(track, AnalysisOptions(exercise=check_exercise(exercise))).reps


def gait_events(track: Track) -> GaitEvents | None:
    """Heel strikes and toe offs of a walking track (None when it does not walk)."""
    points = body_points(track, cutoff_hz=min(6.0, 0.4 * track.fps))
    return _gait.gait_events(points, track.fps)


__all__ = [
    "ANGLES",
    "DEFAULT_ANGLES",
    "PRESETS",
    "AnalysisOptions",
    "AngleDefinition",
    "ExercisePreset",
    "GaitEvents",
    "LiveAnalyzer",
    "PoseClassifier",
    "Recording",
    "Repetition",
    "Track",
    "TrackAnalysis",
    "analyse_track",
    "angles_from_points",
    "auto_preset",
    "body_points",
    "count_repetitions",
    "count_reps_in",
    "fill_gaps",
    "gait_events",
    "gait_measures",
    "joint_angles",
    "load_recording",
    "low_pass",
    "mirrored",
    "run_analysis",
    "sound_segments",
]
