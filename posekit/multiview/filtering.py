"""Temporal filtering of 3D tracks (scipy.signal) and an optional bone-length prior."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from posekit.multiview.skeleton import SKELETON


@dataclass(frozen=True)
class FilterOptions:
    """``cutoff_hz``: zero-phase Butterworth low-pass (0: none), ``order``; ``max_gap_frames``:
    gaps this short inside a track are filled by interpolation (0: none); ``bone_prior``: move each
    distal point along its bone so the bone keeps the track's median length."""

    cutoff_hz: float = 6.0
    order: int = 4
    max_gap_frames: int = 10
    bone_prior: bool = False


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` runs of True."""
    padded = np.concatenate([[False], mask, [False]])
    changes = np.flatnonzero(np.diff(padded.astype(int)))
    return list(zip(changes[::2], changes[1::2], strict=True))


def fill_gaps(series: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation over NaN gaps of at most ``max_gap`` frames inside ``series (T, d)``."""
    out = series.copy()
    finite = np.isfinite(series).all(axis=1)
    if max_gap <= 0 or finite.sum() < 2:
        return out
    times = np.flatnonzero(finite)
    for start, stop in _runs(~finite):
        if start == 0 or stop == len(series) or stop - start > max_gap:
            continue
        for axis in range(series.shape[1]):
            out[start:stop, axis] = np.interp(np.arange(start, stop), times, series[finite, axis])
    return out


def lowpass(series: np.ndarray, fps: float, cutoff_hz: float, order: int) -> np.ndarray:
    """Zero-phase Butterworth low-pass of each finite run of ``series (T, d)``."""
    if cutoff_hz <= 0 or cutoff_hz >= fps / 2:
        return series.copy()
    sos = butter(order, cutoff_hz, btype="low", fs=fps, output="sos")
    out = series.copy()
    pad = 3 * (2 * len(sos) + 1)
    for start, stop in _runs(np.isfinite(series).all(axis=1)):
        if stop - start > pad:
            out[start:stop] = sosfiltfilt(sos, series[start:stop], axis=0)
    return out


def filter_track(
    xyz: np.ndarray, score: np.ndarray, fps: float, options: FilterOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Filters one track's ``xyz (T, k, 3)``; filled points get half their neighbours' score."""
    out = np.full_like(xyz, np.nan)
    new_score = score.copy()
    for point in range(xyz.shape[1]):
        filled = fill_gaps(xyz[:, point], options.max_gap_frames)
        was_missing = ~np.isfinite(xyz[:, point]).all(axis=1) & np.isfinite(filled).all(axis=1)
        if was_missing.any():
            neighbours = np.interp(
                np.flatnonzero(was_missing), np.flatnonzero(~was_missing), score[~was_missing, point]
            )
            new_score[was_missing, point] = 0.5 * neighbours
        out[:, point] = lowpass(filled, fps, options.cutoff_hz, options.order)
    if options.bone_prior:
        out = apply_bone_prior(out)
    return out, new_score


def apply_bone_prior(xyz: np.ndarray) -> np.ndarray:
    """Sets each limb bone (proximal to distal, in chain order) to its median length over the
    track, moving the distal point and everything below it along the limb by the same shift."""
    out = xyz.copy()
    below = {
        "elbow": ("wrist",),
        "knee": ("ankle", "heel", "toe"),
        "ankle": ("heel", "toe"),
    }
    for _, proximal, distal in SKELETON.bones:
        if "width" in _:
            continue
        a, b = SKELETON.index(proximal), SKELETON.index(distal)
        vector = out[:, b] - out[:, a]
        length = np.linalg.norm(vector, axis=1)
        if not np.isfinite(length).any():
            continue
        target = np.nanmedian(length)
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = vector * (target / length - 1.0)[:, None]
        shift = np.nan_to_num(shift)
        side, joint = distal.split("_", 1)
        moved = [b] + [SKELETON.index(f"{side}_{part}") for part in below.get(joint, ())]
        for index in moved:
            out[:, index] += shift
    return out


def bone_lengths(xyz: np.ndarray) -> np.ndarray:
    """``(T, bones)`` lengths of :data:`SKELETON`'s bones (NaN where a point is missing)."""
    pairs = np.array(SKELETON.bone_indices())
    return np.linalg.norm(xyz[:, pairs[:, 1]] - xyz[:, pairs[:, 0]], axis=-1)
