"""Estimator flags shared by every command that runs the models."""

from __future__ import annotations

import argparse

from posekit.image import EstimatorOptions

_DEFAULTS = EstimatorOptions()


def add_estimator_arguments(parser: argparse.ArgumentParser, defaults: EstimatorOptions = _DEFAULTS) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--detector",
        choices=["movenet", "blazepose"],
        default=defaults.detector,
        help="person detector: movenet finds everyone (large images are searched in tiles), blazepose "
        "mostly one (default: %(default)s)",
    )
    group.add_argument(
        "--keypoints",
        choices=["thunder", "lightning", "auto", "none"],
        default=defaults.keypoint_model,
        help="per-person COCO-17 model; lightning is much faster; auto: lightning for people whose crop "
        "fits its 192 px input, thunder for larger ones, thunder at 192 px for a person alone "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--model",
        choices=["auto", "lite", "full", "heavy", "none"],
        default="auto",
        help="BlazePose model for the 33 landmarks and world coordinates; none skips them; auto (default) "
        "uses full when the output carries them (heavy with --whole-body on images, where it places hands "
        "and face better) and none when it holds COCO-17 only (coco format, eval)",
    )
    group.add_argument(
        "--min-score",
        type=float,
        default=defaults.min_person_score,
        help="drop people scoring below this; a score is the expected OKS of the pose, 0..1 (default: %(default)s)",
    )
    group.add_argument(
        "--max-people",
        type=int,
        default=defaults.max_people,
        help="at most this many people per image, the best scored (default: %(default)s)",
    )
    group.add_argument("--threads", type=int, default=defaults.num_threads, help="CPU threads per model")
    group.add_argument(
        "--whole-body",
        action="store_true",
        help="also hands (2x21) and face (68) for every person, placed from BlazePose (needs --model other than none)",
    )
    group.add_argument(
        "--hand-model", choices=["lite", "full"], default=defaults.hand_model, help="hand model (default: %(default)s)"
    )
    group.add_argument("--face-mesh", action="store_true", help="with --whole-body, also output all 468 face points")
    group.add_argument(
        "--no-hand-search",
        dest="hand_search",
        action="store_false",
        default=defaults.hand_search,
        help="with --whole-body, skip the palm-detector second try for unsure hands (faster)",
    )


def options_from_args(args: argparse.Namespace, *, output_needs_landmarks: bool = True) -> EstimatorOptions:
    """``output_needs_landmarks``: whether what the command writes uses BlazePose's 33 landmarks;
    with ``--model auto`` nobody waits for a model whose output would be thrown away (and when it
    is needed, ``auto`` is left for the options to resolve: full, heavy for whole body on images)."""
    landmark_model = args.model
    if landmark_model == "auto" and not (output_needs_landmarks or args.detector == "blazepose" or args.whole_body):
        landmark_model = "none"
    return EstimatorOptions(
        detector=args.detector,
        keypoint_model=args.keypoints,
        landmark_model=landmark_model,
        min_person_score=args.min_score,
        max_people=args.max_people,
        num_threads=args.threads,
        whole_body=args.whole_body,
        hand_model=args.hand_model,
        face_mesh=args.face_mesh,
        hand_search=args.hand_search,
    )
