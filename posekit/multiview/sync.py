"""Constant frame offsets between cameras, from the people's keypoint motion.

With a calibration (:func:`estimate_offsets`), a camera's offset is the lag at which its people's
keypoint rays pass closest to the first camera's (people standing still add the same at every
lag, so the people moving decide). Without one, :func:`estimate_offsets_by_motion` correlates
the views' mean keypoint speeds (weaker: a bystander's jitter blurs it).
"""

from __future__ import annotations

import numpy as np

from posekit.multiview.camera import CameraRig
from posekit.multiview.triangulation import RigArrays, ray_distances
from posekit.multiview.views import ViewTrack

RAY_CAP_M = 0.5  # a person with no counterpart adds this, whatever the lag


def motion_signal(view: ViewTrack, min_confidence: float = 0.3) -> np.ndarray:
    """``(T,)`` mean speed of the 2D-tracked people (box heights per frame); NaN where unknown."""
    signal = np.full(len(view), np.nan)
    previous: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
    for t, people in enumerate(view.frames):
        speeds, current = [], {}
        for i in range(len(people)):
            track_id = int(people.track_id[i])
            xy, confidence = people.xy[i], people.confidence[i]
            height = max(float(people.bbox_xywh[i, 3]), 1.0)
            current[track_id] = (xy, confidence, height)
            if track_id in previous and track_id >= 0:
                old_xy, old_conf, _ = previous[track_id]
                both = (confidence >= min_confidence) & (old_conf >= min_confidence)
                if both.sum() >= 4:
                    speeds.append(float(np.mean(np.linalg.norm(xy[both] - old_xy[both], axis=1))) / height)
        previous = current
        if speeds:
            signal[t] = float(np.mean(speeds))
    return signal


def best_lag(reference: np.ndarray, other: np.ndarray, max_lag: int) -> tuple[int, float]:
    """The lag ``L`` (``other[t + L]`` matches ``reference[t]``) of highest correlation, and it."""
    best = (0, -np.inf)
    for lag in range(-max_lag, max_lag + 1):
        a = reference[max(0, -lag) : len(reference) - max(0, lag)]
        b = other[max(0, lag) : max(0, lag) + len(a)]
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 10:
            continue
        correlation = float(np.corrcoef(a[ok], b[ok])[0, 1])
        if np.isfinite(correlation) and correlation > best[1]:
            best = (lag, correlation)
    return best


def estimate_offsets_by_motion(views: list[ViewTrack], max_lag: int = 30) -> list[int]:
    """Frame offset per view (first view 0): pass them to :meth:`ViewTrack.shifted`."""
    signals = [motion_signal(view) for view in views]
    return [0] + [best_lag(signals[0], signal, max_lag)[0] for signal in signals[1:]]


def _ray_cost(rig: RigArrays, a: tuple, b: tuple, va: int, vb: int, min_confidence: float) -> float:
    (xy_a, conf_a), (xy_b, conf_b) = a, b
    if not len(xy_a) or not len(xy_b):
        return float("nan")
    distance = ray_distances(rig, xy_a[:, None], va, xy_b[None], vb)  # (na, nb, k)
    both = (conf_a[:, None] >= min_confidence) & (conf_b[None] >= min_confidence)
    with np.errstate(all="ignore"):
        per_pair = np.nanmean(np.where(both, distance, np.nan), axis=-1)
    per_pair = np.where(both.sum(axis=-1) >= 4, per_pair, np.inf)
    return float(np.minimum(per_pair.min(axis=1), RAY_CAP_M).sum())


def estimate_offsets(
    rig: CameraRig, views: list[ViewTrack], max_lag: int = 30, min_confidence: float = 0.3
) -> list[int]:
    """Frame offset per view (first view 0; ``views[i]`` is ``rig.cameras[i]``'s): pass each to
    :meth:`ViewTrack.shifted`."""
    arrays = RigArrays.of(rig.cameras)
    normalised = []
    for camera, view in zip(rig, views, strict=True):
        normalised.append([(camera.undistort(f.xy) if len(f) else f.xy, f.confidence) for f in view.frames])
    offsets = [0]
    count = min(len(view) for view in views)
    for other in range(1, len(views)):
        costs = {}
        for lag in range(-max_lag, max_lag + 1):
            frames = [t for t in range(count) if 0 <= t + lag < count]
            values = [
                _ray_cost(arrays, normalised[0][t], normalised[other][t + lag], 0, other, min_confidence)
                for t in frames
            ]
            values = [v for v in values if np.isfinite(v)]
            if len(values) >= 10:
                costs[lag] = float(np.mean(values))
        offsets.append(min(costs, key=lambda lag: (costs[lag], abs(lag))) if costs else 0)
    return offsets
