"""``posekit classify fit EXAMPLES_DIR --out MODEL``: pose classes learnt from examples.

EXAMPLES_DIR holds one folder per class (the folder's name is the class). Each example in it is
an image (the best-scored person is the pose), a short clip (frames sampled at --sample-fps,
the best-scored person of each) or a posekit track JSONL (every person of every frame). The
model is k nearest neighbours on a pose embedding normalised for position and scale (and mirror
unless --no-mirror), see docs/analysis.md; use it with ``posekit analyze --classifier MODEL``.
Prints the leave-one-out accuracy (each example predicted from all the others).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from posekit.cli.options import add_estimator_arguments, options_from_args
from posekit.errors import InputError, PosekitError

_IMAGES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
_CLIPS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("classify", help="pose classes from examples (k-NN)")
    parser.description = __doc__
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fit = actions.add_parser("fit", help="learn classes from EXAMPLES_DIR/<class>/<example>")
    fit.description = __doc__
    fit.add_argument("examples", type=Path, metavar="EXAMPLES_DIR", help="one folder per class")
    fit.add_argument("--out", type=Path, default=None, help="model file (default: EXAMPLES_DIR/pose_classes.json)")
    fit.add_argument("--k", type=int, default=5, help="neighbours voting (default: %(default)s)")
    fit.add_argument("--no-mirror", action="store_true", help="do not also compare left-right mirrored poses")
    fit.add_argument("--sample-fps", type=float, default=5.0, help="frames per second taken from clips")
    add_estimator_arguments(fit)


def _examples(folder: Path) -> Iterator[tuple[str, Path]]:
    if not folder.is_dir():
        raise InputError(str(folder), "not a folder of class folders")
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(class_dir.iterdir()):
            if path.is_file() and path.suffix.lower() in (*_IMAGES, *_CLIPS, ".jsonl"):
                yield class_dir.name, path


def _best_person(poses: object) -> np.ndarray | None:
    """(17, 3) COCO-17 of the best-scored person, or None when nobody is found."""
    if len(poses) == 0 or "coco17" not in poses.keypoints:  # type: ignore[arg-type, attr-defined]
        return None
    best = int(np.argmax(poses.score))  # type: ignore[attr-defined]
    points = poses.keypoints["coco17"]  # type: ignore[attr-defined]
    return np.concatenate([points.xy[best], points.confidence[best][:, None]], axis=1).astype(np.float64)


def _poses_of(path: Path, estimator: object, sample_fps: float) -> list[np.ndarray]:
    """COCO-17 ``(17, 3)`` poses of one example file."""
    import cv2

    from posekit import ReadOptions, open_source

    if path.suffix.lower() in _IMAGES:
        image = cv2.imread(str(path))
        if image is None:
            raise InputError(str(path), "cannot read the image")
        found = _best_person(estimator(image))  # type: ignore[operator]
        return [] if found is None else [found]
    with open_source(str(path), ReadOptions()) as source:
        stride = max(1, round(source.fps / sample_fps)) if source.fps else 1
        poses = []
        for frame in source:
            if frame.index % stride == 0:
                found = _best_person(estimator(frame.image_bgr))  # type: ignore[operator]
                if found is not None:
                    poses.append(found)
        return poses


def _points_of(poses: list[np.ndarray]) -> Mapping[str, np.ndarray]:
    from posekit.analysis import body_points
    from posekit.analysis.tracks import tracks_from_arrays

    n = len(poses)
    track = tracks_from_arrays(0, range(n), np.arange(n) / 30.0, np.stack(poses))
    return body_points(track, max_gap_s=0.0)


def _gather(args: argparse.Namespace) -> list[tuple[str, str, Mapping[str, np.ndarray]]]:
    """``(class, example id, named points)`` of every readable example; the rest get one line each."""
    from posekit import PoseEstimator
    from posekit.analysis import body_points, load_recording

    gathered: list[tuple[str, str, Mapping[str, np.ndarray]]] = []
    with contextlib.ExitStack() as stack:
        estimator = None
        for class_name, path in _examples(args.examples):
            try:
                if path.suffix.lower() == ".jsonl":
                    for track in load_recording(path).tracks:
                        gathered.append((class_name, f"{path}#{track.track_id}", body_points(track, max_gap_s=0.0)))
                    continue
                if estimator is None:  # loaded only when an image or clip needs it
                    options = options_from_args(args, output_needs_landmarks=False)
                    estimator = stack.enter_context(PoseEstimator(options))
                poses = _poses_of(path, estimator, args.sample_fps)
            except InputError as exc:
                print(f"posekit: skipped {exc}", file=sys.stderr)
                continue
            if not poses:
                print(f"posekit: skipped {path}: nobody found", file=sys.stderr)
                continue
            gathered.append((class_name, str(path), _points_of(poses)))
    return gathered


def run(args: argparse.Namespace) -> int:
    from posekit.analysis.classify import fit

    try:
        examples = _gather(args)
        classes = sorted({c for c, _, _ in examples})
        if len(classes) < 2:
            raise InputError(str(args.examples), f"needs examples of at least 2 classes, found {len(classes)}")
        model, groups, mirrored = fit(examples, k=args.k, mirror=not args.no_mirror)
        out = args.out or args.examples / "pose_classes.json"
        model.save(out)
    except PosekitError as exc:
        print(f"posekit: cannot fit {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"posekit: cannot write the model: {exc.strerror or exc}", file=sys.stderr)
        return 1
    accuracy = model.leave_one_out_accuracy(groups, mirrored)
    counts = ", ".join(f"{name} {int(np.sum(model.labels == i))}" for i, name in enumerate(model.classes))
    print(f"posekit: {len(model.labels)} poses from {len(set(groups.tolist()))} examples ({counts})", file=sys.stderr)
    print(f"posekit: leave-one-out accuracy {100 * accuracy:.1f}% (each example predicted from the others)")
    print(f"posekit: model -> {out}", file=sys.stderr)
    return 0
