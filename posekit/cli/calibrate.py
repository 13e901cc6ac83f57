"""``posekit calibrate intrinsics|convert|extrinsics``: camera calibration files for ``posekit triangulate``.

* ``intrinsics IMAGES_OR_VIDEO... --board checkerboard --rows R --cols C --square-mm S --out cams.toml``
  (inner corners; ``--board charuco``: squares, with ``--marker-mm``); per-image errors, bad views dropped.
* ``convert FILE --out cams.toml``: Qualisys .qca.txt, Pose2Sim/anipose TOML or OpenCV XML/YAML to the
  Pose2Sim/anipose TOML layout, metres.
* ``extrinsics --from-people VIDEOS... --intrinsics cams.toml --out cams.toml [--person-height-m H]``:
  camera poses from the people in the scene (essential matrices, PnP, bundle adjustment); scale from
  the person's height (else the first two cameras' baseline is 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posekit.errors import PosekitError
from posekit.multiview.calibration_io import read_calibration, write_toml
from posekit.multiview.camera import Camera, CameraRig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calibrate", help="camera calibration: intrinsics, convert, extrinsics")
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    actions = parser.add_subparsers(dest="calibrate_action", required=True, metavar="ACTION")
    intrinsics = actions.add_parser("intrinsics", help="pinhole matrix and distortion from board images")
    intrinsics.add_argument("inputs", nargs="+", type=Path, metavar="IMAGES_OR_VIDEO")
    intrinsics.add_argument("--board", choices=["checkerboard", "charuco"], default="checkerboard")
    intrinsics.add_argument("--rows", type=int, required=True, help="inner corners (checkerboard) or squares (charuco)")
    intrinsics.add_argument("--cols", type=int, required=True)
    intrinsics.add_argument("--square-mm", type=float, required=True)
    intrinsics.add_argument("--marker-mm", type=float, default=0.0, help="ChArUco marker side")
    intrinsics.add_argument("--dictionary", default="DICT_4X4_50", help="ChArUco aruco dictionary")
    intrinsics.add_argument("--name", default=None, help="camera name (default: the first input's stem)")
    intrinsics.add_argument("--out", type=Path, required=True, help="TOML to write (a camera is added or replaced)")
    convert = actions.add_parser("convert", help="any calibration file to the Pose2Sim/anipose TOML")
    convert.add_argument("file", type=Path)
    convert.add_argument("--out", type=Path, required=True)
    extrinsics = actions.add_parser("extrinsics", help="camera poses from people moving in the scene")
    extrinsics.add_argument("--from-people", nargs="+", type=Path, required=True, metavar="VIDEO")
    extrinsics.add_argument("--intrinsics", type=Path, required=True, help="calibration with every camera's intrinsics")
    extrinsics.add_argument("--person-height-m", type=float, default=None, help="the busiest person's height")
    extrinsics.add_argument("--tracks", type=Path, default=None, help="folder of existing <stem>.jsonl 2D tracks")
    extrinsics.add_argument("--max-frames", type=int, default=None)
    extrinsics.add_argument("--out", type=Path, required=True)


def run(args: argparse.Namespace) -> int:
    try:
        if args.calibrate_action == "intrinsics":
            return _intrinsics(args)
        if args.calibrate_action == "convert":
            rig = read_calibration(args.file)
            write_toml(rig, args.out)
            print(f"posekit: {len(rig)} cameras ({', '.join(rig.names)}) -> {args.out}", file=sys.stderr)
            return 0
        return _extrinsics(args)
    except PosekitError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 1


def _intrinsics(args: argparse.Namespace) -> int:
    import numpy as np

    from posekit.multiview.intrinsics import BoardSpec, calibrate_intrinsics

    board = BoardSpec(args.board, args.rows, args.cols, args.square_mm, args.marker_mm, args.dictionary)
    result = calibrate_intrinsics(list(args.inputs), board)
    for name, error in sorted(result.view_errors_px.items()):
        print(f"  {error:6.3f} px  {name}", file=sys.stderr)
    for name, why in sorted(result.rejected.items()):
        print(f"  dropped {name}: {why}", file=sys.stderr)
    name = args.name or args.inputs[0].stem.replace("_img", "").replace("int_", "")
    camera = Camera(name, result.image_size, result.matrix, result.distortion, np.eye(3), np.zeros(3))
    existing = read_calibration(args.out).cameras if args.out.is_file() else ()
    cameras = [c for c in existing if c.name != name] + [camera]
    write_toml(CameraRig(tuple(cameras)), args.out, error_px=result.rms_px)
    print(
        f"posekit: {name}: f = {result.matrix[0, 0]:.1f}, {result.matrix[1, 1]:.1f} px, RMS {result.rms_px:.3f} px "
        f"over {len(result.view_errors_px)} views -> {args.out}",
        file=sys.stderr,
    )
    return 0


def _extrinsics(args: argparse.Namespace) -> int:
    from posekit.cli.triangulate import load_views, match_sources
    from posekit.multiview.extrinsics import estimate_extrinsics

    rig = read_calibration(args.intrinsics) if args.intrinsics.suffix != ".toml" else _read_unposed(args.intrinsics)
    rig, sources = match_sources(rig, list(args.from_people))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.render = False
    scratch = args.out.parent
    args.out_dir = scratch
    load_args = argparse.Namespace(tracks=args.tracks, max_frames=args.max_frames, out=scratch)
    rig, views, _ = load_views(rig, sources, load_args)
    if len(views) < 2:
        print("posekit: extrinsics need two or more cameras that see people", file=sys.stderr)
        return 1
    result = estimate_extrinsics(rig, views, args.person_height_m)
    write_toml(result.rig, args.out, error_px=result.rms_px)
    unit = "m" if args.person_height_m else "units of the person's scale (no --person-height-m)"
    print(
        f"posekit: {len(rig)} cameras posed from {result.points} points, median reprojection {result.rms_px:.2f} px, "
        f"world in {unit} -> {args.out}",
        file=sys.stderr,
    )
    return 0


def _read_unposed(path: Path) -> CameraRig:
    """A TOML of intrinsics only: identical zero poses would fail the unit check, so skip it."""
    from posekit.multiview.calibration_io import read_toml

    return read_toml(path)
