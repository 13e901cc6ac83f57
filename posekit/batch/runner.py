"""Running one work item: :func:`run_item`, with a :class:`TaskRunner` that keeps models loaded.

Every item writes into a fresh hidden folder ``<out>/.partial/<out_name>.<random>`` and is renamed to
``<out>/<out_name>`` only once all its files are written and synced, so a crash, a kill or a full disk
never leaves half an output where a finished one belongs (a rerun clears ``.partial``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from posekit import (
    EstimatorOptions,
    InputError,
    PoseEstimator,
    ReadOptions,
    UsageError,
    VideoOptions,
    VideoPoseEstimator,
)
from posekit.batch.items import ItemResult, WorkItem, file_records
from posekit.batch.options import parse_item_options

logger = logging.getLogger(__name__)

PARTIAL_DIR = ".partial"
ProgressCallback = Callable[[int, int | None], None]  # (frames done, frames in total or None)


class TaskRunner:
    """Loaded models, kept between items: ``with TaskRunner(num_threads=2) as runner: run_item(..., runner=runner)``.

    One video estimator and one image estimator are cached per distinct options value (items of a
    batch share their options, so a worker loads each model once). ``num_threads``, when set, is
    the CPU threads per model for every item, whatever the item says.
    """

    def __init__(self, num_threads: int | None = None, *, worker: str | None = None) -> None:
        self.num_threads = num_threads
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._videos: dict[VideoOptions, VideoPoseEstimator] = {}
        self._images: dict[EstimatorOptions, PoseEstimator] = {}

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for video in self._videos.values():
            video.close()
        for estimator in self._images.values():
            estimator.close()
        self._videos.clear()
        self._images.clear()

    def _threads(self, options: EstimatorOptions) -> EstimatorOptions:
        return options if self.num_threads is None else replace(options, num_threads=self.num_threads)

    def video_options(self, options: VideoOptions) -> VideoOptions:
        return replace(options, estimator=self._threads(options.estimator))

    def estimator_options(self, options: EstimatorOptions) -> EstimatorOptions:
        return self._threads(options)

    def video(self, options: VideoOptions) -> VideoPoseEstimator:
        """The video estimator for ``options`` (already threaded by :meth:`video_options`), reset."""
        if options not in self._videos:
            self._videos[options] = VideoPoseEstimator(options)
        video = self._videos[options]
        video.reset()
        return video

    def estimator(self, options: EstimatorOptions) -> PoseEstimator:
        if options not in self._images:
            self._images[options] = PoseEstimator(options)
        return self._images[options]


def run_item(
    item: WorkItem,
    out_dir: Path,
    *,
    on_progress: ProgressCallback | None = None,
    runner: TaskRunner | None = None,
) -> ItemResult:
    """Runs ``item`` in this process and publishes its outputs as ``out_dir / item.out_name``.

    Raises :class:`~posekit.errors.InputError` for a bad source (unreadable, corrupt, no frames),
    :class:`~posekit.errors.UsageError` for bad options, ``OSError`` for a full or unwritable
    disk; in every case nothing is left under ``out_dir / item.out_name`` that was not there before.
    An existing folder of that name (an earlier run of the item) is replaced whole.
    """
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if runner is None:
            runner = stack.enter_context(TaskRunner())
        partial = Path(out_dir) / PARTIAL_DIR / f"{item.out_name}.{secrets.token_hex(4)}"
        partial.mkdir(parents=True)
        try:
            frames, people = _TASKS[item.task](item, partial, runner, on_progress)
            files = _sync_and_record(partial)
            _publish(partial, Path(out_dir) / item.out_name)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    seconds = time.perf_counter() - started
    return ItemResult(files=files, frames=frames, people=people, seconds=seconds, worker=runner.worker)


def _sync_and_record(folder: Path) -> list[dict[str, Any]]:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    return file_records(folder)


def _publish(partial: Path, final: Path) -> None:
    """Renames the finished folder into place; an older one is moved aside first, then removed."""
    old = partial.with_name(partial.name + ".old")
    if final.exists():
        os.replace(final, old)
    os.replace(partial, final)
    shutil.rmtree(old, ignore_errors=True)
    fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


TaskFunction = Callable[[WorkItem, Path, TaskRunner, ProgressCallback | None], tuple[int, int]]


def _track(item: WorkItem, folder: Path, runner: TaskRunner, on_progress: ProgressCallback | None) -> tuple[int, int]:
    from posekit.cli.track import video_options_from_args
    from posekit.tasks import track_to_folder

    args = parse_item_options(item.task, item.source, item.options)
    options = runner.video_options(video_options_from_args(args))
    read_options = ReadOptions(
        start_s=args.start, end_s=args.end, max_frames=args.max_frames, stride=args.stride, folder_fps=args.fps
    )
    fmt = "jsonl" if item.task == "analyze" else args.format
    if item.task == "analyze" and args.format != "jsonl":
        raise UsageError("analyze reads the track's JSON lines: leave --format at jsonl")
    from posekit import open_source

    with open_source(item.source, read_options) as source:
        if options.smoothing == "offline" and source.is_live:
            raise UsageError(f"{item.source}: --smooth offline needs a file or folder, not a live source")
        total = source.frames_to_read
        done = 0

        def on_frame(poses: object, tracks: int) -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done, total)

        summary = track_to_folder(
            source, folder, options, fmt=fmt, render=args.render, video=runner.video(options), on_frame=on_frame
        )
    if summary.stopped_reason:
        raise InputError(item.source, summary.stopped_reason)
    if summary.frames == 0:
        raise InputError(item.source, "no frames in the chosen range")
    if summary.frames_failed:
        logger.warning("%s: %d frames failed to decode", item.source, summary.frames_failed)
    if item.task == "analyze":
        _analyze(item, folder, args, source.stem)
    return summary.frames, summary.people


def _analyze(item: WorkItem, folder: Path, args: Any, stem: str) -> None:
    try:
        from posekit.analysis import AnalysisOptions, run_analysis  # another package; optional until it lands
    except ImportError as exc:
        raise UsageError(f"the analyze task needs posekit.analysis, which cannot be imported here ({exc})") from exc
    angles = tuple(name.strip() for name in args.angles.split(",") if name.strip()) if args.angles else None
    options = AnalysisOptions(exercise=args.exercise, angles=angles, classifier=args.classifier, render=args.render)
    run_analysis(folder / f"{stem}.jsonl", folder / "analysis", options)


def _predict(item: WorkItem, folder: Path, runner: TaskRunner, on_progress: ProgressCallback | None) -> tuple[int, int]:
    from posekit.cli.options import options_from_args
    from posekit.io.images import IMAGE_SUFFIXES
    from posekit.tasks import predict_to_folder

    source = Path(item.source)
    if not source.is_dir():
        raise InputError(item.source, "predict items are folders of images")
    images = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not images:
        raise InputError(item.source, "folder has no images")
    args = parse_item_options("predict", item.source, item.options)
    needs_landmarks = args.format != "coco" or args.render or args.whole_body
    options = runner.estimator_options(options_from_args(args, output_needs_landmarks=needs_landmarks))
    done = 0

    def on_image(path: Path, poses: object, error: str | None) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, len(images))

    estimator = runner.estimator(options)
    summary = predict_to_folder(
        images, folder, options, fmt=args.format, render=args.render, estimator=estimator, on_image=on_image
    )
    if summary.failures:
        more = f" (and {len(summary.failures) - 1} more)" if len(summary.failures) > 1 else ""
        raise InputError(item.source, f"unreadable image: {summary.failures[0]}{more}")
    return summary.images, summary.people


_TASKS: dict[str, TaskFunction] = {"track": _track, "analyze": _track, "predict": _predict}
