"""``posekit analyze SOURCE --out DIR``: joint angles, repetitions, gait and a report per person.

SOURCE is a video (tracked first, with the usual track flags; DIR/<stem>.jsonl is written too)
or a track JSONL from ``posekit track``. Writes DIR/summary.json, angles.csv, events.csv,
plots/*.png and report.html; with --render also DIR/<stem>_analysis.mp4.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posekit.cli.progress import Progress
from posekit.cli.track import add_model_and_tracking_arguments, video_options_from_args
from posekit.errors import InputError, PosekitError, UsageError

_TRACK_SUFFIXES = (".jsonl", ".csv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("analyze", help="angles, repetitions, gait and a report per tracked person")
    parser.description = __doc__
    parser.add_argument("source", metavar="SOURCE", help="a video (tracked first) or a posekit track JSONL")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--exercise",
        default=None,
        help="count repetitions: squat, lunge, push_up, sit_up, "
        "biceps_curl, shoulder_press, jumping_jack, or auto (the dominant periodic angle)",
    )
    parser.add_argument(
        "--angles",
        default=None,
        help="comma-separated angle names (default: the main joint angles and trunk tilt; list: docs/analysis.md)",
    )
    parser.add_argument("--classifier", type=Path, default=None, help="a model from `posekit classify fit`")
    parser.add_argument("--render", action="store_true", help="also DIR/<stem>_analysis.mp4 with angles and rep counts")
    parser.add_argument(
        "--smooth", choices=["online", "offline", "none"], default="online", help="tracking smoother (video only)"
    )
    group = parser.add_argument_group("frames (video only)")
    group.add_argument("--start", type=float, default=0.0, help="start at this time, seconds")
    group.add_argument("--end", type=float, default=None, help="stop before this time, seconds")
    group.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    group.add_argument("--stride", type=int, default=1, help="use every n-th frame")
    group.add_argument("--fps", type=float, default=30.0, help="frame rate of a folder of frames")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_and_tracking_arguments(parser)


def _options(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from posekit.analysis import AnalysisOptions
    from posekit.analysis.angles import check_angle_names
    from posekit.analysis.reps import check_exercise

    angles = tuple(a.strip() for a in args.angles.split(",") if a.strip()) if args.angles else None
    if angles:
        check_angle_names(angles)
    if args.exercise is not None:
        check_exercise(args.exercise)
    return AnalysisOptions(exercise=args.exercise, angles=angles, classifier=args.classifier, render=args.render)


def _track_video(args: argparse.Namespace) -> Path:
    from posekit import ReadOptions, open_source
    from posekit.tasks import track_to_folder

    options = video_options_from_args(args)
    read_options = ReadOptions(
        start_s=args.start, end_s=args.end, max_frames=args.max_frames, stride=args.stride, folder_fps=args.fps
    )
    with open_source(args.source, read_options) as source:
        with Progress(source.frames_to_read, "track", enabled=not args.quiet) as progress:
            summary = track_to_folder(
                source, args.out, options, on_frame=lambda poses, tracks: progress.update(note=f"{len(poses)} people")
            )
        if summary.frames == 0:
            raise InputError(source.name, "no frames in the chosen range")
        return args.out / f"{source.stem}.jsonl"


def run(args: argparse.Namespace) -> int:
    from posekit.analysis import run_analysis

    try:
        options = _options(args)
        args.out.mkdir(parents=True, exist_ok=True)
        is_track = (
            Path(args.source).suffix.lower() in _TRACK_SUFFIXES
            or Path(args.source).is_dir()
            and any(Path(args.source).glob("*_keypoints.json"))
        )
        track_file = Path(args.source) if is_track else _track_video(args)
        summary = run_analysis(track_file, args.out, options, video=None if is_track else str(args.source))
    except UsageError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"posekit: cannot analyze {exc}", file=sys.stderr)
        return 1
    except PosekitError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"posekit: cannot use --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    _report(summary, args.out, track_file)
    return 0


def _report(summary: dict, out: Path, track_file: Path) -> None:
    if summary.get("skipped_lines"):
        print(
            f"posekit: {track_file}: skipped {summary['skipped_lines']} line(s) that are not whole frame "
            f"records (first: {summary['first_skipped']})",
            file=sys.stderr,
        )
    for entry in summary["tracks"]:
        parts = [f"track {entry['track_id']} (frames {entry['first_frame']}-{entry['last_frame']})"]
        if "repetitions" in entry:
            parts.append(f"{entry['repetitions']['count']} x {entry['repetitions']['exercise']}")
        if entry["gait"]:
            parts.append(f"{entry['gait']['steps']} steps, {entry['gait']['cadence_steps_per_min']} steps/min")
        for note in entry.get("notes", []):
            parts.append(note)
        print("posekit: " + ", ".join(parts), file=sys.stderr)
    print(f"posekit: {summary['frames']} frames, {len(summary['tracks'])} tracks analysed -> {out}", file=sys.stderr)
