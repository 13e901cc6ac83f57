"""Gait events and measures, after Zeni et al. (2008): heel strike where the heel is furthest
ahead of the pelvis along the walking direction, toe off where the toe is furthest behind.

The walking direction is found, not assumed: it is the main axis along which the two feet move
against each other (principal component of the left-minus-right foot vector, relative to the
pelvis), so walking across, towards or away from the camera, and on a treadmill, all work. Its
sign (which way is forward) comes from where the pelvis travels, or, on a treadmill where it
stays put, from stance being slower than swing (a foot drifts back slowly and swings forward
fast). COCO-17 has no feet: ankles stand in for heels and toes then.

A track walks when the feet pass each other periodically (stride 0.6-2.5 s) over a range that is
a real fraction of the body height; otherwise :func:`gait_events` returns None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal as scipy_signal

from posekit.analysis.reps import periodicity, robust_range
from posekit.analysis.tracks import fill_gaps, low_pass

Points = Mapping[str, np.ndarray]
_HEIGHT_PER_CHAIN = 1 / 0.79  # standing height / (trunk + thigh + shank), Winter's segment table
MIN_FEET_RANGE = 0.03  # body heights the feet must move against each other along the axis
MIN_STRIDE_S, MAX_STRIDE_S = 0.6, 2.5


@dataclass(frozen=True)
class GaitEvents:
    """Heel strikes and toe offs (rows within the track, with side), and the signals they came from.

    ``forward_left``/``forward_right``: ``(n,)`` heel position ahead of the pelvis along the
    walking direction, in body heights. ``axis`` the unit walking direction in the points' frame.
    """

    heel_strikes: list[tuple[int, str]]
    toe_offs: list[tuple[int, str]]
    forward_left: np.ndarray
    forward_right: np.ndarray
    axis: np.ndarray
    body_height: float


def _chain_length(points: Points) -> np.ndarray | None:
    """(n,) trunk + the longer leg (thigh + shank) per frame, in the points' unit."""
    needed = (
        "mid_shoulder",
        "mid_hip",
        "left_hip",
        "left_knee",
        "left_ankle",
        "right_hip",
        "right_knee",
        "right_ankle",
    )
    if any(name not in points for name in needed):
        return None

    def length(a: str, b: str) -> np.ndarray:
        return np.linalg.norm(points[a] - points[b], axis=1)

    legs = np.fmax(
        length("left_hip", "left_knee") + length("left_knee", "left_ankle"),
        length("right_hip", "right_knee") + length("right_knee", "right_ankle"),
    )
    return length("mid_shoulder", "mid_hip") + legs


def body_height(points: Points) -> float:
    """Standing height estimated from trunk, thigh and shank lengths (median over frames)."""
    chain = _chain_length(points)
    finite = chain[np.isfinite(chain)] if chain is not None else np.zeros(0)
    return float(np.median(finite) * _HEIGHT_PER_CHAIN) if finite.size else float("nan")


def body_height_per_frame(points: Points, fps: float) -> np.ndarray | None:
    """(n,) height per frame, a running median over about a second (people walking towards the
    camera grow in the picture, so one figure for the whole track would not do)."""
    chain = _chain_length(points)
    if chain is None or not np.isfinite(chain).any():
        return None
    window = max(3, int(fps) | 1)
    filled = fill_gaps(chain, chain.size)
    finite = np.isfinite(filled)
    smooth = filled.copy()
    smooth[finite] = scipy_signal.medfilt(filled[finite], window)
    return smooth * _HEIGHT_PER_CHAIN


def _detrended(values: np.ndarray, fps: float, window_s: float = 2.0) -> np.ndarray:
    """values minus their moving mean over ``window_s`` (NaN-aware)."""
    width = max(1, min(values.size, int(window_s * fps)))
    kernel = np.ones(width) / width
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    weight = np.convolve(finite.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        trend = np.convolve(filled, kernel, mode="same") / weight
    return values - trend


def _foot(points: Points, side: str, part: str) -> np.ndarray | None:
    for name in (f"{side}_{part}", f"{side}_ankle"):
        if name in points and np.isfinite(points[name]).any():
            return points[name]
    return None


def walking_axis(
    rel_left: np.ndarray, rel_right: np.ndarray, pelvis: np.ndarray, scale: np.ndarray, fps: float
) -> np.ndarray | None:
    """Unit forward direction in the picture, or None when the feet do not move against each other.

    ``rel_*`` feet relative to the pelvis in body heights, ``pelvis`` pixels, ``scale`` (n,)
    body height in pixels. Forward is where the pelvis travels; walking towards (away from) the
    camera, where the person grows (shrinks), it is down (up) the picture, the leading foot being
    nearer (further); on the spot, the direction the feet drift slowly (stance) is backwards.
    """
    diff = np.stack([_detrended(c, fps) for c in (rel_left - rel_right).T], axis=1)
    diff = diff[np.isfinite(diff).all(axis=1)]
    if diff.shape[0] < 10:
        return None
    _, _, vt = np.linalg.svd(diff - diff.mean(axis=0), full_matrices=False)
    axis = vt[0]
    finite = np.flatnonzero(np.isfinite(pelvis).all(axis=1) & np.isfinite(scale))
    if finite.size > 1:
        first, last = finite[0], finite[-1]
        travel = float(np.dot(pelvis[last] - pelvis[first], axis)) / float(np.median(scale[finite]))
        growth = float(np.log(scale[last] / scale[first]))
        if abs(growth) > 0.15 and abs(axis[1]) > abs(axis[0]):
            return axis if (axis[1] > 0) == (growth > 0) else -axis
        if abs(travel) > 0.5:
            return axis if travel > 0 else -axis
    both = np.concatenate([rel_left @ axis, rel_right @ axis])
    velocity = np.diff(both)
    velocity = velocity[np.isfinite(velocity)]
    backwards_share = float(np.mean(velocity > 0)) if velocity.size else 0.5
    return -axis if backwards_share > 0.5 else axis


def _events(values: np.ndarray, fps: float, stride_s: float, amplitude: float) -> np.ndarray:
    filled = np.where(np.isfinite(values), values, np.nanmedian(values))
    peaks, _ = scipy_signal.find_peaks(filled, distance=max(1, int(0.6 * stride_s * fps)), prominence=0.3 * amplitude)
    return peaks[np.isfinite(values[peaks])]


def _alternate(events: list[tuple[int, str]], strength: Mapping[tuple[int, str], float]) -> list[tuple[int, str]]:
    """Consecutive events of the same side merged (the stronger kept): a flicker cannot add a step."""
    kept: list[tuple[int, str]] = []
    for event in sorted(events):
        if kept and kept[-1][1] == event[1]:
            if strength[event] > strength[kept[-1]]:
                kept[-1] = event
            continue
        kept.append(event)
    return kept


def gait_events(points: Points, fps: float, sound: np.ndarray | None = None) -> GaitEvents | None:
    """Heel strikes and toe offs of a walking track, or None when it does not walk.

    ``points``: named points (:func:`~posekit.analysis.tracks.body_points`); ``sound`` ``(n,)``
    rows where the track can be trusted (gaps and swaps excluded).
    """
    events, _ = find_gait(points, fps, sound)
    return events


def find_gait(points: Points, fps: float, sound: np.ndarray | None = None) -> tuple[GaitEvents | None, str]:
    """:func:`gait_events` and, when there are none, why (for the summary's notes)."""
    height = body_height(points)
    scale = body_height_per_frame(points, fps) if "mid_hip" in points else None
    feet = {(s, p): _foot(points, s, p) for s in ("left", "right") for p in ("heel", "toe")}
    if scale is None or any(v is None for v in feet.values()):
        return None, "no gait: hips, knees or feet not seen"
    pelvis = points["mid_hip"].copy()
    if sound is not None:
        pelvis[~sound] = np.nan
    cutoff = min(6.0, 0.4 * fps)
    rel = {key: low_pass(foot - pelvis, fps, cutoff) / scale[:, None] for key, foot in feet.items() if foot is not None}
    axis = walking_axis(rel["left", "heel"], rel["right", "heel"], pelvis, scale, fps)
    if axis is None:
        return None, "no gait: too few frames with both feet seen"
    forward = {key: value @ axis for key, value in rel.items()}
    raw_difference = forward["left", "heel"] - forward["right", "heel"]
    difference = _detrended(raw_difference, fps)
    strength, stride_s = periodicity(difference, fps, MIN_STRIDE_S, MAX_STRIDE_S)
    low, high = robust_range(difference)
    passing = abs(float(np.nanmedian(raw_difference))) < 0.35 * (high - low)  # feet pass each other
    if not high - low >= MIN_FEET_RANGE:
        return None, "not walking: the feet do not move against each other"
    if strength < 0.3:
        return None, f"not walking: the feet do not alternate periodically (stride {MIN_STRIDE_S}-{MAX_STRIDE_S} s)"
    if not passing:
        return None, "not walking: one foot stays ahead of the other (the feet never pass)"
    strikes, offs = _side_events(forward, fps, stride_s)
    if len(strikes) < 4:
        return None, f"not walking: {len(strikes)} heel strikes found (needs 4)"
    return GaitEvents(strikes, offs, forward["left", "heel"], forward["right", "heel"], axis, height), ""


def _side_events(
    forward: Mapping[tuple[str, str], np.ndarray], fps: float, stride_s: float
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Heel strikes (heel furthest ahead) and toe offs (toe furthest behind), sides alternating."""
    strikes, offs, weights = [], [], {}
    for side in ("left", "right"):
        heel, toe = forward[side, "heel"], forward[side, "toe"]
        for row in _events(heel, fps, stride_s, robust_range(heel)[1] - robust_range(heel)[0]):
            strikes.append((int(row), side))
            weights[int(row), side] = float(heel[row])
        for row in _events(-toe, fps, stride_s, robust_range(toe)[1] - robust_range(toe)[0]):
            offs.append((int(row), side))
            weights[int(row), side] = float(-toe[row])
    return _alternate(strikes, weights), _alternate(offs, weights)


def _mean_sd(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": float("nan"), "sd": float("nan")}
    return {"mean": float(np.mean(values)), "sd": float(np.std(values))}


def _intervals(times: np.ndarray, limit: float) -> np.ndarray:
    """Intervals between events, those a missed or doubled event made (off the median by half) left out."""
    steps = np.diff(times)
    steps = steps[(steps > 0) & (steps < limit)]
    if steps.size == 0:
        return steps
    typical = float(np.median(steps))
    return steps[(steps > 0.5 * typical) & (steps < 1.5 * typical)]


def gait_measures(events: GaitEvents, timestamp_s: np.ndarray, points: Points, world: Points | None = None) -> dict:
    """Steps, cadence, step and stride time, stance, double support, step length, speed, symmetry."""
    strikes = events.heel_strikes
    times = np.array([timestamp_s[row] for row, _ in strikes])
    step_times = _intervals(times, MAX_STRIDE_S)
    by_side = {side: np.array([timestamp_s[r] for r, s in strikes if s == side]) for side in ("left", "right")}
    strides = np.concatenate([_intervals(by_side[s], 2 * MAX_STRIDE_S) for s in by_side])
    step_by_side: dict[str, list[float]] = {side: [] for side in ("left", "right")}
    typical = float(np.median(step_times)) if step_times.size else MAX_STRIDE_S
    for (prev_row, _), (row, side) in zip(strikes, strikes[1:], strict=False):
        step = timestamp_s[row] - timestamp_s[prev_row]
        if 0.5 * typical < step < 1.5 * typical:
            step_by_side[side].append(float(step))
    stance = {side: _stance_fraction(events, timestamp_s, side) for side in ("left", "right")}
    left, right = np.mean(step_by_side["left"] or [np.nan]), np.mean(step_by_side["right"] or [np.nan])
    cadence = 60.0 / float(np.mean(step_times)) if step_times.size else float("nan")
    lengths = [abs(float(events.forward_left[r] - events.forward_right[r])) for r, _ in strikes]
    measures: dict[str, Any] = {
        "steps": len(strikes),
        "cadence_steps_per_min": cadence,
        "heel_strikes": strikes,
        "toe_offs": events.toe_offs,
        "step_time_s": _mean_sd([float(s) for s in step_times]),
        "stride_time_s": _mean_sd([float(s) for s in strides]),
        "stance_fraction": stance,
        "double_support_fraction": _double_support(events, timestamp_s),
        "step_length_body_heights": float(np.nanmean(lengths)) if lengths else float("nan"),
        "symmetry_index_pct": float(100 * abs(left - right) / (0.5 * (left + right))),
    }
    measures["speed_body_heights_per_s"] = measures["step_length_body_heights"] * cadence / 60.0
    if world is not None and "left_heel" in world and "right_heel" in world:
        gaps = [np.linalg.norm((world["left_heel"][r] - world["right_heel"][r])[[0, 2]]) for r, _ in strikes]
        measures["step_length_m"] = float(np.nanmean(gaps))
        measures["speed_m_per_s"] = measures["step_length_m"] * cadence / 60.0
    return measures


def _stance_fraction(events: GaitEvents, timestamp_s: np.ndarray, side: str) -> float:
    """Mean share of each stride (heel strike to the same heel's next) before that foot's toe off."""
    strikes = np.array([r for r, s in events.heel_strikes if s == side], np.int64)
    offs = np.array([r for r, s in events.toe_offs if s == side], np.int64)
    if strikes.size < 2 or offs.size == 0:
        return float("nan")
    start, stop = strikes[:-1], strikes[1:]
    first = np.searchsorted(offs, start, side="right")  # first toe off after each strike
    after = np.searchsorted(offs, stop, side="left")  # toe offs before the next strike
    stride = timestamp_s[stop] - timestamp_s[start]
    good = (after - first == 1) & (stride > 0) & (stride < 2 * MAX_STRIDE_S)  # exactly one toe off inside
    if not good.any():
        return float("nan")
    off_times = timestamp_s[offs[np.minimum(first, offs.size - 1)]]
    return float(np.mean(((off_times - timestamp_s[start]) / stride)[good]))


def _double_support(events: GaitEvents, timestamp_s: np.ndarray) -> float:
    """Share of the time both feet are down: each heel strike to the other foot's next toe off."""
    strikes = events.heel_strikes
    offs = {side: np.array([r for r, s in events.toe_offs if s == side], np.int64) for side in ("left", "right")}
    total, support = 0.0, 0.0
    for (row, side), (next_row, _) in zip(strikes, strikes[1:], strict=False):
        step = timestamp_s[next_row] - timestamp_s[row]
        if not 0 < step < MAX_STRIDE_S:
            continue
        other = offs["right" if side == "left" else "left"]
        position = int(np.searchsorted(other, row, side="right"))
        total += step
        if position < other.size and other[position] < next_row:
            support += timestamp_s[other[position]] - timestamp_s[row]
    return float(support / total) if total > 0 else float("nan")
