"""``posekit eval-track ANNOTATIONS.json --video FILE``: MOTA, IDF1, ID switches and keypoint AP
of posekit's tracking on a labelled sequence (COCO keypoints with ``track_id`` per annotation).

Frames come from ``--video`` (the n-th labelled image, in frame order, is the frame with index
``frame_index`` when the image has one, else the n-th frame) or from ``--frames DIR`` (each
image's ``file_name`` in that folder). The whole sequence runs through ``posekit track``'s
pipeline with the same options.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from posekit.cli import track
from posekit.cli.progress import Progress
from posekit.errors import InputError, PosekitError
from posekit.eval.dataset import load_annotations
from posekit.eval.tracking import evaluate_tracking, ordered_frames
from posekit.io.formats import poses_to_coco
from posekit.io.images import read_image
from posekit.io.video import ReadOptions, open_source
from posekit.io.writers import atomic_write_json
from posekit.schemas import COCO17
from posekit.video import VideoOptions, VideoPoseEstimator

METRIC_KEYS = ("MOTA", "IDF1", "ID_switches", "AP", "AP50", "AP75", "AR")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval-track", help="tracking metrics on a labelled sequence", description=__doc__)
    parser.add_argument("annotations", type=Path, metavar="ANNOTATIONS.json", help="COCO keypoints with track_id")
    frames = parser.add_mutually_exclusive_group(required=True)
    frames.add_argument("--video", help="the sequence as a video file")
    frames.add_argument("--frames", type=Path, help="folder the annotation file names are relative to")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of --frames (default: %(default)s)")
    parser.add_argument("--predictions-out", type=Path, help="write COCO results with track_id")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the metrics on stdout")
    parser.add_argument("--smooth", choices=["online", "none"], default="online", help="online smoothing (default)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    track.add_model_and_tracking_arguments(parser)


def _labelled_frames(
    args: argparse.Namespace, images: list[dict[str, Any]]
) -> Iterator[tuple[dict[str, Any] | None, np.ndarray, float]]:
    """(image entry or None for an unlabelled frame in between, BGR frame, time) in order."""
    if args.frames is not None:
        for position, image in enumerate(images):
            yield image, read_image(args.frames / image["file_name"]), position / args.fps
        return
    wanted = {int(image.get("frame_index", position)): image for position, image in enumerate(images)}
    last = max(wanted)
    with open_source(args.video, ReadOptions()) as source:
        for frame in source:
            if frame.index > last:
                break
            yield wanted.get(frame.index), frame.image_bgr, frame.timestamp_s


def run(args: argparse.Namespace) -> int:
    try:
        annotations = load_annotations(args.annotations)
        options: VideoOptions = track.video_options_from_args(args)
    except PosekitError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 2
    images = ordered_frames(annotations)
    if not images:
        print(f"posekit: {args.annotations}: no images to evaluate", file=sys.stderr)
        return 2
    results: list[dict[str, Any]] = []
    try:
        with (
            VideoPoseEstimator(options) as video,
            Progress(len(images), "eval-track", enabled=not args.quiet) as progress,
        ):
            for image, frame_bgr, time_s in _labelled_frames(args, images):
                poses = video(frame_bgr, time_s)
                if image is not None:
                    results.extend(poses_to_coco(poses, image["id"]))
                    progress.update()
    except InputError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 1
    if args.predictions_out:
        atomic_write_json(args.predictions_out, results)
    metrics = evaluate_tracking(annotations, results, COCO17.oks_sigmas())
    report = {key: round(float(value), 6) for key, value in metrics.items()}
    if args.json:
        print(json.dumps(report))
    else:
        print("  ".join(f"{key} {report[key]:.3f}" for key in METRIC_KEYS))
        print(
            f"{len(images)} frames, {int(report['num_labelled'])} labelled people, "
            f"{int(report['num_gt_tracks'])} labelled tracks, {int(report['num_pred_tracks'])} predicted tracks"
        )
    return 0
