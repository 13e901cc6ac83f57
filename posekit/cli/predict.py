"""``posekit predict INPUT... --out DIR``: keypoints for every person in images and folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posekit.cli.options import add_estimator_arguments, options_from_args
from posekit.cli.progress import Progress
from posekit.io.images import find_images
from posekit.io.writers import WRITER_FACTORIES
from posekit.results import Poses
from posekit.tasks import predict_to_folder


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    _add_arguments(subparsers.add_parser("predict", help="estimate poses in images", description=__doc__))


def build_parser_for_demo() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posekit predict")
    _add_arguments(parser)
    return parser


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders (recursive) or globs")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--format",
        choices=sorted(WRITER_FACTORIES),
        default="coco",
        help="coco: one results list; openpose: <stem>_keypoints.json per image; "
        "jsonl: one line per image (default: %(default)s)",
    )
    parser.add_argument("--render", action="store_true", help="also write <stem>_pose.jpg overlays")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_estimator_arguments(parser)


def run(args: argparse.Namespace) -> int:
    images, failures = find_images(args.inputs)
    for failure in failures:
        print(f"posekit: skipped {failure}", file=sys.stderr)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"posekit: cannot use --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    # COCO results hold COCO-17 only; OpenPose (feet), JSON lines and renders use BlazePose's 33.
    needs_landmarks = args.format != "coco" or args.render or args.whole_body
    people = 0
    with Progress(len(images), "predict", enabled=not args.quiet) as progress:

        def on_image(path: Path, poses: Poses | None, error: str | None) -> None:
            nonlocal people
            if poses is None:
                print(f"posekit: skipped {error}", file=sys.stderr)
                progress.update()
                return
            people += len(poses)
            progress.update(note=f"{people} people")

        summary = predict_to_folder(
            images,
            args.out,
            options_from_args(args, output_needs_landmarks=needs_landmarks),
            fmt=args.format,
            render=args.render,
            on_image=on_image,
        )
    elapsed = summary.elapsed_s
    bad = len(failures) + len(summary.failures)
    done = summary.images
    print(
        f"posekit: {done} images, {summary.people} people, {bad} failed, {elapsed:.1f}s "
        f"({1000 * elapsed / max(done, 1):.0f} ms/image) -> {args.out}",
        file=sys.stderr,
    )
    return 1 if bad else 0
