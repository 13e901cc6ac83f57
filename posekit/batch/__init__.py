"""Batch processing: many sources, one task, a durable ledger, local worker processes or Ray.

The shared vocabulary (also used by ``posekit serve``)::

    from posekit.batch import Ledger, TaskRunner, make_item, run_item

    item = make_item("walk.mp4", "track", {"max_frames": 50})   # WorkItem, id "walk-1a2b3c4d"
    ledger = Ledger(out / "ledger.sqlite")
    ledger.add([item])
    with TaskRunner(num_threads=2) as runner:                   # models loaded once, reused
        ledger.mark_running(item.item_id)
        result = run_item(item, out, runner=runner)             # out / item.out_name, atomically
        ledger.mark_done(item.item_id, result)                  # ItemResult: files + sha256, frames...

* :mod:`posekit.batch.items`: :class:`WorkItem`, :class:`ItemResult`, :func:`make_item`;
* :mod:`posekit.batch.ledger`: :class:`Ledger` (SQLite) and :class:`LedgerEntry`;
* :mod:`posekit.batch.runner`: :func:`run_item` and :class:`TaskRunner`.
"""

from posekit.batch.items import TASKS, ItemResult, TaskName, WorkItem, file_records, make_item
from posekit.batch.ledger import STATES, Ledger, LedgerEntry
from posekit.batch.runner import TaskRunner, run_item

__all__ = [
    "STATES",
    "TASKS",
    "ItemResult",
    "Ledger",
    "LedgerEntry",
    "TaskName",
    "TaskRunner",
    "WorkItem",
    "file_records",
    "make_item",
    "run_item",
]
