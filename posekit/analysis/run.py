"""One track file in, the whole analysis out: summary.json, angles.csv, events.csv, plots, report.

:func:`analyse_track` is the arithmetic for one person (angles, reps, gait, classes);
:func:`run_analysis` reads a file, analyses every track and writes the outputs, each atomically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posekit.analysis.angles import DEFAULT_ANGLES, angles_from_points, check_angle_names
from posekit.analysis.gait import find_gait, gait_measures
from posekit.analysis.reps import PRESETS, Repetition, auto_preset, check_exercise, count_reps_in
from posekit.analysis.tracks import MAX_GAP_S, Recording, Track, body_points, load_recording, valid_runs
from posekit.io.writers import atomic_write_json, atomic_write_text

logger = logging.getLogger(__name__)

MIN_TRACK_S = 1.0  # shorter tracks get angles only, no reps or gait
MIN_SOUND_SHARE = 0.5  # tracks seen in less of their span than this are "too gappy"
SWAP_JUMP_TORSOS = 1.0  # the pelvis jumping this many torso lengths in one frame: a track swap
CUTOFF_HZ = 6.0  # low-pass for angles, reps and gait (capped below Nyquist)


@dataclass(frozen=True)
class AnalysisOptions:
    exercise: str | None = None
    angles: tuple[str, ...] | None = None
    classifier: Path | None = None
    render: bool = False


@dataclass
class TrackAnalysis:
    """Everything found for one track (rows are the track's, not the file's)."""

    track: Track
    angles: dict[str, np.ndarray]
    exercise: str | None = None
    reps: list[Repetition] = field(default_factory=list)
    gait: dict[str, Any] | None = None
    segments: list[tuple[int, int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def sound_segments(points: dict[str, np.ndarray], fps: float) -> list[tuple[int, int]]:
    """Row runs where the pelvis is known and does not jump (a jump is a track swap)."""
    if "mid_hip" not in points or "mid_shoulder" not in points:
        return []
    pelvis = points["mid_hip"]
    torso = float(np.nanmedian(np.linalg.norm(points["mid_shoulder"] - pelvis, axis=1)))
    known = np.isfinite(pelvis).all(axis=1)
    step = np.linalg.norm(np.diff(pelvis, axis=0), axis=1)
    jump = np.concatenate([[False], step > SWAP_JUMP_TORSOS * torso])
    known &= ~jump
    return valid_runs(known, max(3, int(MIN_TRACK_S * fps)))


def analyse_track(track: Track, options: AnalysisOptions, classifier: Any = None) -> TrackAnalysis:
    """Angles, reps (with an exercise), gait and class segments of one track."""
    fps = track.fps
    cutoff = min(CUTOFF_HZ, 0.4 * fps)
    points = body_points(track, cutoff_hz=cutoff, max_gap_s=MAX_GAP_S)
    names = options.angles or DEFAULT_ANGLES
    result = TrackAnalysis(track, angles_from_points(points, names))
    duration = float(track.timestamp_s[-1] - track.timestamp_s[0]) if len(track) else 0.0
    segments = sound_segments(points, fps)
    sound_share = sum(b - a for a, b in segments) / max(1, len(track))
    if duration < MIN_TRACK_S or len(track) < 10:
        result.notes.append(f"too short to analyse ({len(track)} frames, {duration:.2f} s; needs {MIN_TRACK_S:g} s)")
        segments = []
    elif sound_share < MIN_SOUND_SHARE:
        result.notes.append(f"too gappy to analyse ({100 * sound_share:.0f}% of its span usable)")
        segments = []
    sound = np.zeros(len(track), bool)
    for a, b in segments:
        sound[a:b] = True
    if segments:
        events, why_not = find_gait({k: np.where(sound[:, None], v, np.nan) for k, v in points.items()}, fps, sound)
        if events is None:
            result.notes.append(why_not)
        else:
            world = body_points(track, world=True, cutoff_hz=cutoff) if track.world_xyz is not None else None
            result.gait = gait_measures(events, track.timestamp_s, points, world)
            result.gait["_events"] = events
    if options.exercise is not None:
        _count(result, options.exercise, points, segments)
    if classifier is not None and segments:
        result.segments = classifier.segments(points, track.timestamp_s, sound)
    return result


def _count(
    result: TrackAnalysis, exercise: str, points: dict[str, np.ndarray], segments: list[tuple[int, int]]
) -> None:
    track = result.track
    if exercise == "auto":
        if result.gait is not None:
            result.exercise = "auto"
            result.notes.append("walking: auto counts no repetitions")
            return
        preset = auto_preset(points, track.fps) if segments else None
        result.exercise = preset.name if preset else "auto"
    else:
        preset = PRESETS[exercise]
        result.exercise = exercise
    if preset is not None and segments:
        result.reps = count_reps_in(preset, points, track.timestamp_s, segments)


# --- outputs ----------------------------------------------------------------------------------


def _finite(value: float, decimals: int = 3) -> float | None:
    return round(float(value), decimals) if np.isfinite(value) else None


def track_summary(analysis: TrackAnalysis) -> dict[str, Any]:
    """The per-track entry of summary.json."""
    track = analysis.track
    frames = track.frame_index
    entry: dict[str, Any] = {"track_id": track.track_id, "first_frame": int(frames[0]), "last_frame": int(frames[-1])}
    entry["frames_seen"] = int(track.seen.sum()) if track.seen.size else len(track)
    if analysis.exercise is not None:
        entry["repetitions"] = {
            "exercise": analysis.exercise,
            "count": len(analysis.reps),
            "reps": [
                {
                    "start_frame": int(frames[r.start]),
                    "peak_frame": int(frames[r.peak]),
                    "end_frame": int(frames[r.end]),
                    "range_deg": _finite(r.range_deg, 1),
                    "duration_s": _finite(r.duration_s),
                    "down_s": _finite(r.down_s),
                    "up_s": _finite(r.up_s),
                }
                for r in analysis.reps
            ],
        }
        if analysis.reps:
            span = float(track.timestamp_s[analysis.reps[-1].end] - track.timestamp_s[analysis.reps[0].start])
            entry["repetitions"]["tempo_reps_per_min"] = _finite(
                60 * len(analysis.reps) / span if span > 0 else np.nan, 1
            )
    entry["gait"] = _gait_summary(analysis) if analysis.gait else None
    entry["angles"] = {
        name: {
            "min_deg": _finite(np.nanmin(v), 1),
            "max_deg": _finite(np.nanmax(v), 1),
            "mean_deg": _finite(np.nanmean(v), 1),
        }
        for name, v in analysis.angles.items()
        if np.isfinite(v).any()
    }
    if analysis.segments:
        entry["classes"] = [
            {"start_frame": int(frames[a]), "end_frame": int(frames[b - 1]), "class": name}
            for a, b, name in analysis.segments
        ]
    if analysis.notes:
        entry["notes"] = analysis.notes
    return entry


def _gait_summary(analysis: TrackAnalysis) -> dict[str, Any]:
    gait = analysis.gait or {}
    frames = analysis.track.frame_index

    def events(key: str) -> list[dict[str, Any]]:
        return [{"frame_index": int(frames[row]), "side": side} for row, side in gait[key]]

    out: dict[str, Any] = {
        "steps": gait["steps"],
        "cadence_steps_per_min": _finite(gait["cadence_steps_per_min"], 2),
        "heel_strikes": events("heel_strikes"),
        "toe_offs": events("toe_offs"),
        "step_time_s": {k: _finite(v) for k, v in gait["step_time_s"].items()},
        "stride_time_s": {k: _finite(v) for k, v in gait["stride_time_s"].items()},
        "stance_fraction": {k: _finite(v) for k, v in gait["stance_fraction"].items()},
        "symmetry_index_pct": _finite(gait["symmetry_index_pct"], 1),
    }
    for key in (
        "double_support_fraction",
        "step_length_body_heights",
        "speed_body_heights_per_s",
        "step_length_m",
        "speed_m_per_s",
    ):
        if key in gait:
            out[key] = _finite(gait[key])
    return out


def angles_csv(analyses: list[TrackAnalysis]) -> str:
    """``frame,time,track,angle,degrees``; rows without a value are left out."""
    chunks = ["frame,time,track,angle,degrees\n"]
    for analysis in analyses:
        track = analysis.track
        prefixes: list[str] | None = None  # "frame,time,track," once per track, shared by its angles
        for name, values in analysis.angles.items():
            keep = np.flatnonzero(np.isfinite(values))
            if not keep.size:
                continue
            if prefixes is None:
                times = track.timestamp_s.tolist()
                prefixes = [
                    f"{f},{t:.4f},{track.track_id}," for f, t in zip(track.frame_index.tolist(), times, strict=True)
                ]
            degrees = values[keep].tolist()
            chunks.append(
                "\n".join([f"{prefixes[i]}{name},{d:.2f}" for i, d in zip(keep.tolist(), degrees, strict=True)])
            )
            chunks.append("\n")
    return "".join(chunks)


def events_csv(analyses: list[TrackAnalysis]) -> str:
    """``track,event,side,frame,end_frame,detail``: reps, heel strikes, toe offs, class segments."""
    rows = ["track,event,side,frame,end_frame,detail"]
    for analysis in analyses:
        tid, frames = analysis.track.track_id, analysis.track.frame_index
        for number, rep in enumerate(analysis.reps, 1):
            rows.append(
                f"{tid},rep,,{frames[rep.start]},{frames[rep.end]},"
                f"{analysis.exercise} #{number} peak {frames[rep.peak]} range {rep.range_deg:.1f} deg"
            )
        if analysis.gait:
            for key, label in (("heel_strikes", "heel_strike"), ("toe_offs", "toe_off")):
                rows += [f"{tid},{label},{side},{frames[row]},," for row, side in analysis.gait[key]]
        rows += [f"{tid},class,,{frames[a]},{frames[b - 1]},{name}" for a, b, name in analysis.segments]
    return "\n".join(rows) + "\n"


def summary_of(recording: Recording, analyses: list[TrackAnalysis]) -> dict[str, Any]:
    return {
        "source": recording.source,
        "fps": round(recording.fps, 4),
        "frames": int(recording.frame_index.size),
        "tracks": [track_summary(a) for a in analyses],
        **(
            {"skipped_lines": recording.skipped_lines, "first_skipped": recording.skipped_note}
            if recording.skipped_lines
            else {}
        ),
    }


def analyse_recording(recording: Recording, options: AnalysisOptions) -> list[TrackAnalysis]:
    if options.exercise is not None:
        check_exercise(options.exercise)
    if options.angles:
        check_angle_names(options.angles)
    classifier = None
    if options.classifier is not None:
        from posekit.analysis.classify import PoseClassifier

        classifier = PoseClassifier.load(options.classifier)
    return [analyse_track(track, options, classifier) for track in recording.tracks]


def run_analysis(track_jsonl: Path, out_dir: Path, options: AnalysisOptions, *, video: str | None = None) -> dict:
    """Analyses every track of ``track_jsonl`` into ``out_dir`` and returns the summary.

    Writes summary.json, angles.csv, events.csv, ``plots/*.png`` and report.html (each
    atomically); with ``options.render`` and a ``video`` (or the file's own source) also
    ``<stem>_analysis.mp4``. Unknown exercise or angle names raise a UsageError before anything
    is written; an unreadable file raises an InputError.
    """
    if options.exercise is not None:
        check_exercise(options.exercise)
    if options.angles:
        check_angle_names(options.angles)
    recording = load_recording(track_jsonl)
    analyses = analyse_recording(recording, options)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summary_of(recording, analyses)
    atomic_write_text(out_dir / "angles.csv", angles_csv(analyses))
    atomic_write_text(out_dir / "events.csv", events_csv(analyses))
    from posekit.analysis.report import write_report

    write_report(out_dir, summary, analyses)
    atomic_write_json(out_dir / "summary.json", summary)
    if options.render:
        from posekit.analysis.render import render_analysis

        render_analysis(video or recording.source, track_jsonl, out_dir, analyses)
    return summary
