"""``posekit predict INPUT... --out DIR``: keypoints for every person in images and folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

from posekit.cli.options import add_estimator_arguments, options_from_args
from posekit.cli.progress import Progress
from posekit.draw import draw_poses
from posekit.errors import InputError
from posekit.io.images import find_images, read_image
from posekit.io.writers import WRITER_FACTORIES, UniqueStems, atomic_write_bytes, make_writer
from posekit.pipeline import PoseEstimator
from posekit.schemas import COCO17, WHOLEBODY133


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
    people = 0
    bad = len(failures)
    # COCO results hold COCO-17 only; OpenPose (feet), JSON lines and renders use BlazePose's 33.
    needs_landmarks = args.format != "coco" or args.render or args.whole_body
    stems = UniqueStems()  # one naming for OpenPose files and renders
    with (
        PoseEstimator(options_from_args(args, output_needs_landmarks=needs_landmarks)) as estimator,
        make_writer(args.format, args.out, stems, WHOLEBODY133 if args.whole_body else COCO17) as writer,
        Progress(len(images), "predict", enabled=not args.quiet) as progress,
    ):
        for path in images:
            try:
                image = read_image(path, max_pixels=estimator.options.max_image_pixels)
            except InputError as exc:
                print(f"posekit: skipped {exc}", file=sys.stderr)
                bad += 1
                progress.update()
                continue
            poses = estimator(image)
            writer.write(poses, source=str(path))
            if args.render:
                rendered = draw_poses(image, poses)
                ok, encoded = cv2.imencode(".jpg", rendered, [cv2.IMWRITE_JPEG_QUALITY, 90])
                if ok:
                    atomic_write_bytes(args.out / f"{stems(str(path))}_pose.jpg", encoded.tobytes())
            people += len(poses)
            progress.update(note=f"{people} people")
        elapsed = progress.elapsed_s
    done = len(images) - (bad - len(failures))
    print(
        f"posekit: {done} images, {people} people, {bad} failed, {elapsed:.1f}s "
        f"({1000 * elapsed / max(done, 1):.0f} ms/image) -> {args.out}",
        file=sys.stderr,
    )
    return 1 if bad else 0
