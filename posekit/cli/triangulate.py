"""``posekit triangulate --calibration CALIB VIDEO... --out DIR``: 3D people from several calibrated cameras.

Each video's file stem names its camera in the calibration (cam01.mp4 is cam01, also cam_01 or
the first Qualisys camera); any two or more of the calibration's cameras may be given. The 2D
people of each view are tracked with posekit (BlazePose included, for the feet) and saved in
DIR/2d/<stem>.jsonl, or read from existing track JSONL (pass .jsonl files, or --tracks DIR).
Writes DIR/triangulation.jsonl (metres, the calibration's world frame), triangulation.csv,
person<id>.trc and .c3d; --render adds each camera's video with the 3D people projected back
and a 3D plot video.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from posekit.errors import InputError, PosekitError
from posekit.io.writers import atomic_write_text
from posekit.multiview.calibration_io import read_calibration
from posekit.multiview.camera import CameraRig
from posekit.multiview.export import JSONL_NAME, write_outputs
from posekit.multiview.filtering import FilterOptions
from posekit.multiview.names import match_camera
from posekit.multiview.reconstruct import ReconstructOptions, check_views, reconstruct
from posekit.multiview.sync import estimate_offsets
from posekit.multiview.views import ViewTrack, read_track_jsonl, track_video

FORMATS = ("csv", "trc", "c3d")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("triangulate", help="3D people from several calibrated, synchronised cameras")
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("sources", metavar="VIDEO", nargs="+", help="one video (or track .jsonl) per camera")
    parser.add_argument("--calibration", required=True, type=Path, help=".toml, .qca.txt, OpenCV .xml/.yml")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--tracks", type=Path, default=None, help="folder of existing <stem>.jsonl 2D tracks to reuse")
    parser.add_argument("--max-frames", type=int, default=None, help="use only the first frames of each video")
    parser.add_argument(
        "--sync", choices=["none", "auto"], default="none", help="auto: estimate a constant frame offset per camera"
    )
    parser.add_argument("--formats", default=",".join(FORMATS), help="besides the JSONL, any of csv,trc,c3d ('' none)")
    parser.add_argument("--render", action="store_true", help="also <camera>_3d.mp4 per camera and skeleton3d.mp4")
    add_reconstruction_arguments(parser)


def add_reconstruction_arguments(parser: argparse.ArgumentParser) -> None:
    """3D flags, shared with ``eval-3d`` (whose leave-one-out rebuilds the 3D)."""
    defaults = ReconstructOptions()
    group = parser.add_argument_group("3D")
    group.add_argument(
        "--cutoff-hz",
        type=float,
        default=defaults.filtering.cutoff_hz,
        help="zero-phase Butterworth low-pass of the 3D tracks; 0: none (default: %(default)s)",
    )
    group.add_argument("--bone-prior", action="store_true", help="hold each limb bone at its median length")
    group.add_argument(
        "--inlier-px",
        type=float,
        default=defaults.association.triangulation.inlier_px,
        help="a view farther than this from the others' point is left out of it (default: %(default)s)",
    )


def options_from_args(args: argparse.Namespace) -> ReconstructOptions:
    defaults = ReconstructOptions()
    association = defaults.association
    association = replace(association, triangulation=replace(association.triangulation, inlier_px=args.inlier_px))
    filtering: FilterOptions = replace(defaults.filtering, cutoff_hz=args.cutoff_hz, bone_prior=args.bone_prior)
    return replace(defaults, association=association, filtering=filtering)


def _stem(path: Path) -> str:
    return path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.stem


def match_sources(rig: CameraRig, sources: list[Path]) -> tuple[CameraRig, list[Path]]:
    """The rig restricted to the given sources' cameras, in the sources' order; one line per
    source that names no camera (it is skipped)."""
    names, kept = [], []
    for source in sources:
        try:
            name = match_camera(_stem(source), rig.names)
        except InputError as exc:
            print(f"posekit: skipping {source}: {exc.reason}", file=sys.stderr)
            continue
        if name in names:
            print(f"posekit: skipping {source}: camera {name} is already given", file=sys.stderr)
            continue
        names.append(name)
        kept.append(source)
    return rig.subset(names), kept


def load_views(
    rig: CameraRig, sources: list[Path], args: argparse.Namespace
) -> tuple[CameraRig, list[ViewTrack], list[Path]]:
    """Each source's 2D people; a source that cannot be used is reported and left out."""
    cameras, views, kept = [], [], []
    for camera, source in zip(rig, sources, strict=True):
        try:
            view = _load_view(camera.name, source, args)
        except InputError as exc:
            print(f"posekit: skipping camera {camera.name}: {exc}", file=sys.stderr)
            continue
        if not any(len(frame) for frame in view.frames):
            print(f"posekit: skipping camera {camera.name}: it sees nobody ({source})", file=sys.stderr)
            continue
        cameras.append(camera)
        views.append(view)
        kept.append(source)
    return rig.replaced(cameras), views, kept


def _load_view(name: str, source: Path, args: argparse.Namespace) -> ViewTrack:
    if source.name.endswith(".jsonl"):
        return _cut(read_track_jsonl(source, name), args.max_frames)
    if args.tracks is not None and (args.tracks / f"{source.stem}.jsonl").is_file():
        return _cut(read_track_jsonl(args.tracks / f"{source.stem}.jsonl", name), args.max_frames)
    started = time.perf_counter()
    view, records = track_video(source, name, max_frames=args.max_frames)
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    atomic_write_text(args.out / "2d" / f"{source.stem}.jsonl", text)
    print(
        f"posekit: {name}: 2D tracked {len(records)} frames in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return view


def _cut(view: ViewTrack, max_frames: int | None) -> ViewTrack:
    if max_frames is None or len(view) <= max_frames:
        return view
    return replace(view, frames=view.frames[:max_frames])


def run(args: argparse.Namespace) -> int:
    try:
        rig = read_calibration(args.calibration)
    except PosekitError as exc:
        print(f"posekit: cannot use the calibration {exc}", file=sys.stderr)
        return 2
    formats = tuple(f for f in args.formats.split(",") if f)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        print(f"posekit: unknown --formats {sorted(unknown)}; choose from {','.join(FORMATS)}", file=sys.stderr)
        return 2
    rig, sources = match_sources(rig, [Path(s) for s in args.sources])
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"posekit: cannot use --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    rig, views, sources = load_views(rig, sources, args)
    if len(views) < 2:
        print(
            f"posekit: 3D needs two or more usable cameras; got {len(views)} ({', '.join(rig.names)})", file=sys.stderr
        )
        return 1
    try:
        check_views(rig, views)
        if args.sync == "auto":
            offsets = estimate_offsets(rig, views)
            print(f"posekit: frame offsets {dict(zip(rig.names, offsets, strict=True))}", file=sys.stderr)
            views = [view.shifted(offset) for view, offset in zip(views, offsets, strict=True)]
        reconstruction = reconstruct(rig, views, options_from_args(args))
    except InputError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 1
    written = write_outputs(reconstruction, args.out, formats)
    if "c3d" in formats and not any(p.suffix == ".c3d" for p in written) and reconstruction.tracks:
        print("posekit: no .c3d written: the c3d package is missing (pip install 'posekit[c3d]')", file=sys.stderr)
    if args.render:
        from posekit.multiview.render import render_all

        written += render_all(rig, reconstruction, sources, args.out)
    people = ", ".join(f"{t.track_id}: {int(t.present.sum())} frames" for t in reconstruction.tracks)
    print(
        f"posekit: {reconstruction.frame_count} frames, {len(reconstruction.tracks)} 3D people ({people}), "
        f"{reconstruction.seconds_per_frame * 1000:.1f} ms/frame for association + triangulation -> "
        f"{args.out / JSONL_NAME}",
        file=sys.stderr,
    )
    return 0
