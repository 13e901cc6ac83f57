"""``posekit demo --out DIR``: runs posekit on the bundled sample image."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path

from posekit.cli import predict


def demo_image() -> Path:
    return Path(str(files("posekit") / "assets" / "demo.jpg"))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run on the bundled sample image", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("posekit_demo"), help="output folder (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    predict_args = predict.build_parser_for_demo().parse_args(
        [str(demo_image()), "--out", str(args.out), "--format", "openpose", "--render"]
    )
    return predict.run(predict_args)
