"""Models loaded once and shared by requests, and the bound on how much work runs at once.

:class:`EstimatorPool` keeps loaded :class:`~posekit.PoseEstimator` objects per options (an
estimator serves one call at a time, so there are as many per options as calls can run at once),
and :class:`WorkLimiter` runs calls on a fixed thread pool of ``workers`` threads, admitting at
most ``queue`` more to wait: beyond that a call is refused with :class:`ServiceBusy` (503).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from posekit import EstimatorOptions, PoseEstimator, VideoOptions, VideoPoseEstimator

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ServiceBusy(Exception):
    """More work is waiting than the service admits; retry after ``retry_after_s``."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class WorkTimeout(Exception):
    """A call ran past the request time limit (it finishes in the background, its answer dropped)."""


class EstimatorPool:
    """Loaded estimators by options; at most ``max_option_sets`` option sets are kept loaded."""

    def __init__(self, max_option_sets: int = 4) -> None:
        self._idle: OrderedDict[EstimatorOptions, list[PoseEstimator]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_option_sets = max_option_sets

    def preload(self, options: EstimatorOptions, count: int) -> None:
        loaded = [PoseEstimator(options) for _ in range(count)]
        with self._lock:
            self._idle.setdefault(options, []).extend(loaded)

    @contextmanager
    def lease(self, options: EstimatorOptions) -> Iterator[PoseEstimator]:
        with self._lock:
            idle = self._idle.setdefault(options, [])
            self._idle.move_to_end(options)
            estimator = idle.pop() if idle else None
        if estimator is None:
            logger.info("loading models for %s", options)
            estimator = PoseEstimator(options)
        try:
            yield estimator
        finally:
            with self._lock:
                self._idle.setdefault(options, []).append(estimator)
                self._idle.move_to_end(options)
                self._evict()

    def _evict(self) -> None:
        while len(self._idle) > self._max_option_sets:
            _, estimators = self._idle.popitem(last=False)
            for estimator in estimators:
                estimator.close()

    def close(self) -> None:
        with self._lock:
            for estimators in self._idle.values():
                for estimator in estimators:
                    estimator.close()
            self._idle.clear()


class StreamPool:
    """Video estimators for WebSocket streams: one per connection, reset and reused by the next."""

    def __init__(self, max_streams: int) -> None:
        self._idle: dict[VideoOptions, list[VideoPoseEstimator]] = {}
        self._lock = threading.Lock()
        self.max_streams = max_streams
        self.active = 0

    def acquire(self, options: VideoOptions) -> VideoPoseEstimator:
        """Raises :class:`ServiceBusy` when ``max_streams`` streams are open."""
        with self._lock:
            if self.active >= self.max_streams:
                raise ServiceBusy(f"{self.max_streams} streams are open; try again later", 5)
            self.active += 1
            idle = self._idle.get(options, [])
            video = idle.pop() if idle else None
        if video is None:
            try:
                video = VideoPoseEstimator(options)
            except BaseException:
                with self._lock:
                    self.active -= 1
                raise
        video.reset()
        return video

    def release(self, video: VideoPoseEstimator, *, reuse: bool = True) -> None:
        """``reuse=False``: a frame may still be running on it (timed out); it is dropped, not reset."""
        with self._lock:
            self.active -= 1
            if not reuse:
                return
            idle = self._idle.setdefault(video.options, [])
            if len(idle) < self.max_streams:
                idle.append(video)
                return
        video.close()

    def close(self) -> None:
        with self._lock:
            for videos in self._idle.values():
                for video in videos:
                    video.close()
            self._idle.clear()


class WorkLimiter:
    """Runs blocking calls on ``workers`` threads; at most ``workers + queue`` admitted at once."""

    def __init__(self, workers: int, queue: int, timeout_s: float) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.timeout_s = timeout_s
        self.admitted = 0  # touched on the event loop only
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="posekit-infer")

    async def run(self, call: Callable[[], T], *, admit: bool = True) -> T:
        """``call()`` on a worker thread. ``admit=False`` skips the queue bound (a stream's
        frames: each connection has at most one in flight, and streams are bounded apart)."""
        if admit and self.admitted >= self.capacity:
            raise ServiceBusy(f"{self.admitted} requests in progress or waiting; try again shortly", 1)
        self.admitted += 1
        future = asyncio.get_running_loop().run_in_executor(self._executor, call)
        future.add_done_callback(self._finished)  # the slot stays taken until the thread is done
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError as exc:
            raise WorkTimeout(f"the request took longer than {self.timeout_s:g} s") from exc

    def _finished(self, _future: object) -> None:
        self.admitted -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
