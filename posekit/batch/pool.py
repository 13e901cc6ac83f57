"""Local worker processes: each loads the models once (a :class:`TaskRunner`) and runs items in turn.

Each worker has its own one-slot queue, so the driver always knows which item a worker holds; a
worker that dies (``kill -9``, out of memory) is noticed by its exit, its item is reported failed
(and retried by the driver), and a fresh worker takes its place. Workers die with the driver
(Linux parent-death signal, and a check of the parent on every progress report), so a killed
driver leaves no worker writing behind it.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import queue
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from posekit.batch.events import BatchEvents, describe_error, is_retryable
from posekit.batch.items import ItemResult, WorkItem

logger = logging.getLogger(__name__)

_POLL_S = 0.2
_PROGRESS_EVERY_S = 0.25


def _die_with_parent(parent_pid: int) -> None:
    """Asks Linux to SIGKILL this process when its parent dies (elsewhere: the progress check only)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except OSError:
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(
    worker_name: str, tasks: Any, results: Any, out_dir: str, num_threads: int | None, parent_pid: int
) -> None:
    """A worker process: runs the items it is sent until it gets ``None``."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    from posekit.batch.runner import TaskRunner, run_item

    with TaskRunner(num_threads, worker=f"{worker_name}@{os.uname().nodename}:{os.getpid()}") as runner:
        while True:
            message = tasks.get()
            if message is None:
                return
            item = WorkItem.from_dict(message)
            reporter = _ProgressReporter(results, worker_name, item.item_id, parent_pid)
            try:
                result = run_item(item, Path(out_dir), on_progress=reporter, runner=runner)
            except Exception as exc:  # every failure is reported; the worker goes on with the next item
                results.put(("failed", worker_name, item.item_id, describe_error(exc), is_retryable(exc)))
            else:
                results.put(("done", worker_name, item.item_id, result.to_dict()))


class _ProgressReporter:
    """A worker's ``on_progress``: sends progress at most every quarter second, and ends the worker
    if its driver is gone (where the parent-death signal is not available)."""

    def __init__(self, results: Any, worker_name: str, item_id: str, parent_pid: int) -> None:
        self.results = results
        self.worker_name = worker_name
        self.item_id = item_id
        self.parent_pid = parent_pid
        self.last_report = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        if os.getppid() != self.parent_pid:
            os._exit(1)
        now = time.monotonic()
        if now - self.last_report >= _PROGRESS_EVERY_S or done == total:
            self.last_report = now
            self.results.put(("progress", self.worker_name, self.item_id, done, total))


@dataclass
class _Worker:
    name: str
    process: BaseProcess
    tasks: Any
    item: WorkItem | None = None

    @property
    def label(self) -> str:
        """As the worker's own TaskRunner names itself: ``w1@host:pid``."""
        return f"{self.name}@{os.uname().nodename}:{self.process.pid}"


class LocalPool:
    """``LocalPool(workers=2, num_threads=1).run(items, out_dir, events)``: every item once, in order,
    on ``workers`` processes; an item the events ask to retry is queued again."""

    def __init__(self, workers: int, num_threads: int | None) -> None:
        self.workers = max(1, workers)
        self.num_threads = num_threads
        self._context = multiprocessing.get_context("spawn")  # no inherited model runtimes or threads
        self._results: Any = None
        self._started = 0

    def _start_worker(self, out_dir: Path) -> _Worker:
        self._started += 1
        name = f"w{self._started}"
        tasks = self._context.Queue(maxsize=1)
        process = self._context.Process(
            target=_worker_main,
            args=(name, tasks, self._results, str(out_dir), self.num_threads, os.getpid()),
            name=f"posekit-batch-{name}",
            daemon=True,
        )
        process.start()
        return _Worker(name, process, tasks)

    def run(self, items: list[WorkItem], out_dir: Path, events: BatchEvents) -> None:
        self._results = self._context.Queue()
        waiting = list(items)
        workers = [self._start_worker(out_dir) for _ in range(min(self.workers, len(items)))]
        try:
            while waiting or any(w.item is not None for w in workers):
                for worker in workers:
                    if worker.item is None and waiting and worker.process.is_alive():
                        worker.item = waiting.pop(0)
                        events.started(worker.item, worker.label)
                        worker.tasks.put(worker.item.to_dict())
                self._handle_messages(workers, waiting, events, block=True)
                self._replace_dead(workers, waiting, out_dir, events)
        finally:
            self._stop(workers)

    def _handle_messages(
        self, workers: list[_Worker], waiting: list[WorkItem], events: BatchEvents, *, block: bool
    ) -> None:
        by_name = {w.name: w for w in workers}
        try:
            message = self._results.get(timeout=_POLL_S) if block else self._results.get_nowait()
        except queue.Empty:
            return
        while True:
            kind, name, item_id = message[0], message[1], message[2]
            worker = by_name.get(name)
            if worker is not None and worker.item is not None and worker.item.item_id == item_id:
                if kind == "progress":
                    events.progress(worker.item, int(message[3]), message[4])
                elif kind == "done":
                    events.finished(worker.item, ItemResult.from_dict(message[3]))
                    worker.item = None
                else:
                    if events.failed(worker.item, str(message[3]), bool(message[4])):
                        waiting.insert(0, worker.item)
                    worker.item = None
            try:
                message = self._results.get_nowait()
            except queue.Empty:
                return

    def _replace_dead(
        self, workers: list[_Worker], waiting: list[WorkItem], out_dir: Path, events: BatchEvents
    ) -> None:
        for index, worker in enumerate(workers):
            if worker.process.is_alive():
                continue
            self._handle_messages(workers, waiting, events, block=False)  # what it said before dying
            code = worker.process.exitcode
            if worker.item is not None:
                how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                if events.failed(worker.item, f"worker process died ({how})", True):
                    waiting.insert(0, worker.item)
                worker.item = None
            if waiting:
                logger.warning("worker %s died (exit code %s); starting another", worker.name, code)
                workers[index] = self._start_worker(out_dir)

    def _stop(self, workers: list[_Worker]) -> None:
        for worker in workers:
            if worker.process.is_alive() and worker.item is None:
                try:
                    worker.tasks.put_nowait(None)
                except queue.Full:
                    pass
        deadline = time.monotonic() + 10.0
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():  # still busy (the run was interrupted): it dies with us anyway
                worker.process.kill()
                worker.process.join(5.0)
