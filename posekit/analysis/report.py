"""Plots (PNG, matplotlib's Agg backend) and one self-contained HTML report; they read results,
they compute nothing."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from posekit.io.writers import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from posekit.analysis.run import TrackAnalysis

_MAX_PLOT_POINTS = 4000  # long tracks are thinned for drawing only
_SIDE_COLOURS = {"left": "tab:orange", "right": "tab:blue"}


def _figure_png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _angle_groups(names: list[str]) -> dict[str, list[str]]:
    """Angles by joint, the two sides of one joint in one panel (``left_knee_flexion`` -> ``knee_flexion``)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        side, _, rest = name.partition("_")
        groups.setdefault(rest if side in ("left", "right") else name, []).append(name)
    return groups


def _mark_events(axes: Any, analysis: TrackAnalysis) -> None:
    """Reps shaded and heel strikes dotted, one artist each however many there are (hour-long tracks)."""
    time = analysis.track.timestamp_s
    span = axes.get_xaxis_transform()  # x in data, y 0..1 of the panel
    if analysis.reps:
        inside = np.zeros(time.size, bool)
        for rep in analysis.reps:
            inside[rep.start : rep.end + 1] = True
        axes.fill_between(time, 0, 1, where=inside, transform=span, color="tab:green", alpha=0.12, linewidth=0)
        axes.vlines(time[[rep.peak for rep in analysis.reps]], 0, 1, transform=span, color="tab:green", linewidth=0.8)
    if analysis.gait:
        for side, colour in _SIDE_COLOURS.items():
            rows = [row for row, s in analysis.gait["heel_strikes"] if s == side]
            axes.vlines(time[rows], 0, 1, transform=span, color=colour, linewidth=0.6, linestyle=":")


def angles_plot(analysis: TrackAnalysis) -> bytes:
    """One panel per joint (left orange, right blue), reps shaded, heel strikes dotted."""
    from matplotlib.figure import Figure

    track = analysis.track
    time = track.timestamp_s
    step = max(1, time.size // _MAX_PLOT_POINTS)
    shown = [name for name, values in analysis.angles.items() if np.isfinite(values).any()]
    groups = _angle_groups(shown)
    height = 0.8 + 1.25 * len(groups)
    figure = Figure(figsize=(9, height))
    panels = figure.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0]
    for axes, (joint, names) in zip(panels, groups.items(), strict=True):
        for name in names:
            side = name.partition("_")[0]
            colour = _SIDE_COLOURS.get(side, "tab:purple")
            axes.plot(time[::step], analysis.angles[name][::step], color=colour, linewidth=1, label=side)
        _mark_events(axes, analysis)
        axes.set_ylabel(f"{joint.replace('_', ' ')}\n(deg)", fontsize=7)
        axes.tick_params(labelsize=7)
    title = f"track {track.track_id}: joint angles (left orange, right blue)"
    if analysis.exercise:
        title += f"; {len(analysis.reps)} x {analysis.exercise} shaded green"
    if analysis.gait:
        title += "; heel strikes dotted"
    panels[0].set_title(title, fontsize=9)
    panels[-1].set_xlabel("time (s)")
    # fixed margins in inches: tight_layout measures every text and costs more than the drawing
    figure.subplots_adjust(left=0.09, right=0.98, top=1 - 0.3 / height, bottom=0.45 / height, hspace=0.12)
    return _figure_png(figure)


def gait_plot(analysis: TrackAnalysis) -> bytes:
    """Each heel's position ahead of the pelvis, heel strikes and toe offs marked, and stance."""
    from matplotlib.figure import Figure

    gait = analysis.gait or {}
    events = gait["_events"]
    time = analysis.track.timestamp_s
    figure = Figure(figsize=(9, 3.2))
    axes, bars = figure.subplots(1, 2, gridspec_kw={"width_ratios": [4, 1]})
    for side, values, colour in (
        ("left", events.forward_left, "tab:orange"),
        ("right", events.forward_right, "tab:blue"),
    ):
        step = max(1, time.size // _MAX_PLOT_POINTS)
        axes.plot(time[::step], values[::step], color=colour, linewidth=1, label=f"{side} heel ahead of pelvis")
        strikes = [row for row, s in gait["heel_strikes"] if s == side]
        offs = [row for row, s in gait["toe_offs"] if s == side]
        axes.plot(time[strikes], values[strikes], "v", color=colour, label=f"{side} heel strike")
        axes.plot(time[offs], values[offs], "^", color=colour, markerfacecolor="none", label=f"{side} toe off")
    axes.set_title(
        f"track {analysis.track.track_id}: {gait['steps']} steps, {gait['cadence_steps_per_min']:.0f} steps/min"
    )
    axes.set_xlabel("time (s)")
    axes.set_ylabel("body heights")
    axes.legend(fontsize=6, ncol=3)
    stance = gait["stance_fraction"]
    bars.bar(
        ["left", "right"],
        [np.nan_to_num(stance["left"]), np.nan_to_num(stance["right"])],
        color=["tab:orange", "tab:blue"],
    )
    bars.set_ylim(0, 1)
    bars.set_title("stance fraction")
    figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.15, wspace=0.2)
    return _figure_png(figure)


def _table(entry: dict[str, Any]) -> str:
    rows = [f"<tr><th>frames</th><td>{entry['first_frame']}–{entry['last_frame']}</td></tr>"]
    reps = entry.get("repetitions")
    if reps:
        rows.append(f"<tr><th>repetitions</th><td>{reps['count']} × {html.escape(reps['exercise'])}</td></tr>")
        for number, rep in enumerate(reps["reps"], 1):
            rows.append(
                f"<tr><td>rep {number}</td><td>frames {rep['start_frame']}–{rep['peak_frame']}–{rep['end_frame']}, "
                f"{rep['range_deg']}°, {rep['duration_s']} s</td></tr>"
            )
    gait = entry.get("gait")
    if gait:
        rows.append(
            f"<tr><th>gait</th><td>{gait['steps']} steps, {gait['cadence_steps_per_min']} steps/min, step "
            f"{gait['step_time_s']['mean']} s, stance L {gait['stance_fraction']['left']} / R "
            f"{gait['stance_fraction']['right']}, symmetry index {gait['symmetry_index_pct']}%</td></tr>"
        )
    for name, stats in entry["angles"].items():
        rows.append(
            f"<tr><td>{html.escape(name)}</td>"
            f"<td>{stats['min_deg']} … {stats['max_deg']}° (mean {stats['mean_deg']})</td></tr>"
        )
    for note in entry.get("notes", []):
        rows.append(f"<tr><th>note</th><td>{html.escape(note)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _overview(summary: dict[str, Any]) -> str:
    """One row per person, linking to their section."""
    rows = ["<tr><th>person</th><th>frames</th><th>repetitions</th><th>gait</th><th>notes</th></tr>"]
    for entry in summary["tracks"]:
        reps = entry.get("repetitions")
        gait = entry.get("gait")
        counted = f"{reps['count']} × {html.escape(reps['exercise'])}" if reps else ""
        walked = f"{gait['steps']} steps, {gait['cadence_steps_per_min']} steps/min" if gait else ""
        notes = html.escape("; ".join(entry.get("notes", [])))
        rows.append(
            f"<tr><td><a href='#track-{entry['track_id']}'>track {entry['track_id']}</a></td>"
            f"<td>{entry['first_frame']}–{entry['last_frame']}</td><td>{counted}</td><td>{walked}</td>"
            f"<td>{notes}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def write_report(out_dir: Path, summary: dict[str, Any], analyses: list[TrackAnalysis]) -> None:
    """``plots/track_<id>_angles.png`` (and ``_gait.png``) and ``report.html`` with them embedded."""
    plots = out_dir / "plots"
    plots.mkdir(exist_ok=True)
    sections = []
    for entry, analysis in zip(summary["tracks"], analyses, strict=True):
        images = []
        if any(np.isfinite(v).any() for v in analysis.angles.values()):
            images.append(("angles", angles_plot(analysis)))
        if analysis.gait:
            images.append(("gait", gait_plot(analysis)))
        tags = []
        for kind, png in images:
            atomic_write_bytes(plots / f"track_{entry['track_id']}_{kind}.png", png)
            encoded = base64.b64encode(png).decode("ascii")
            tags.append(f'<img alt="track {entry["track_id"]} {kind}" src="data:image/png;base64,{encoded}">')
        sections.append(
            f"<section id='track-{entry['track_id']}'><h2>Person (track {entry['track_id']})</h2>"
            f"{_table(entry)}{''.join(tags)}</section>"
        )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>posekit analysis</title><style>"
        "body{font-family:sans-serif;margin:1.5em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}img{max-width:100%;display:block}"
        "</style></head><body>"
        f"<h1>Movement analysis</h1><p>{html.escape(str(summary['source']))}: {summary['frames']} frames at "
        f"{summary['fps']:.2f} fps, {len(summary['tracks'])} tracks.</p>{_overview(summary)}"
        f"{''.join(sections)}</body></html>"
    )
    atomic_write_text(out_dir / "report.html", page)
