"""Keypoint smoothing across frames, and the jitter and lag measures used to tune it.

* Online: :class:`OneEuroFilter` (Casiez et al., CHI 2012), one per track, over all its points at
  once. Speed is measured in person heights per second (the box height), so one setting works
  for near and far people, as MediaPipe scales its landmark filter by the object size. A point
  counts as at least as fast as the whole person (the tracker's velocity): the filter's own speed
  estimate starts at zero, so without it a track that starts on someone walking trails them for
  its first frames (the body's speed recovers most of the keypoint AP the filter alone loses on
  walkers, at the same jitter: docs/benchmarks.md#smoothing).
* Offline, for files: :func:`rts_smooth`, a Rauch-Tung-Striebel smoother on a constant-velocity
  model. It runs forward then backward, so it has no lag, and it bridges frames where a point
  was missing.

A point that is missing (non-finite, or confidence below ``min_confidence``) is never invented
by the online filter: it stays missing, and the filter restarts from its next observation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroOptions:
    """``min_cutoff`` (Hz): smoothing at rest, lower is smoother; ``beta``: how fast the cutoff
    rises with speed (person heights / s), higher means less lag in fast motion; ``d_cutoff`` (Hz)
    filters the speed estimate itself."""

    min_cutoff: float = 1.0
    beta: float = 30.0
    d_cutoff: float = 1.0
    min_confidence: float = 0.2


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Smooths one person's ``(k, 2)`` points over time; ``reset()`` forgets the past."""

    def __init__(self, options: OneEuroOptions | None = None) -> None:
        self.options = options or OneEuroOptions()
        self.reset()

    def reset(self) -> None:
        self._xy: np.ndarray | None = None
        self._dxy: np.ndarray | None = None
        self._time_s: float | None = None

    def __call__(
        self, xy: np.ndarray, confidence: np.ndarray, time_s: float, scale_px: float, body_speed: float = 0.0
    ) -> np.ndarray:
        """Filtered ``(k, 2)`` float32; ``scale_px`` is the person's size (box height) in pixels;
        ``body_speed``: how fast the whole person moves (person heights / s, from the tracker)."""
        xy = np.asarray(xy, dtype=np.float64)
        seen = np.isfinite(xy).all(axis=1) & (np.asarray(confidence) >= self.options.min_confidence)
        if self._xy is None or self._dxy is None or self._time_s is None or time_s <= self._time_s:
            self._xy = np.where(seen[:, None], xy, np.nan)
            self._dxy = np.zeros_like(xy)
            self._time_s = time_s
            return xy.astype(np.float32)
        dt_s = time_s - self._time_s
        scale = max(float(scale_px), 1.0)
        restart = seen & ~np.isfinite(self._xy).all(axis=1)  # seen now, missing before
        previous = np.where(restart[:, None], xy, self._xy)
        dxy = (xy - previous) / dt_s / scale
        a_d = _alpha(self.options.d_cutoff, dt_s)
        dxy_hat = np.where(restart[:, None], 0.0, a_d * dxy + (1 - a_d) * self._dxy)
        speed = np.maximum(np.linalg.norm(dxy_hat, axis=1), body_speed)
        a = _alpha(self.options.min_cutoff + self.options.beta * speed, dt_s)[:, None]
        xy_hat = a * xy + (1 - a) * previous
        out = np.where(seen[:, None], xy_hat, xy)
        self._xy = np.where(seen[:, None], xy_hat, np.nan)
        self._dxy = np.where(seen[:, None], dxy_hat, 0.0)
        self._time_s = time_s
        return out.astype(np.float32)


@dataclass(frozen=True)
class RtsOptions:
    """Constant-velocity model: ``acceleration_std`` in person heights / s^2 (how much the motion
    may change), ``measurement_std`` in person heights (how noisy a detected point is, at
    confidence 1; a point at confidence c counts as noise ``measurement_std / c``)."""

    acceleration_std: float = 6.0
    measurement_std: float = 0.012
    min_confidence: float = 0.2


def rts_smooth(
    times_s: np.ndarray,
    xy: np.ndarray,
    confidence: np.ndarray,
    scale_px: np.ndarray,
    options: RtsOptions | None = None,
) -> np.ndarray:
    """Zero-lag smoothing of one track's points over a whole sequence.

    ``times_s (t,)`` increasing; ``xy (t, k, 2)`` pixels (NaN where missing); ``confidence (t, k)``;
    ``scale_px (t,)`` person size per frame. Returns ``(t, k, 2)``: points seen at least once are
    smoothed; frames where a point was missing keep it missing (no invented points).
    """
    options = options or RtsOptions()
    times = np.asarray(times_s, dtype=np.float64)
    xy = np.asarray(xy, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    n_frames, n_points = xy.shape[:2]
    if n_frames < 3:
        return xy.astype(np.float32)
    scale = float(np.nanmedian(np.maximum(np.asarray(scale_px, dtype=np.float64), 1.0)))
    seen = np.isfinite(xy).all(axis=2) & (confidence >= options.min_confidence)
    noise_var = (options.measurement_std * scale / np.maximum(confidence, 1e-3)) ** 2  # (t, k)
    q = (options.acceleration_std * scale) ** 2
    # Each (point, axis) is an independent 1-D constant-velocity filter; vectorise over them.
    z = xy.reshape(n_frames, n_points * 2)
    observed = np.repeat(seen, 2, axis=1)
    r = np.repeat(noise_var, 2, axis=1)
    m = n_points * 2
    mean_f = np.zeros((n_frames, m, 2))
    cov_f = np.zeros((n_frames, m, 2, 2))
    mean_p = np.zeros((n_frames, m, 2))
    cov_p = np.zeros((n_frames, m, 2, 2))
    mean = np.stack([np.where(observed[0], z[0], 0.0), np.zeros(m)], axis=1)
    big = 1e8
    cov = np.tile(np.diag([big, big]), (m, 1, 1))
    transitions = []
    for t in range(n_frames):
        dt = max(times[t] - times[t - 1], 1e-3) if t else 0.0
        f = np.array([[1.0, dt], [0.0, 1.0]])
        transitions.append(f)
        q_t = q * np.array([[dt**4 / 4, dt**3 / 2], [dt**3 / 2, dt**2]])
        mean = mean @ f.T
        cov = f @ cov @ f.T + q_t
        mean_p[t], cov_p[t] = mean, cov
        # Measurement update where observed (H = [1, 0]).
        innovation_var = cov[:, 0, 0] + r[t]
        gain = cov[:, :, 0] / innovation_var[:, None]
        residual = np.where(observed[t], z[t] - mean[:, 0], 0.0)
        gain = np.where(observed[t][:, None], gain, 0.0)
        mean = mean + gain * residual[:, None]
        cov = cov - gain[:, :, None] * cov[:, None, 0, :]
        mean_f[t], cov_f[t] = mean, cov
    smoothed = mean_f.copy()
    for t in range(n_frames - 2, -1, -1):
        f = transitions[t + 1]
        gain = cov_f[t] @ f.T @ np.linalg.inv(cov_p[t + 1])
        smoothed[t] = mean_f[t] + np.einsum("mij,mj->mi", gain, smoothed[t + 1] - mean_p[t + 1])
    out = smoothed[:, :, 0].reshape(n_frames, n_points, 2)
    return np.where(seen[:, :, None], out, xy).astype(np.float32)


def jitter(xy: np.ndarray, scale_px: np.ndarray) -> float:
    """Mean size of the frame-to-frame acceleration (second difference), in person heights.

    ``xy (t, k, 2)``; missing points (NaN) are left out. Real motion adds to it too, so compare
    smoothers on the same sequence, never absolute values across sequences.
    """
    second = xy[2:] - 2 * xy[1:-1] + xy[:-2]
    size = np.linalg.norm(second, axis=2) / np.maximum(np.asarray(scale_px)[1:-1, None], 1.0)
    return float(np.nanmean(size)) if np.isfinite(size).any() else math.nan


def lag_frames(reference_xy: np.ndarray, smoothed_xy: np.ndarray, max_lag: int = 10) -> int:
    """The delay (frames) of ``smoothed_xy`` behind ``reference_xy``: the shift that best lines up
    their frame-to-frame motion. 0 for a zero-lag smoother; online filters lag by 1-3 frames."""
    ref = np.diff(reference_xy, axis=0)
    out = np.diff(smoothed_xy, axis=0)
    best_lag, best_error = 0, math.inf
    for lag in range(0, max_lag + 1):
        a, b = ref[: len(ref) - lag], out[lag:]
        if len(a) < 3:
            break
        error = float(np.nanmean((a - b) ** 2))
        if error < best_error:
            best_lag, best_error = lag, error
    return best_lag
