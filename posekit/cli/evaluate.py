"""``posekit eval ANNOTATIONS.json --images DIR``: COCO keypoint AP of posekit on labelled images."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from posekit.cli.options import add_estimator_arguments, options_from_args
from posekit.cli.progress import Progress
from posekit.errors import InputError
from posekit.eval.dataset import load_annotations, predict_annotated_images
from posekit.eval.oks import evaluate_keypoints
from posekit.io.writers import atomic_write_json
from posekit.pipeline import PoseEstimator
from posekit.schemas import COCO17

METRIC_KEYS = ("AP", "AP50", "AP75", "APm", "APl", "AR")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="COCO keypoint AP on a labelled set", description=__doc__)
    parser.add_argument("annotations", type=Path, metavar="ANNOTATIONS.json", help="COCO keypoint annotation file")
    parser.add_argument("--images", required=True, type=Path, help="folder the annotation file names are relative to")
    parser.add_argument("--predictions-out", type=Path, help="write posekit's COCO results (annotation image ids)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the metrics on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_estimator_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        annotations = load_annotations(args.annotations)
    except InputError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 2
    images = annotations["images"]
    with (
        PoseEstimator(options_from_args(args, output_needs_landmarks=False)) as estimator,
        Progress(len(images), "eval", enabled=not args.quiet) as progress,
    ):
        results, failures = predict_annotated_images(
            estimator, annotations, args.images, on_image=lambda: progress.update()
        )
    for failure in failures:
        print(f"posekit: skipped {failure}", file=sys.stderr)
    if args.predictions_out:
        atomic_write_json(args.predictions_out, results)
    metrics = evaluate_keypoints(annotations, results, COCO17.oks_sigmas())
    report = {key: round(float(metrics[key]), 6) for key in METRIC_KEYS}
    report.update(images=len(images), failed_images=len(failures), detections=len(results))
    if args.json:
        print(json.dumps(report))
    else:
        print("  ".join(f"{key} {report[key]:.3f}" for key in METRIC_KEYS))
        print(f"{len(images)} images, {len(results)} detections, {len(failures)} failed")
    return 1 if failures else 0
