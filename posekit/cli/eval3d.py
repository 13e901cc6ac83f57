"""``posekit eval-3d TRIANGULATION --calibration CALIB --tracks 2D.jsonl...``: how good a 3D result is.

Reprojection error per view and point, leave-one-camera-out error (each camera left out in turn:
the 3D rebuilt from the others' 2D, projected into it, compared with its own 2D; px and PCK at 5 %
of the person's box height), bone-length spread (SD over frames, mm) and share of points
triangulated. --out writes the same as JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError
from posekit.io.writers import atomic_write_json
from posekit.multiview.calibration_io import read_calibration
from posekit.multiview.export import read_triangulation_jsonl
from posekit.multiview.quality import leave_one_out, track_quality, view_errors
from posekit.multiview.reconstruct import reconstruct
from posekit.multiview.skeleton import SKELETON


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from posekit.cli.triangulate import add_reconstruction_arguments

    parser = subparsers.add_parser("eval-3d", help="quality of a 3D result without ground truth")
    parser.description = __doc__
    parser.add_argument("triangulation", type=Path, help="triangulation.jsonl (from posekit triangulate)")
    parser.add_argument("--calibration", required=True, type=Path)
    parser.add_argument("--tracks", nargs="+", required=True, type=Path, help="per-camera 2D track JSONL")
    parser.add_argument("--no-loo", action="store_true", help="skip the leave-one-camera-out rebuilds")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    add_reconstruction_arguments(parser)


def evaluate(args: argparse.Namespace) -> dict:
    from posekit.cli.triangulate import load_views, match_sources, options_from_args

    reconstruction = read_triangulation_jsonl(args.triangulation)
    rig, sources = match_sources(read_calibration(args.calibration), list(args.tracks))
    load_args = argparse.Namespace(tracks=None, max_frames=None, out=args.triangulation.parent)
    rig, views, _ = load_views(rig, sources, load_args)
    report: dict = {"reprojection": {}, "leave_one_out": {}, "tracks": []}
    for camera, view in zip(rig, views, strict=True):
        errors = view_errors(camera, reconstruction.tracks, view, reconstruction.frame_count)
        per_point = errors.per_point_median()
        report["reprojection"][camera.name] = {
            "median_px": errors.median_px,
            "pck": errors.pck,
            "per_point_median_px": {
                n: (None if not np.isfinite(v) else round(float(v), 2))
                for n, v in zip(SKELETON.names, per_point, strict=True)
            },
        }
    if not args.no_loo and len(rig) >= 3:
        options = options_from_args(args)
        for errors in leave_one_out(rig, views, lambda r, v: reconstruct(r, v, options)):
            report["leave_one_out"][errors.camera] = {"median_px": errors.median_px, "pck": errors.pck}
    for track in reconstruction.tracks:
        quality = track_quality(track)
        report["tracks"].append(quality.__dict__)
    return report


def run(args: argparse.Namespace) -> int:
    try:
        report = evaluate(args)
    except PosekitError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 1
    print("reprojection (median px, PCK@5%):")
    for name, row in report["reprojection"].items():
        print(f"  {name:10s} {row['median_px']:7.2f} {row['pck']:6.3f}")
    if report["leave_one_out"]:
        print("leave-one-camera-out (median px, PCK@5%):")
        for name, row in report["leave_one_out"].items():
            print(f"  {name:10s} {row['median_px']:7.2f} {row['pck']:6.3f}")
        mean = np.mean([row["median_px"] for row in report["leave_one_out"].values()])
        print(f"  {'mean':10s} {mean:7.2f}")
    print("tracks (id, frames, bone spread mm, share triangulated, share feet):")
    for row in report["tracks"]:
        print(
            f"  {row['track_id']:4d} {row['frames']:6d} {row['bone_spread_mm']:7.1f} "
            f"{row['share_triangulated']:6.3f} {row['share_feet']:6.3f}"
        )
    if args.out is not None:
        atomic_write_json(args.out, _finite(report))
    return 0


def _finite(value: object) -> object:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
