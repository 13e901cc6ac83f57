"""``posekit`` command line: a thin layer over the public API.

Each sub-command lives in its own module with a ``add_parser(subparsers)`` that registers its
flags next to the code that uses them, and a ``run(args) -> exit code``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from posekit import __version__
from posekit.cli import (
    analyze,
    batch,
    calibrate,
    classify,
    demo,
    eval3d,
    evaluate,
    evaluate_track,
    predict,
    serve,
    track,
    triangulate,
)

COMMANDS = {
    "predict": predict,
    "track": track,
    "eval": evaluate,
    "eval-track": evaluate_track,
    "demo": demo,
    "serve": serve,
    "triangulate": triangulate,
    "calibrate": calibrate,
    "eval-3d": eval3d,
    "batch": batch,
    "analyze": analyze,
    "classify": classify,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posekit", description="Multi-person pose estimation on the CPU.")
    parser.add_argument("--version", action="version", version=f"posekit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(COMMANDS[args.command].run(args))
    except KeyboardInterrupt:
        print("posekit: interrupted; files written so far are complete", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
