"""The work behind ``posekit track`` and ``posekit predict`` as library functions.

The command line and ``posekit batch`` both call these, so a video tracked from the shell, from a
batch worker or from a Ray actor goes through the same loop and writes the same files:

* :func:`track_to_folder`: every frame of an opened :class:`~posekit.io.video.VideoSource` through a
  :class:`~posekit.VideoPoseEstimator` into a per-frame writer (and optionally a rendered video);
* :func:`predict_to_folder`: a list of images through a :class:`~posekit.PoseEstimator` into one
  writer (and optionally ``<stem>_pose.jpg`` overlays).

Pass an estimator that is already loaded to reuse its models across calls (a worker does);
without one, the function builds and closes its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from posekit import (
    EstimatorOptions,
    Frame,
    InputError,
    PoseEstimator,
    Poses,
    VideoOptions,
    VideoPoseEstimator,
    open_source,
    smooth_sequence,
)
from posekit.draw import VideoRenderer, draw_poses
from posekit.io.images import read_image
from posekit.io.writers import UniqueStems, atomic_write_bytes, make_frame_writer, make_writer
from posekit.schemas import COCO17, WHOLEBODY133

if TYPE_CHECKING:
    from posekit.io.video import VideoSource

# on_frame(poses, tracks seen so far) after each frame;
# on_image(path, poses, None) after each image, on_image(path, None, message) for an unreadable one.
FrameCallback = Callable[[Poses, int], None]
ImageCallback = Callable[[Path, Poses | None, str | None], None]


@dataclass(frozen=True)
class TrackSummary:
    """What one :func:`track_to_folder` call did; ``elapsed_s`` counts from the first frame."""

    frames: int
    people: int
    tracks: int
    elapsed_s: float
    frames_failed: int
    reconnects: int
    stopped_reason: str | None


@dataclass(frozen=True)
class PredictSummary:
    """What one :func:`predict_to_folder` call did; ``failures`` are the unreadable images' messages."""

    images: int
    people: int
    elapsed_s: float
    failures: list[str] = field(default_factory=list)


def track_to_folder(
    source: VideoSource,
    out_dir: Path,
    options: VideoOptions,
    *,
    fmt: str = "jsonl",
    render: bool = False,
    video: VideoPoseEstimator | None = None,
    on_frame: FrameCallback | None = None,
) -> TrackSummary:
    """Tracks every frame of ``source`` into ``out_dir`` (which must exist) in format ``fmt``.

    ``render`` also writes ``<stem>_pose.mp4``. With ``options.smoothing == "offline"`` the
    per-frame files are rewritten smoothed at the end, each swapped in whole. ``video``, when
    given, is reset and reused (its options are the ones that count for the models).
    """
    offline = options.smoothing == "offline"
    frames: list[tuple[int, float, Poses]] = []
    track_ids: set[int] = set()
    people = 0
    stride = source.options.stride
    with contextlib.ExitStack() as stack:
        if video is None:
            video = stack.enter_context(VideoPoseEstimator(options))
        else:
            video.reset()
        writer = stack.enter_context(make_frame_writer(fmt, out_dir, source.stem))
        renderer = stack.enter_context(VideoRenderer(out_dir / f"{source.stem}_pose.mp4", source.fps / stride))
        start = time.perf_counter()
        for frame in source:
            poses = video(frame.image_bgr, frame.timestamp_s)
            writer.write(poses, source=source.name, frame_index=frame.index, timestamp_s=frame.timestamp_s)
            if render and not offline:
                renderer.write(frame.image_bgr, poses, frame.timestamp_s)
            if offline:
                frames.append((frame.index, frame.timestamp_s, poses))
            people += len(poses)
            if poses.track_id is not None:
                track_ids.update(int(t) for t in poses.track_id)
            if on_frame is not None:
                on_frame(poses, len(track_ids))
        elapsed = time.perf_counter() - start
        frame_count = video.stats.frames
    if offline and frames:
        _rewrite_smoothed(source, out_dir, frames, options, fmt=fmt, render=render)
    stats = source.stats
    return TrackSummary(
        frames=frame_count,
        people=people,
        tracks=len(track_ids),
        elapsed_s=elapsed,
        frames_failed=stats.frames_failed,
        reconnects=stats.reconnects,
        stopped_reason=stats.stopped_reason,
    )


def _rewrite_smoothed(
    source: VideoSource,
    out_dir: Path,
    frames: list[tuple[int, float, Poses]],
    options: VideoOptions,
    *,
    fmt: str,
    render: bool,
) -> None:
    """Replaces the per-frame outputs with smoothed ones; each file is swapped in whole."""
    smoothed = smooth_sequence([(time_s, poses) for _, time_s, poses in frames], options.rts)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".smoothing-") as scratch:
        scratch_dir = Path(scratch)
        with make_frame_writer(fmt, scratch_dir, source.stem) as writer:
            for (index, time_s, _), poses in zip(frames, smoothed, strict=True):
                writer.write(poses, source=source.name, frame_index=index, timestamp_s=time_s)
        for path in scratch_dir.iterdir():
            os.replace(path, out_dir / path.name)
    if render:
        _render_second_pass(source, out_dir, frames, smoothed)


def _render_second_pass(
    source: VideoSource, out_dir: Path, frames: list[tuple[int, float, Poses]], smoothed: list[Poses]
) -> None:
    by_index = {index: poses for (index, _, _), poses in zip(frames, smoothed, strict=True)}
    final_path = out_dir / f"{source.stem}_pose.mp4"
    temp_path = out_dir / f".{source.stem}_pose.tmp.mp4"
    try:
        with (
            open_source(source.name, source.options) as again,
            VideoRenderer(temp_path, source.fps / source.options.stride) as renderer,
        ):
            frame: Frame
            for frame in again:
                if frame.index in by_index:
                    renderer.write(frame.image_bgr, by_index[frame.index], frame.timestamp_s)
        shutil.move(str(temp_path), str(final_path))
    finally:
        temp_path.unlink(missing_ok=True)


def predict_to_folder(
    images: Sequence[Path],
    out_dir: Path,
    options: EstimatorOptions,
    *,
    fmt: str = "coco",
    render: bool = False,
    estimator: PoseEstimator | None = None,
    on_image: ImageCallback | None = None,
) -> PredictSummary:
    """Estimates poses in each image into ``out_dir`` (which must exist) in format ``fmt``.

    An unreadable image is skipped and its message kept in ``failures``; the others go on.
    ``render`` also writes ``<stem>_pose.jpg`` overlays. ``estimator``, when given, is reused.
    """
    people = 0
    done = 0
    failures: list[str] = []
    stems = UniqueStems()  # one naming for OpenPose files and renders
    with contextlib.ExitStack() as stack:
        if estimator is None:
            estimator = stack.enter_context(PoseEstimator(options))
        schema = WHOLEBODY133 if options.whole_body else COCO17
        writer = stack.enter_context(make_writer(fmt, out_dir, stems, schema))
        start = time.perf_counter()
        for path in images:
            try:
                image = read_image(path, max_pixels=estimator.options.max_image_pixels)
            except InputError as exc:
                failures.append(str(exc))
                if on_image is not None:
                    on_image(path, None, str(exc))
                continue
            poses = estimator(image)
            writer.write(poses, source=str(path))
            if render:
                rendered = draw_poses(image, poses)
                ok, encoded = cv2.imencode(".jpg", rendered, [cv2.IMWRITE_JPEG_QUALITY, 90])
                if ok:
                    atomic_write_bytes(out_dir / f"{stems(str(path))}_pose.jpg", encoded.tobytes())
            people += len(poses)
            done += 1
            if on_image is not None:
                on_image(path, poses, None)
        elapsed = time.perf_counter() - start
    return PredictSummary(images=done, people=people, elapsed_s=elapsed, failures=failures)
