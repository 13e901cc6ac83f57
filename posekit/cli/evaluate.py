"""``posekit eval ANNOTATIONS.json --images DIR``: posekit's accuracy on a labelled file.

The kind of file is read from the file: COCO body keypoints (AP, AP50, AP75, APm, APl, AR),
COCO-WholeBody (the same for all 133 points, plus wholebody/body/foot/face/lefthand/righthand
AP and AR), hand-only files (PCK@0.2, EPE) or face-only files (NME); see posekit.eval.files.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from posekit.cli.options import add_estimator_arguments, options_from_args
from posekit.cli.progress import Progress
from posekit.errors import InputError, UsageError
from posekit.eval.dataset import load_annotations, predict_annotated_images, predict_topdown, topdown_predictor
from posekit.eval.files import REPORT_KEYS, annotation_kind, evaluate_file
from posekit.image import EstimatorOptions, PoseEstimator
from posekit.io.writers import atomic_write_json

METRIC_KEYS = REPORT_KEYS["body"]


EVAL_DETECTOR_MIN_SCORE = 0.05  # MoveNet MultiPose candidates kept for evaluation (predict: 0.1)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="accuracy on a labelled set (COCO, COCO-WholeBody, hands, faces)", description=__doc__
    )
    parser.add_argument("annotations", type=Path, metavar="ANNOTATIONS.json", help="COCO-format annotation file")
    parser.add_argument("--images", required=True, type=Path, help="folder the annotation file names are relative to")
    parser.add_argument("--predictions-out", type=Path, help="write posekit's results (annotation image ids)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the metrics on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    # COCO-style evaluation keeps every detection (AP ranks them; a low-scored extra can only add
    # recall), as detectors' evaluation modes do; predict keeps its stricter defaults.
    add_estimator_arguments(parser, replace(EstimatorOptions(), min_person_score=0.0))


def _predict(
    args: argparse.Namespace, annotations: dict[str, Any], kind: str
) -> tuple[list[dict[str, Any]], list[InputError]]:
    images = annotations["images"]
    if kind in ("hand", "face"):
        options = options_from_args(args, output_needs_landmarks=False)
        with (
            topdown_predictor(kind, options) as predict,
            Progress(len(images), "eval", enabled=not args.quiet) as progress,
        ):
            return predict_topdown(
                predict,
                annotations,
                args.images,
                on_image=lambda: progress.update(),
                max_pixels=options.max_image_pixels,
            )
    # Whole-body results need BlazePose's feet; body results hold COCO-17 only.
    options = replace(
        options_from_args(args, output_needs_landmarks=kind == "wholebody"), detector_min_score=EVAL_DETECTOR_MIN_SCORE
    )
    if kind == "wholebody":
        options = replace(options, whole_body=True)
    with (
        PoseEstimator(options) as estimator,
        Progress(len(images), "eval", enabled=not args.quiet) as progress,
    ):
        return predict_annotated_images(
            estimator, annotations, args.images, on_image=lambda: progress.update(), kind=kind
        )


def _rounded(value: float) -> float | None:
    return round(float(value), 6) if math.isfinite(value) else None


def run(args: argparse.Namespace) -> int:
    try:
        annotations = load_annotations(args.annotations)
        kind = annotation_kind(annotations)
    except InputError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"posekit: {args.annotations}: {exc}", file=sys.stderr)
        return 2
    try:
        results, failures = _predict(args, annotations, kind)
    except UsageError as exc:
        print(f"posekit: {args.annotations}: {exc}", file=sys.stderr)
        return 2
    for failure in failures:
        print(f"posekit: skipped {failure}", file=sys.stderr)
    if args.predictions_out:
        atomic_write_json(args.predictions_out, results)
    try:
        metrics = evaluate_file(annotations, results)
    except ValueError as exc:  # results that do not fit the file (wrong number of points)
        print(f"posekit: {args.annotations}: {exc}", file=sys.stderr)
        return 2
    keys = REPORT_KEYS[kind]
    report: dict[str, Any] = {key: _rounded(metrics[key]) for key in keys}
    images = annotations["images"]
    report.update(images=len(images), failed_images=len(failures), detections=len(results))
    if kind != "body":
        report["kind"] = kind
    if args.json:
        print(json.dumps(report))
    else:
        print("  ".join(f"{key} {report[key]:.3f}" if report[key] is not None else f"{key} n/a" for key in keys))
        print(f"{len(images)} images, {len(results)} detections, {len(failures)} failed")
    return 1 if failures else 0
