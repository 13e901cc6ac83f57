"""``posekit demo --out DIR``: runs posekit on the bundled sample image (``--video``: on the bundled
clip, with tracking)."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path

from posekit.cli import predict, track


def demo_image() -> Path:
    return Path(str(files("posekit") / "assets" / "demo.jpg"))


def demo_video() -> Path:
    return Path(str(files("posekit") / "assets" / "demo_walk.mp4"))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run on the bundled sample image or clip", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("posekit_demo"), help="output folder (default: %(default)s)")
    parser.add_argument(
        "--video", action="store_true", help="track people in the bundled 2.4 s street clip instead of the image"
    )


def run(args: argparse.Namespace) -> int:
    if args.video:
        parser = argparse.ArgumentParser(prog="posekit track")
        subparsers = parser.add_subparsers(dest="command")
        track.add_parser(subparsers)
        track_args = parser.parse_args(["track", str(demo_video()), "--out", str(args.out), "--render"])
        return track.run(track_args)
    predict_args = predict.build_parser_for_demo().parse_args(
        [str(demo_image()), "--out", str(args.out), "--format", "openpose", "--render"]
    )
    return predict.run(predict_args)
