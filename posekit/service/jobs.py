"""Video jobs: uploads run as the batch engine's work items, recorded in its ledger under ``--data``.

Layout under the data folder: ``ledger.sqlite`` (one row per job: the :class:`WorkItem`, its state,
progress, error and result), ``uploads/<job id>`` (the video, under a name the service makes),
``results/<job id>/`` (what :func:`posekit.batch.run_item` wrote, each file atomically), and
``meta/<job id>.json`` (the upload's name as given, for display). A job is marked ``done`` only
after its outputs are complete, so a finished job's results are never half-written. A job found
``running`` or ``pending`` at start (the server was stopped mid-job) runs again from the start;
after ``MAX_ATTEMPTS`` starts it is marked failed with the reason.
"""

from __future__ import annotations

import logging
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posekit.batch import ItemResult, Ledger, LedgerEntry, TaskName, TaskRunner, WorkItem, run_item
from posekit.batch.options import parse_item_options
from posekit.batch.runner import PARTIAL_DIR
from posekit.io.writers import atomic_write_json
from posekit.service.metrics import Metrics

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_PROGRESS_EVERY_S = 0.5  # ledger writes are fsynced: progress is saved at most this often


class JobStopped(Exception):
    """Raised from the progress callback to stop a job (deleted, or over its time limit)."""


@dataclass
class _Running:
    started_s: float
    cancelled: bool = False
    last_saved_s: float = 0.0


class JobManager:
    """Runs jobs on ``workers`` threads, each with its own :class:`TaskRunner` (models kept loaded)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int,
        max_jobs: int,
        timeout_s: float,
        threads: int = 2,
        metrics: Metrics | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.uploads = data_dir / "uploads"
        self.results = data_dir / "results"
        self.meta = data_dir / "meta"
        for folder in (self.uploads, self.results, self.meta):
            folder.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(data_dir / "ledger.sqlite")
        self.max_jobs = max_jobs
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.threads = threads
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"posekit-job-{i}", daemon=True) for i in range(workers)
        ]
        self._resume()
        for thread in self._threads:
            thread.start()

    # --- submitting and reading --------------------------------------------------------------

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(18)

    def upload_path(self, job_id: str) -> Path:
        return self.uploads / f"{job_id}.video"

    def result_dir(self, job_id: str) -> Path:
        return self.results / job_id

    def active_count(self) -> int:
        counts = self.ledger.summary()
        return counts["pending"] + counts["running"]

    def submit(self, job_id: str, task: TaskName, options: dict[str, Any], upload_name: str) -> None:
        """The upload is already at :meth:`upload_path`; records the job and queues it."""
        atomic_write_json(self.meta / f"{job_id}.json", {"upload_name": upload_name, "created": time.time()})
        item = WorkItem(
            item_id=job_id, source=str(self.upload_path(job_id)), task=task, options=options, out_name=job_id
        )  # type: ignore[arg-type]
        self.ledger.add([item])
        self._queue.put(job_id)

    @staticmethod
    def check_options(task: TaskName, options: dict[str, Any]) -> None:
        """Raises UsageError for options the task's command would refuse."""
        parse_item_options(task, "upload", options)

    def get(self, job_id: str) -> LedgerEntry | None:
        return self.ledger.get(job_id)

    def upload_name(self, job_id: str) -> str | None:
        import json

        try:
            return str(json.loads((self.meta / f"{job_id}.json").read_text())["upload_name"])
        except (OSError, ValueError, KeyError):
            return None

    def counts(self) -> dict[str, int]:
        return self.ledger.summary()

    def delete(self, job_id: str) -> bool:
        """Removes a job and its files; a running one is stopped first (its thread cleans up)."""
        if self.ledger.get(job_id) is None:
            return False
        with self._lock:
            running = self._running.get(job_id)
            if running is not None:
                running.cancelled = True
        self.ledger.remove(job_id)
        if running is None:
            self._remove_files(job_id)
        return True

    def _remove_files(self, job_id: str) -> None:
        self.upload_path(job_id).unlink(missing_ok=True)
        (self.meta / f"{job_id}.json").unlink(missing_ok=True)
        (self.results / f"{job_id}.zip").unlink(missing_ok=True)
        shutil.rmtree(self.result_dir(job_id), ignore_errors=True)

    # --- running -----------------------------------------------------------------------------

    def _resume(self) -> None:
        # Half-written outputs of jobs cut off by a stop; each job reruns into a fresh one.
        shutil.rmtree(self.results / PARTIAL_DIR, ignore_errors=True)
        for entry in self.ledger.entries():
            if entry.state not in ("pending", "running"):
                continue
            job_id = entry.item_id
            if not self.upload_path(job_id).is_file():
                self.ledger.mark_failed(job_id, "the uploaded video is gone (server restarted); upload it again")
            elif entry.attempts >= MAX_ATTEMPTS:
                self.ledger.mark_failed(job_id, f"interrupted {entry.attempts} times (server stopped mid-job)")
            else:
                logger.info("job %s was %s when the server stopped: running it again", job_id, entry.state)
                self._queue.put(job_id)

    def _work(self) -> None:
        runner = TaskRunner(num_threads=self.threads)
        while (job_id := self._queue.get()) is not None:
            entry = self.ledger.get(job_id)
            if entry is None or entry.state not in ("pending", "running"):
                continue  # deleted while it waited
            self._run(entry.item, runner)

    def _run(self, item: WorkItem, runner: TaskRunner) -> None:
        job_id = item.item_id
        control = _Running(started_s=time.monotonic())
        with self._lock:
            self._running[job_id] = control
        try:
            shutil.rmtree(self.result_dir(job_id), ignore_errors=True)  # a rerun starts clean
            self.ledger.mark_running(job_id)
            result = run_item(item, self.results, on_progress=self._progress(job_id, control), runner=runner)
            if control.cancelled:
                raise JobStopped("deleted")
            self.ledger.mark_done(job_id, result)
            self._count(result)
        except JobStopped as stop:
            if not control.cancelled:
                self._fail(job_id, str(stop))
        except Exception as exc:  # noqa: BLE001 - any failure of one job is recorded, the server goes on
            logger.warning("job %s failed: %s", job_id, exc)
            self._fail(job_id, _one_line(exc))
        finally:
            with self._lock:
                self._running.pop(job_id, None)
            if control.cancelled:
                self._remove_files(job_id)

    def _fail(self, job_id: str, reason: str) -> None:
        try:
            self.ledger.mark_failed(job_id, reason)
        except KeyError:  # deleted meanwhile
            pass

    def _count(self, result: ItemResult) -> None:
        if self.metrics is not None:
            self.metrics.add_frames("job", result.frames, result.people)

    def _progress(self, job_id: str, control: _Running) -> Callable[[int, int | None], None]:
        def on_progress(done: int, total: int | None) -> None:
            if control.cancelled:
                raise JobStopped("deleted")
            now = time.monotonic()
            if now - control.started_s > self.timeout_s:
                raise JobStopped(f"stopped: the job took longer than its limit of {self.timeout_s:g} s")
            if now - control.last_saved_s >= _PROGRESS_EVERY_S or (total is not None and done >= total):
                control.last_saved_s = now
                try:
                    self.ledger.update_progress(job_id, done, total)
                except KeyError as exc:
                    raise JobStopped("deleted") from exc

        return on_progress

    def close(self) -> None:
        """Stops taking jobs; running ones stay ``running`` in the ledger and run again at next start."""
        for _ in self._threads:
            self._queue.put(None)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:500]
