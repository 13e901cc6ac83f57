"""``posekit track SOURCE --out DIR``: every person in a video, with stable ids, frame by frame."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from posekit import EstimatorOptions, VideoOptions
from posekit.cli.options import add_estimator_arguments, options_from_args
from posekit.cli.progress import Progress
from posekit.errors import InputError, PosekitError
from posekit.io.video import ReadOptions, VideoSource, open_source
from posekit.io.writers import FRAME_WRITER_FACTORIES
from posekit.tasks import track_to_folder

_VIDEO_DEFAULTS = VideoOptions()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("track", help="track people in a video, webcam, stream or frame folder")
    parser.description = __doc__
    parser.add_argument(
        "source", metavar="SOURCE", help="video file, webcam index (0), rtsp:// or http:// URL, or a folder of frames"
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--format",
        choices=sorted(FRAME_WRITER_FACTORIES),
        default="jsonl",
        help="jsonl: <stem>.jsonl, one line per frame; openpose: <stem>_<frame>_keypoints.json per frame; "
        "csv: <stem>.csv, one row per keypoint (default: %(default)s)",
    )
    parser.add_argument(
        "--render", action="store_true", help="also write <stem>_pose.mp4 with skeletons, ids and trails"
    )
    parser.add_argument(
        "--smooth",
        choices=["online", "offline", "none"],
        default=_VIDEO_DEFAULTS.smoothing,
        help="online: One Euro filter as frames arrive; offline: zero-lag smoother over the whole "
        "file, outputs rewritten at the end (files only) (default: %(default)s)",
    )
    group = parser.add_argument_group("frames")
    group.add_argument("--start", type=float, default=0.0, help="start at this time, seconds")
    group.add_argument("--end", type=float, default=None, help="stop before this time, seconds")
    group.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    group.add_argument("--stride", type=int, default=1, help="use every n-th frame")
    group.add_argument(
        "--fps", type=float, default=30.0, help="frame rate of a folder of frames (default: %(default)s)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_and_tracking_arguments(parser)


def add_model_and_tracking_arguments(parser: argparse.ArgumentParser) -> None:
    """Tracking and model flags, shared with ``eval-track``."""
    group = parser.add_argument_group("tracking")
    group.add_argument(
        "--redetect",
        type=float,
        metavar="SECONDS",
        default=_VIDEO_DEFAULTS.redetect_interval_s,
        help="seconds between detector passes looking for new people; 0: only when a track is lost "
        "(default: %(default)s)",
    )
    group.add_argument("--no-propagate", action="store_true", help="detect every frame instead of following ROIs")
    group.add_argument(
        "--no-look-behind",
        action="store_true",
        help="skip the detector's second look, with the people found painted over, for people hidden behind them "
        "(faster on a street of people: docs/benchmarks.md#video-speed)",
    )
    group.add_argument(
        "--max-lost",
        type=float,
        default=_VIDEO_DEFAULTS.tracker.max_lost_s,
        help="seconds a lost person can be away and keep their id (default: %(default)s)",
    )
    add_estimator_arguments(
        parser, replace(_VIDEO_DEFAULTS.estimator, min_person_score=_VIDEO_DEFAULTS.min_track_score)
    )


def video_options_from_args(args: argparse.Namespace) -> VideoOptions:
    estimator: EstimatorOptions = options_from_args(args, output_needs_landmarks=False)
    return replace(
        _VIDEO_DEFAULTS,
        estimator=estimator,
        propagate=not args.no_propagate,
        look_behind=not args.no_look_behind,
        redetect_interval_s=args.redetect,
        min_track_score=args.min_score,
        tracker=replace(_VIDEO_DEFAULTS.tracker, max_lost_s=args.max_lost),
        smoothing=args.smooth,
    )


def run(args: argparse.Namespace) -> int:
    try:
        options = video_options_from_args(args)
        read_options = ReadOptions(
            start_s=args.start, end_s=args.end, max_frames=args.max_frames, stride=args.stride, folder_fps=args.fps
        )
        source = open_source(args.source, read_options)
    except InputError as exc:
        print(f"posekit: cannot track {exc}", file=sys.stderr)
        return 1
    except PosekitError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 2
    if args.smooth == "offline" and source.is_live:
        source.close()
        print("posekit: --smooth offline needs a file or folder, not a live source; use online", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        source.close()
        print(f"posekit: cannot use --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    with source:
        return _track(args, source, options)


def _track(args: argparse.Namespace, source: VideoSource, options: VideoOptions) -> int:
    with Progress(source.frames_to_read, "track", enabled=not args.quiet) as progress:
        summary = track_to_folder(
            source,
            args.out,
            options,
            fmt=args.format,
            render=args.render,
            on_frame=lambda poses, tracks: progress.update(note=f"{len(poses)} people, {tracks} tracks"),
        )
    fps = summary.frames / max(summary.elapsed_s, 1e-9)
    print(
        f"posekit: {summary.frames} frames, {summary.people} people, {summary.tracks} tracks, {fps:.1f} fps "
        f"({1000 / max(fps, 1e-9):.0f} ms/frame), {summary.frames_failed} frames failed to decode"
        + (f", {summary.reconnects} reconnects" if summary.reconnects else "")
        + f" -> {args.out}",
        file=sys.stderr,
    )
    if summary.stopped_reason:
        print(f"posekit: {source.name}: {summary.stopped_reason}", file=sys.stderr)
    if summary.frames == 0:
        print(f"posekit: {source.name}: no frames in the chosen range", file=sys.stderr)
        return 1
    return 1 if summary.frames_failed or summary.stopped_reason else 0
