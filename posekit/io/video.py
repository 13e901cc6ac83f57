"""Reading video: files, webcams, RTSP/HTTP streams and folders of frames, as one iterator.

``open_source(spec)`` picks the reader from the spec: a digit string (not an existing file or
folder) is a webcam index, a spec with ``://`` is a stream URL, a folder is a sequence of frames
(in natural order: ``2.png`` before ``10.png``), anything else a video file. Each yields :class:`Frame` objects:

* ``index`` counts decoded frames from 0 at the start of the source, so ``--start``, ``--stride``
  and skipped corrupt frames never renumber the frames that follow;
* ``timestamp_s`` is the container's presentation time when it has one that moves forward,
  else ``index / fps``;
* ``image_bgr`` is 8-bit BGR ``HxWx3``.

Bad input is handled where it happens: a file that will not open, has no frames or an
unsupported codec raises :class:`~posekit.errors.UnreadableInputError` naming it; a frame that
fails to decode mid-file is skipped and counted (``stats.frames_failed``); a stream that drops is
reopened with back-off a bounded number of times, then iteration ends cleanly with
``stats.stopped_reason`` set, so everything written so far stays.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from posekit.errors import InputError, UnreadableInputError, UsageError
from posekit.io.images import IMAGE_SUFFIXES, read_image, to_bgr8

logger = logging.getLogger(__name__)

DEFAULT_FOLDER_FPS = 30.0
# A file's read() can fail on one corrupt frame and succeed on the next; this many failures in
# a row before the known end means the file is truncated.
_MAX_CONSECUTIVE_FAILURES = 25


@dataclass(frozen=True)
class Frame:
    index: int
    timestamp_s: float
    image_bgr: np.ndarray


@dataclass(frozen=True)
class ReadOptions:
    """Which frames to read. ``start_s``/``end_s`` in seconds of source time (``end_s`` exclusive);
    ``stride``: keep every n-th decoded frame; ``max_frames``: stop after this many kept frames.
    ``reconnect_attempts`` and ``reconnect_backoff_s`` (doubling each time) apply to streams."""

    start_s: float = 0.0
    end_s: float | None = None
    max_frames: int | None = None
    stride: int = 1
    folder_fps: float = DEFAULT_FOLDER_FPS
    reconnect_attempts: int = 5
    reconnect_backoff_s: float = 0.5

    def __post_init__(self) -> None:
        if self.stride < 1:
            raise UsageError(f"stride must be >= 1, got {self.stride}")
        if self.start_s < 0 or (self.end_s is not None and self.end_s <= self.start_s):
            raise UsageError(f"need 0 <= start < end; got start {self.start_s}, end {self.end_s}")
        if self.max_frames is not None and self.max_frames < 1:
            raise UsageError(f"max_frames must be >= 1, got {self.max_frames}")
        if self.folder_fps <= 0:
            raise UsageError(f"folder_fps must be > 0, got {self.folder_fps}")


@dataclass
class ReadStats:
    """What happened while reading; filled in as frames are read."""

    frames_decoded: int = 0
    frames_failed: int = 0
    reconnects: int = 0
    stopped_reason: str | None = None
    failures: list[str] = field(default_factory=list)


class VideoSource:
    """An iterator of :class:`Frame` over one source; a context manager that releases it.

    ``name`` is the spec as given, ``stem`` a file-name-safe name for outputs, ``fps`` the
    source's frame rate (or the folder fps), ``frame_count`` the number of frames when known
    (files and folders), ``is_live`` for webcams and streams.
    """

    def __init__(
        self,
        name: str,
        stem: str,
        fps: float,
        frame_count: int | None,
        is_live: bool,
        read_raw: Callable[[], Iterator[tuple[np.ndarray | None, float | None]]],
        options: ReadOptions,
        stats: ReadStats,
        release: Callable[[], None],
    ) -> None:
        self.name = name
        self.stem = stem
        self.fps = fps
        self.frame_count = frame_count
        self.is_live = is_live
        self.options = options
        self.stats = stats
        self._read_raw = read_raw
        self._release = release

    @property
    def frames_to_read(self) -> int | None:
        """How many frames iteration will yield, when the source length is known."""
        if self.frame_count is None:
            return None
        first = min(self.frame_count, math.ceil(self.options.start_s * self.fps - 1e-9))
        last = self.frame_count
        if self.options.end_s is not None:
            last = min(last, math.ceil(self.options.end_s * self.fps - 1e-9))
        count = max(0, math.ceil((last - first) / self.options.stride))
        return count if self.options.max_frames is None else min(count, self.options.max_frames)

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._release()

    def __iter__(self) -> Iterator[Frame]:
        options = self.options
        kept = 0
        first_kept_index: int | None = None
        last_time = -math.inf
        for index, (image, container_time_s) in enumerate(self._read_raw()):
            # A container time that does not move forward is not usable; fall back to the fps.
            if container_time_s is not None and container_time_s > last_time:
                timestamp_s = container_time_s
            else:
                timestamp_s = index / self.fps
            last_time = timestamp_s
            if timestamp_s + 1e-9 < options.start_s:
                continue
            if options.end_s is not None and timestamp_s >= options.end_s - 1e-9:
                break
            if first_kept_index is None:
                first_kept_index = index
            if (index - first_kept_index) % options.stride:
                continue
            if image is None:
                continue  # a frame that failed to decode: counted by the reader, skipped here
            yield Frame(index, timestamp_s, image)
            kept += 1
            if options.max_frames is not None and kept >= options.max_frames:
                break


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", path.name)]


def _safe_stem(text: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "stream"
    return stem[:80]


def open_source(spec: str | int | Path, options: ReadOptions | None = None) -> VideoSource:
    """Opens a video file, webcam index, stream URL or folder of frames (see module docs)."""
    options = options or ReadOptions()
    text = str(spec)
    if isinstance(spec, int) or (text.isdigit() and not Path(text).exists()):
        return _open_capture(text, int(text), _safe_stem(f"webcam{text}"), is_live=True, options=options)
    if "://" in text:
        return _open_capture(text, text, _safe_stem(text.split("://", 1)[1]), is_live=True, options=options)
    path = Path(text)
    if path.is_dir():
        return _open_folder(path, options)
    if not path.exists():
        raise UnreadableInputError(text, "no such video file or folder")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UnreadableInputError(text, f"cannot read: {exc.strerror or exc}") from exc
    if size == 0:
        raise UnreadableInputError(text, "empty file (0 bytes)")
    return _open_capture(text, text, _safe_stem(path.stem), is_live=False, options=options)


def _quiet_ffmpeg() -> None:
    """Keeps FFmpeg's decoder chatter (``[mpeg4 @ 0x...] Error at MB ...``) off stderr: posekit
    counts and reports the frames that fail itself. OpenCV reads this setting when its FFmpeg
    backend starts (the first capture); ``posekit -v`` leaves FFmpeg's own level."""
    if not logger.isEnabledFor(logging.DEBUG):
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


def _open_capture(name: str, target: str | int, stem: str, *, is_live: bool, options: ReadOptions) -> VideoSource:
    _quiet_ffmpeg()
    reader = _CaptureReader(name, target, is_live, options)
    return VideoSource(
        name,
        stem,
        reader.fps,
        reader.frame_count,
        is_live,
        reader.frames,
        options,
        reader.stats,
        release=reader.release,
    )


class _CaptureReader:
    """Frames of an OpenCV capture: skips frames that fail to decode before the known end of a
    file, and reconnects to a dropped stream with exponential backoff."""

    def __init__(self, name: str, target: str | int, is_live: bool, options: ReadOptions) -> None:
        self.name, self.target, self.is_live, self.options = name, target, is_live, options
        capture = self._connect()
        if capture is None:
            reason = (
                "cannot open stream (no answer or not a video stream)"
                if is_live
                else "cannot open as a video (not a video, truncated, or a codec OpenCV cannot decode)"
            )
            raise UnreadableInputError(name, reason)
        self.capture = capture
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if math.isfinite(fps) and 0 < fps <= 1000 else 30.0
        reported_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = reported_count if (not is_live and reported_count > 0) else None
        self.stats = ReadStats()
        if not is_live:
            self._check_first_frame()

    def _connect(self) -> cv2.VideoCapture | None:
        capture = cv2.VideoCapture(self.target)
        if capture.isOpened():
            return capture
        capture.release()
        return None

    def _check_first_frame(self) -> None:
        # Decode the first frame now: a file OpenCV opens but cannot decode fails here, clearly.
        ok, first = self.capture.read()
        if not ok or first is None:
            self.capture.release()
            raise UnreadableInputError(self.name, "no decodable frames (zero-length, truncated or unsupported codec)")
        self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        if self.capture.get(cv2.CAP_PROP_POS_FRAMES) != 0:  # seeking back failed: reopen instead
            self.capture.release()
            reopened = self._connect()
            if reopened is None:
                raise UnreadableInputError(self.name, "cannot reopen video")
            self.capture = reopened

    def release(self) -> None:
        self.capture.release()

    def frames(self) -> Iterator[tuple[np.ndarray | None, float | None]]:
        """``(image or None for a frame that failed, timestamp_s or None)`` until the end."""
        failures_in_row = 0
        attempts_left = self.options.reconnect_attempts
        index = 0
        while True:
            ok, image = self.capture.read()
            if ok and image is not None:
                failures_in_row = 0
                attempts_left = self.options.reconnect_attempts
                milliseconds = self.capture.get(cv2.CAP_PROP_POS_MSEC)
                self.stats.frames_decoded += 1
                index += 1
                yield (to_bgr8(image), milliseconds / 1000.0 if milliseconds and milliseconds > 0 else None)
                continue
            if self.is_live:
                if not self._reconnect(attempts_left):
                    return
                attempts_left -= 1
                continue
            if self.frame_count is not None and index < self.frame_count:
                if failures_in_row < _MAX_CONSECUTIVE_FAILURES:
                    # A frame that fails to decode before the known end: skip it and go on.
                    failures_in_row += 1
                    self.stats.frames_failed += 1
                    self.stats.failures.append(f"frame {index} failed to decode")
                    index += 1
                    yield (None, None)
                    continue
                self.stats.stopped_reason = f"file ends early: {index} of {self.frame_count} frames readable"
                logger.warning("%s: %s", self.name, self.stats.stopped_reason)
            return

    def _reconnect(self, attempts_left: int) -> bool:
        """Waits and reconnects to a dropped stream; False once the attempts are used up."""
        options = self.options
        if attempts_left <= 0:
            self.stats.stopped_reason = f"stream dropped; gave up after {options.reconnect_attempts} reconnects"
            logger.warning("%s: %s", self.name, self.stats.stopped_reason)
            return False
        delay = options.reconnect_backoff_s * 2 ** (options.reconnect_attempts - attempts_left)
        self.stats.reconnects += 1
        logger.warning("%s: stream dropped, reconnecting in %.1fs", self.name, delay)
        time.sleep(delay)
        self.capture.release()
        self.capture = self._connect() or self.capture
        return True


def _open_folder(folder: Path, options: ReadOptions) -> VideoSource:
    frames = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key
    )
    if not frames:
        raise UnreadableInputError(str(folder), "folder has no image frames")
    stats = ReadStats()

    def read_raw() -> Iterator[tuple[np.ndarray | None, float | None]]:
        for path in frames:
            try:
                image = read_image(path)
            except InputError as exc:
                stats.frames_failed += 1
                stats.failures.append(str(exc))
                logger.warning("skipped frame %s", exc)
                yield (None, None)
                continue
            stats.frames_decoded += 1
            yield (image, None)

    return VideoSource(
        str(folder),
        _safe_stem(folder.name),
        options.folder_fps,
        len(frames),
        False,
        read_raw,
        options,
        stats,
        release=lambda: None,
    )
