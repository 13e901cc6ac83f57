"""Smoothing of tracked keypoints: online (One Euro, per track, as frames arrive) and offline
(:func:`smooth_sequence`, zero-lag over a whole file)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from posekit.results import Keypoints, Poses
from posekit.track.smoothing import OneEuroFilter, OneEuroOptions, RtsOptions, rts_smooth
from posekit.track.tracker import Track


class OnlineSmoother:
    """One One Euro filter per track and schema; a point is taken to move at least as fast as its
    whole person (the track's velocity), so a walking person's points do not lag."""

    def __init__(self, options: OneEuroOptions) -> None:
        self.options = options
        self._filters: dict[tuple[int, str], OneEuroFilter] = {}

    def reset(self) -> None:
        self._filters = {}

    def __call__(self, poses: Poses, time_s: float, tracks: list[Track]) -> Poses:
        """``poses`` (tracked) smoothed; ``tracks`` are every track the tracker still keeps."""
        if poses.track_id is None or len(poses) == 0:
            return poses
        heights = poses.bbox_xywh[:, 3]
        velocity = {t.track_id: t.velocity_xy for t in tracks}
        body_speed = [
            float(np.linalg.norm(velocity.get(int(t), np.zeros(2)))) / max(float(h), 1.0)
            for t, h in zip(poses.track_id, heights, strict=True)
        ]
        smoothed: dict[str, Keypoints] = {}
        for name, points in poses.keypoints.items():
            xy = points.xy.copy()
            for person, track_id in enumerate(poses.track_id):
                key = (int(track_id), name)
                one_euro = self._filters.setdefault(key, OneEuroFilter(self.options))
                xy[person] = one_euro(
                    points.xy[person], points.confidence[person], time_s, float(heights[person]), body_speed[person]
                )
            smoothed[name] = replace(points, xy=xy)
        self._filters = {key: f for key, f in self._filters.items() if key[0] in velocity}
        return replace(poses, keypoints=smoothed)


def smooth_sequence(frames: Sequence[tuple[float, Poses]], options: RtsOptions | None = None) -> list[Poses]:
    """Zero-lag offline smoothing of a whole tracked sequence (``(timestamp_s, poses)`` per frame).

    Each track's points are smoothed with :func:`~posekit.track.smoothing.rts_smooth` over the
    frames it appears in; untracked people are left as they are.
    """
    track_frames: dict[int, list[tuple[int, int]]] = {}
    for frame_index, (_, poses) in enumerate(frames):
        if poses.track_id is None:
            continue
        for person, track_id in enumerate(poses.track_id):
            track_frames.setdefault(int(track_id), []).append((frame_index, person))
    new_xy: dict[tuple[int, str], np.ndarray] = {}
    for positions in track_frames.values():
        times = np.array([frames[f][0] for f, _ in positions])
        heights = np.array([frames[f][1].bbox_xywh[p, 3] for f, p in positions])
        for name in frames[positions[0][0]][1].keypoints:
            xy = np.array([frames[f][1].keypoints[name].xy[p] for f, p in positions])
            confidence = np.array([frames[f][1].keypoints[name].confidence[p] for f, p in positions])
            smoothed = rts_smooth(times, xy, confidence, heights, options)
            for row, (f, p) in enumerate(positions):
                new_xy.setdefault((f, name), frames[f][1].keypoints[name].xy.copy())[p] = smoothed[row]
    out = []
    for frame_index, (_, poses) in enumerate(frames):
        keypoints = {
            name: replace(points, xy=new_xy.get((frame_index, name), points.xy))
            for name, points in poses.keypoints.items()
        }
        out.append(replace(poses, keypoints=keypoints))
    return out
