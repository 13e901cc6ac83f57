"""Repetitions: exercise presets as data, counted with hysteresis on one signal per exercise.

A preset names a signal (an angle, or a body-relative measure such as "wrists above the
shoulders, in torso lengths"), two thresholds and the least range a rep must cover. A rep starts
when the signal leaves its resting band, turns beyond the ``enter`` threshold and ends when it is
back below ``leave``: a partial rep that never crosses ``enter`` is not counted, and noise cannot
count twice because the signal must cross the whole band between the thresholds. ``relative``
thresholds are fractions of the track's own robust range (5th to 95th percentile), so another
body or camera works without tuning; ``absolute`` ones are in the signal's body-relative unit
(jumping jacks: arms overhead AND feet apart, each measured against the person's torso).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from posekit.analysis.angles import angles_from_points
from posekit.analysis.tracks import valid_runs
from posekit.errors import UsageError

Points = Mapping[str, np.ndarray]


def _mean_of(names: tuple[str, ...]) -> Callable[[Points], np.ndarray | None]:
    """The mean of the named angles where any is known (one side stands in for both)."""

    def signal(points: Points) -> np.ndarray | None:
        values = list(angles_from_points(points, names).values())
        if not values:
            return None
        stacked = np.vstack(values)
        known = np.isfinite(stacked)
        count = known.sum(axis=0)
        total = np.where(known, stacked, 0.0).sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    return signal


def torso_length(points: Points) -> np.ndarray | None:
    """``(n,)`` mid-hip to mid-shoulder distance, smoothed to its running median (body scale)."""
    if "mid_hip" not in points or "mid_shoulder" not in points:
        return None
    length = np.linalg.norm(points["mid_shoulder"] - points["mid_hip"], axis=1)
    finite = length[np.isfinite(length)]
    if finite.size == 0:
        return None
    return np.full(length.shape, float(np.median(finite)))


def wrists_above_shoulders(points: Points) -> np.ndarray | None:
    """Height of the lower wrist above the shoulders' mean, in torso lengths (both arms up: > 0)."""
    torso = torso_length(points)
    if torso is None or "left_wrist" not in points or "right_wrist" not in points:
        return None
    lower_wrist_y = np.maximum(points["left_wrist"][:, 1], points["right_wrist"][:, 1])  # NaN if either is
    return (points["mid_shoulder"][:, 1] - lower_wrist_y) / torso


def elbows_above_shoulders(points: Points) -> np.ndarray | None:
    """Height of the lower elbow above the shoulders' mean, in torso lengths."""
    torso = torso_length(points)
    if torso is None or "left_elbow" not in points or "right_elbow" not in points:
        return None
    lower_elbow_y = np.maximum(points["left_elbow"][:, 1], points["right_elbow"][:, 1])
    return (points["mid_shoulder"][:, 1] - lower_elbow_y) / torso


def feet_apart(points: Points) -> np.ndarray | None:
    """Distance between the ankles in torso lengths."""
    torso = torso_length(points)
    if torso is None or "left_ankle" not in points or "right_ankle" not in points:
        return None
    return np.linalg.norm(points["left_ankle"] - points["right_ankle"], axis=1) / torso


_ARMS_OVERHEAD = 0.3  # lower wrist this many torso lengths above the shoulders
_ELBOWS_UP = 0.1  # and the lower elbow this many
_FEET_APART = 0.8  # ankles this many torso lengths apart


def jumping_jack_score(points: Points) -> np.ndarray | None:
    """min(wrists overhead, elbows up, feet apart), each 1.0 at its threshold: >= 1 only when all
    hold; NaN when any point is missing (a missing arm never passes for a raised one)."""
    arms, elbows, feet = wrists_above_shoulders(points), elbows_above_shoulders(points), feet_apart(points)
    if arms is None or elbows is None or feet is None:
        return None
    return np.minimum(np.minimum(arms / _ARMS_OVERHEAD, elbows / _ELBOWS_UP), feet / _FEET_APART)


def trunk_lean(points: Points) -> np.ndarray | None:
    """Unsigned trunk angle from the vertical, degrees (0 upright, 90 lying)."""
    if "mid_hip" not in points or "mid_shoulder" not in points:
        return None
    delta = points["mid_shoulder"] - points["mid_hip"]
    return np.degrees(np.arctan2(np.abs(delta[:, 0]), -delta[:, 1]))


SIGNALS: dict[str, Callable[[Points], np.ndarray | None]] = {
    "knee_flexion": _mean_of(("left_knee_flexion", "right_knee_flexion")),
    "hip_flexion": _mean_of(("left_hip_flexion", "right_hip_flexion")),
    "elbow_flexion": _mean_of(("left_elbow_flexion", "right_elbow_flexion")),
    "shoulder_flexion": _mean_of(("left_shoulder_flexion", "right_shoulder_flexion")),
    "shoulder_abduction": _mean_of(("left_shoulder_abduction", "right_shoulder_abduction")),
    "wrists_above_shoulders": wrists_above_shoulders,
    "jumping_jack_score": jumping_jack_score,
    "trunk_lean": trunk_lean,
}
"""Rep signals by name: named points -> ``(n,)`` values (None when the points are not held)."""


@dataclass(frozen=True)
class ExercisePreset:
    """How one exercise is counted.

    ``signal`` rises from rest to the rep's turning point. ``thresholds="relative"``: ``enter`` and
    ``leave`` are fractions of the track's robust range of the signal, and a track whose range is
    under ``min_range`` has no reps; ``"absolute"``: they are values of the signal. ``range_signal``
    is the angle (degrees) whose range each rep reports. ``gate``: the turning point only counts
    while that signal lies within ``gate_range`` (push-ups need a lying trunk).
    """

    name: str
    signal: str
    range_signal: str
    thresholds: Literal["relative", "absolute"]
    enter: float
    leave: float
    min_range: float
    min_rep_s: float = 0.4
    max_rep_s: float = 10.0
    gate: str | None = None
    gate_range: tuple[float, float] = (-np.inf, np.inf)


PRESETS: dict[str, ExercisePreset] = {
    p.name: p
    for p in (
        ExercisePreset(
            "squat", "knee_flexion", "knee_flexion", "relative", 0.6, 0.3, 40.0, gate="trunk_lean", gate_range=(0, 60)
        ),
        ExercisePreset(
            "lunge", "knee_flexion", "knee_flexion", "relative", 0.6, 0.3, 35.0, gate="trunk_lean", gate_range=(0, 45)
        ),
        ExercisePreset(
            "push_up",
            "elbow_flexion",
            "elbow_flexion",
            "relative",
            0.6,
            0.3,
            35.0,
            gate="trunk_lean",
            gate_range=(50, 130),
        ),
        ExercisePreset("sit_up", "hip_flexion", "hip_flexion", "relative", 0.6, 0.3, 35.0),
        ExercisePreset(
            "biceps_curl",
            "elbow_flexion",
            "elbow_flexion",
            "relative",
            0.6,
            0.3,
            50.0,
            gate="trunk_lean",
            gate_range=(0, 45),
        ),
        ExercisePreset(
            "shoulder_press",
            "wrists_above_shoulders",
            "shoulder_flexion",
            "relative",
            0.65,
            0.3,
            0.45,
            gate="trunk_lean",
            gate_range=(0, 45),
        ),
        ExercisePreset(
            "jumping_jack",
            "jumping_jack_score",
            "shoulder_abduction",
            "absolute",
            1.0,
            0.3,
            0.0,
            min_rep_s=0.3,
            max_rep_s=4.0,
        ),
    )
}
"""Exercise presets by name (plus ``auto``: see :func:`auto_preset`)."""

AUTO_CANDIDATES = ("knee_flexion", "hip_flexion", "elbow_flexion", "shoulder_flexion")


def check_exercise(name: str) -> str:
    if name != "auto" and name not in PRESETS:
        raise UsageError(f"unknown exercise {name!r}; known: auto, {', '.join(sorted(PRESETS))}")
    return name


@dataclass(frozen=True)
class Repetition:
    """One counted rep: frame rows within the track (``start <= peak <= end``), seconds, degrees."""

    start: int
    peak: int
    end: int
    range_deg: float
    duration_s: float
    down_s: float
    up_s: float


def robust_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < 3:
        return (np.nan, np.nan)
    low, high = np.percentile(finite, [5, 95])
    return float(low), float(high)


def thresholds_for(preset: ExercisePreset, values: np.ndarray) -> tuple[float, float] | None:
    """(enter, leave) in signal units for this track, or None when it moves too little."""
    if preset.thresholds == "absolute":
        return preset.enter, preset.leave
    low, high = robust_range(values)
    if not np.isfinite(low) or high - low < preset.min_range:
        return None
    return low + preset.enter * (high - low), low + preset.leave * (high - low)


def hysteresis_crossings(values: np.ndarray, enter: float, leave: float) -> list[tuple[int, int, int]]:
    """(start, peak, end) of every excursion from below ``leave`` to above ``enter`` and back.

    ``start`` is the last row at or below ``leave`` before the excursion, ``end`` the first one
    after; NaN rows break an excursion (a gap cannot join two halves into a rep).
    """
    below = values <= leave
    above = values >= enter
    found = []
    for run_start, run_stop in valid_runs(np.isfinite(values)):
        state_low_at = -1
        peak = -1
        for i in range(run_start, run_stop):
            if below[i]:
                if peak >= 0 and state_low_at >= 0:
                    found.append((state_low_at, peak, i))
                state_low_at, peak = i, -1
            elif above[i] and state_low_at >= 0 and (peak < 0 or values[i] > values[peak]):
                peak = i
    return found


def count_reps_in(
    preset: ExercisePreset, points: Points, timestamp_s: np.ndarray, segments: list[tuple[int, int]]
) -> list[Repetition]:
    """Reps of one track, excursions taken within ``segments`` (rows where the track is sound)."""
    values = SIGNALS[preset.signal](points)
    if values is None:
        return []
    sound = np.full(values.shape, np.nan)
    for a, b in segments:
        sound[a:b] = values[a:b]
    limits = thresholds_for(preset, sound)
    if limits is None:
        return []
    ranged = SIGNALS[preset.range_signal](points)
    gate = SIGNALS[preset.gate](points) if preset.gate else None
    reps = []
    for start, peak, end in hysteresis_crossings(sound, *limits):
        duration = float(timestamp_s[end] - timestamp_s[start])
        if not preset.min_rep_s <= duration <= preset.max_rep_s:
            continue
        if gate is not None and not preset.gate_range[0] <= gate[peak] <= preset.gate_range[1]:
            continue
        window = ranged[start : end + 1] if ranged is not None else sound[start : end + 1]
        span = float(np.nanmax(window) - np.nanmin(window)) if np.isfinite(window).any() else float("nan")
        reps.append(
            Repetition(
                start,
                peak,
                end,
                span,
                duration,
                float(timestamp_s[peak] - timestamp_s[start]),
                float(timestamp_s[end] - timestamp_s[peak]),
            )
        )
    return reps


def periodicity(
    values: np.ndarray, fps: float, min_period_s: float = 0.5, max_period_s: float = 8.0
) -> tuple[float, float]:
    """(strength 0..1, period s) of the strongest repeat in ``values`` (normalised autocorrelation)."""
    finite = values[np.isfinite(values)]
    if finite.size < 4 * max(2, int(min_period_s * fps)):
        return 0.0, float("nan")
    centred = finite - finite.mean()
    energy = float(np.dot(centred, centred))
    if energy <= 0:
        return 0.0, float("nan")
    size = 1 << int(np.ceil(np.log2(2 * centred.size)))
    spectrum = np.fft.rfft(centred, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: centred.size] / energy
    low = max(1, int(min_period_s * fps))
    high = min(centred.size // 2, int(max_period_s * fps))
    if high <= low:
        return 0.0, float("nan")
    lag = low + int(np.argmax(acf[low:high]))
    return float(max(0.0, acf[lag])), lag / fps


def auto_preset(points: Points, fps: float) -> ExercisePreset | None:
    """The candidate angle that repeats most strongly (strength x range), as a relative preset."""
    best: tuple[float, str] | None = None
    for name in AUTO_CANDIDATES:
        values = SIGNALS[name](points)
        if values is None:
            continue
        strength, _ = periodicity(values, fps)
        low, high = robust_range(values)
        if strength < 0.4 or not np.isfinite(low) or high - low < 30.0:
            continue
        score = strength * (high - low)
        if best is None or score > best[0]:
            best = (score, name)
    if best is None:
        return None
    return ExercisePreset(f"auto:{best[1]}", best[1], best[1], "relative", 0.6, 0.3, 30.0)


def presets_table() -> str:
    """The exercise presets as a Markdown table (embedded in docs/analysis.md, kept equal by a test)."""
    rows = [
        "| exercise | signal | thresholds | enter | leave | least range | rep length (s) | counted only while |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for preset in PRESETS.values():
        gate = f"{preset.gate} in {preset.gate_range[0]:g}..{preset.gate_range[1]:g}" if preset.gate else ""
        rows.append(
            f"| `{preset.name}` | {preset.signal} (range reported: {preset.range_signal}) | {preset.thresholds} "
            f"| {preset.enter:g} | {preset.leave:g} | {preset.min_range:g} | {preset.min_rep_s:g}-{preset.max_rep_s:g} "
            f"| {gate} |"
        )
    return "\n".join(rows) + "\n"
