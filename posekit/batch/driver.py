"""The batch driver: ledger in, items out to a backend, every outcome back into the ledger.

:func:`run_batch` adds the items to the ledger, leaves the ``done`` ones alone, runs the rest
(``pending``, ``failed``, and ``running`` ones whose run died) on the local pool or on Ray, retries
failures that may pass on a second try up to ``retries`` times, and returns a :class:`BatchReport`.
The driver is the only writer of the ledger during a run, and only one driver may use an output
folder at a time (a lock file), so a run started locally can be finished on Ray and back.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from posekit.batch.events import BatchEvents
from posekit.batch.items import ItemResult, WorkItem
from posekit.batch.ledger import Ledger
from posekit.batch.runner import PARTIAL_DIR
from posekit.errors import UsageError

logger = logging.getLogger(__name__)

LEDGER_NAME = "ledger.sqlite"
LOCK_NAME = ".batch.lock"


def default_layout(cores: int | None = None) -> tuple[int, int]:
    """(worker processes, threads per model) used when neither is given: one process per core,
    one thread each, measured best on 2 cores (see docs/batch.md)."""
    cores = cores or os.cpu_count() or 1
    return cores, 1


@dataclass(frozen=True)
class BatchOptions:
    """``workers``/``threads``: None for :func:`default_layout` (threads: cores / workers when only
    ``workers`` is given); ``retries``: extra attempts per item in this run; ``ray``: None for local
    processes, ``"local"`` for a Ray started here, else the address of a running cluster."""

    workers: int | None = None
    threads: int | None = None
    retries: int = 2
    ray: str | None = None


@dataclass
class ProgressState:
    """What a progress display needs; ``frames_total`` is an estimate until every item started."""

    items_total: int
    items_done: int = 0
    items_failed: int = 0
    items_skipped: int = 0
    frames_done: int = 0
    frames_total: int | None = None
    started_at: float = field(default_factory=time.perf_counter)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started_at


@dataclass(frozen=True)
class BatchReport:
    """A run's outcome: items this run finished, skipped as done before, and failed (with errors)."""

    total: int
    done: int
    skipped: int
    failed: list[tuple[WorkItem, str]]
    frames: int
    seconds: float
    option_changes: list[WorkItem]


def resolve_layout(options: BatchOptions) -> tuple[int, int]:
    cores = os.cpu_count() or 1
    default_workers, default_threads = default_layout(cores)
    workers = options.workers or default_workers
    threads = options.threads or (max(1, cores // workers) if options.workers else default_threads)
    return workers, threads


@contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Only one driver per output folder; the lock goes with the process, also when it is killed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UsageError(
                f"another posekit batch is running on {out_dir}; wait for it or use another --out"
            ) from exc
        yield


class _Driver(BatchEvents):
    def __init__(self, ledger: Ledger, retries: int, state: ProgressState, on_change: Callable[[ProgressState], None]):
        self.ledger = ledger
        self.retries = retries
        self.state = state
        self.on_change = on_change
        self.attempts: dict[str, int] = {}
        self.frames_seen: dict[str, int] = {}
        self.totals: dict[str, int | None] = {}
        self.failures: dict[str, tuple[WorkItem, str]] = {}
        self.done = 0

    def started(self, item: WorkItem, worker: str) -> None:
        self.attempts[item.item_id] = self.attempts.get(item.item_id, 0) + 1
        self.ledger.mark_running(item.item_id, worker=worker)
        self._frames(item, 0, None)

    def progress(self, item: WorkItem, frames_done: int, frames_total: int | None) -> None:
        self.ledger.update_progress(item.item_id, frames_done, frames_total)
        self._frames(item, frames_done, frames_total)

    def finished(self, item: WorkItem, result: ItemResult) -> None:
        self.ledger.mark_done(item.item_id, result)
        self.failures.pop(item.item_id, None)
        self.done += 1
        self.state.items_done += 1
        self._frames(item, result.frames, result.frames)

    def failed(self, item: WorkItem, error: str, retryable: bool) -> bool:
        self.ledger.mark_failed(item.item_id, error)
        retry = retryable and self.attempts.get(item.item_id, 0) <= self.retries
        logger.info("%s failed (%s)%s", item.item_id, error, "; retrying" if retry else "")
        if retry:
            self._frames(item, 0, self.totals.get(item.item_id))
        else:
            self.failures[item.item_id] = (item, error)
            self.state.items_failed += 1
            self._frames(item, 0, 0)
        return retry

    def _frames(self, item: WorkItem, done: int, total: int | None) -> None:
        self.state.frames_done += done - self.frames_seen.get(item.item_id, 0)
        self.frames_seen[item.item_id] = done
        if total is not None:
            self.totals[item.item_id] = total
        known = [t for t in self.totals.values() if t is not None]
        unstarted = self.state.items_total - self.state.items_skipped - len(known)
        if known:
            average = sum(known) / len(known)
            self.state.frames_total = int(sum(known) + average * max(0, unstarted))
        self.on_change(self.state)


def run_batch(
    items: list[WorkItem],
    out_dir: Path,
    options: BatchOptions,
    *,
    on_change: Callable[[ProgressState], None] | None = None,
) -> BatchReport:
    """Runs every item of ``items`` not already done in ``out_dir``'s ledger; see the module doc."""
    with output_lock(out_dir):
        shutil.rmtree(out_dir / PARTIAL_DIR, ignore_errors=True)  # half-written items of a run that died
        ledger = Ledger(out_dir / LEDGER_NAME)
        ledger.add(items)
        entries = {entry.item_id: entry for entry in ledger.entries()}
        changed = [i for i in items if entries[i.item_id].item.options != i.options]
        for item in changed:
            if entries[item.item_id].state != "done":  # not finished: the new options count
                ledger.remove(item.item_id)
                ledger.add([item])
        changed = [i for i in changed if entries[i.item_id].state == "done"]
        todo = [i for i in items if entries[i.item_id].state != "done"]
        state = ProgressState(items_total=len(items), items_skipped=len(items) - len(todo))
        state.items_done = state.items_skipped
        done_before = [entries[i.item_id].result for i in items if entries[i.item_id].state == "done"]
        state.frames_done = sum(result.frames for result in done_before if result is not None)
        driver = _Driver(ledger, options.retries, state, on_change or (lambda _: None))
        started = time.perf_counter()
        if todo:
            _backend(options).run(todo, out_dir, driver)
        # every item has ended (a killed worker may have left its half-written copy behind)
        shutil.rmtree(out_dir / PARTIAL_DIR, ignore_errors=True)
        return BatchReport(
            total=len(items),
            done=driver.done,
            skipped=len(items) - len(todo),
            failed=list(driver.failures.values()),
            frames=sum(driver.frames_seen.values()),
            seconds=time.perf_counter() - started,
            option_changes=changed,
        )


def _backend(options: BatchOptions):  # type: ignore[no-untyped-def]
    workers, threads = resolve_layout(options)
    if options.ray is not None:
        from posekit.batch.ray_pool import RayPool

        return RayPool(options.ray, workers=options.workers, num_threads=options.threads)
    from posekit.batch.pool import LocalPool

    return LocalPool(workers, threads)
