"""Live analysis: angles and a rep count per person, frame by frame (the service's stream).

Each track keeps the last :data:`WINDOW_S` seconds of COCO-17 keypoints; the rep signal's
thresholds come from that window's robust range (as offline), and a rep counts when the signal
crosses from below ``leave`` over ``enter`` and back, so a flickering frame cannot add one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posekit.analysis.angles import DEFAULT_ANGLES, angles_from_points, check_angle_names
from posekit.analysis.reps import PRESETS, SIGNALS, ExercisePreset, auto_preset, check_exercise, thresholds_for
from posekit.analysis.tracks import Track, body_points

WINDOW_S = 12.0
AUTO_EVERY_S = 2.0
_MAX_IDLE_S = 5.0


@dataclass
class _TrackState:
    times: deque[float] = field(default_factory=deque)
    frames: deque[np.ndarray] = field(default_factory=deque)
    reps: int = 0
    armed: bool = False
    above: bool = False
    preset: ExercisePreset | None = None
    chosen_at: float = -np.inf


class LiveAnalyzer:
    """``update(poses, timestamp_s)`` -> ``{track_id: {"angles": {name: deg | None}, "reps": int}}``."""

    def __init__(self, exercise: str | None = "auto", angles: tuple[str, ...] | None = None) -> None:
        self.exercise = None if exercise is None else check_exercise(exercise)
        self.angles = check_angle_names(angles) if angles else DEFAULT_ANGLES
        self._tracks: dict[int, _TrackState] = {}

    def reset(self) -> None:
        self._tracks.clear()

    def update(self, poses: Any, timestamp_s: float) -> dict[int, dict[str, Any]]:
        if "coco17" not in poses.keypoints or len(poses) == 0:
            self._forget(timestamp_s)
            return {}
        points = poses.keypoints["coco17"]
        ids = poses.track_id if poses.track_id is not None else np.arange(len(poses))
        values = np.concatenate([points.xy, points.confidence[..., None]], axis=2).astype(np.float64)
        out = {}
        for person, track_id in enumerate(int(i) for i in ids):
            state = self._tracks.setdefault(track_id, _TrackState())
            state.times.append(float(timestamp_s))
            state.frames.append(values[person])
            while state.times and state.times[0] < timestamp_s - WINDOW_S:
                state.times.popleft()
                state.frames.popleft()
            out[track_id] = self._person(state, timestamp_s)
        self._forget(timestamp_s)
        return out

    def _forget(self, timestamp_s: float) -> None:
        for track_id in [t for t, s in self._tracks.items() if s.times and s.times[-1] < timestamp_s - _MAX_IDLE_S]:
            del self._tracks[track_id]

    def _person(self, state: _TrackState, timestamp_s: float) -> dict[str, Any]:
        times = np.fromiter(state.times, np.float64, len(state.times))
        track = Track(0, np.arange(times.size), times, {"coco17": np.stack(list(state.frames))})
        points = body_points(track)
        angles = angles_from_points(points, self.angles)
        current = {name: (round(float(v[-1]), 1) if np.isfinite(v[-1]) else None) for name, v in angles.items()}
        if self.exercise is not None:
            self._count(state, points, track.fps, timestamp_s)
        return {"angles": current, "reps": state.reps}

    def _count(self, state: _TrackState, points: dict[str, np.ndarray], fps: float, timestamp_s: float) -> None:
        if self.exercise == "auto":
            if timestamp_s - state.chosen_at >= AUTO_EVERY_S:
                state.preset = auto_preset(points, fps) or state.preset
                state.chosen_at = timestamp_s
        else:
            state.preset = PRESETS[str(self.exercise)]
        if state.preset is None:
            return
        signal = SIGNALS[state.preset.signal](points)
        if signal is None or not np.isfinite(signal[-1]):
            return
        limits = thresholds_for(state.preset, signal)
        if limits is None:
            return
        enter, leave = limits
        value = float(signal[-1])
        if value <= leave:
            if state.armed and state.above:
                state.reps += 1
            state.armed, state.above = True, False
        elif value >= enter and state.armed:
            state.above = True
