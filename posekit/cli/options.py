"""Estimator flags shared by every command that runs the models."""

from __future__ import annotations

import argparse

from posekit.pipeline import EstimatorOptions


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", choices=["lite", "full", "heavy"], default=EstimatorOptions.landmark_model,
                       help="BlazePose landmark model size (default: %(default)s)")
    group.add_argument("--detector", choices=["movenet", "blazepose"], default=EstimatorOptions.detector,
                       help="person detector: movenet finds several people, blazepose mostly one")
    group.add_argument("--min-score", type=float, default=EstimatorOptions.min_person_score,
                       help="drop people scoring below this (default: %(default)s)")
    group.add_argument("--threads", type=int, default=EstimatorOptions.num_threads, help="CPU threads per model")


def options_from_args(args: argparse.Namespace) -> EstimatorOptions:
    return EstimatorOptions(
        landmark_model=args.model,
        detector=args.detector,
        min_person_score=args.min_score,
        num_threads=args.threads,
    )
