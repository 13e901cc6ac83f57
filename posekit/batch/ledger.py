"""The durable record of a batch: one SQLite row per work item (standard library ``sqlite3``).

States: ``pending`` (added, not started), ``running`` (a worker has it; still ``running`` after a
crash, which is how a rerun knows to redo it), ``done`` (with its :class:`ItemResult`) and
``failed`` (with the error). Every call opens its own short connection, so one ``Ledger`` value can
be used from several threads, and several processes can open the same file: SQLite's locking (WAL
journal, a busy timeout) serialises the writes. Keep the file on a local disk: SQLite's locks are
not safe on network file systems, which is why Ray workers report to the driver, which writes here.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from posekit.batch.items import ItemResult, WorkItem

State = Literal["pending", "running", "done", "failed"]
STATES: tuple[State, ...] = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    item TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    done_count INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    result TEXT,
    worker TEXT NOT NULL DEFAULT '',
    frames_done INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER,
    added_at REAL NOT NULL,
    updated_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class LedgerEntry:
    """One item's row: its state, how many times it was started (``attempts``) and finished
    (``done_count``), the last error, the result once done, where it last ran, and its progress."""

    item: WorkItem
    state: State
    attempts: int
    done_count: int
    error: str | None
    result: ItemResult | None
    worker: str
    frames_done: int
    frames_total: int | None
    updated_at: float

    @property
    def item_id(self) -> str:
        return self.item.item_id


class Ledger:
    """``Ledger(out_dir / "ledger.sqlite")``; created on first use, reopened as it is after a crash."""

    def __init__(self, path: Path, *, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit connection; writes take the lock up front (BEGIN IMMEDIATE) so two writers
        # never deadlock upgrading read locks, they just wait their turn.
        connection = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        try:
            connection.execute("PRAGMA synchronous=FULL")
            # Checkpoint often and keep the WAL file small: on a nearly full disk the ledger must
            # still have room to record what failed.
            connection.execute("PRAGMA wal_autocheckpoint=16")
            connection.execute("PRAGMA journal_size_limit=131072")
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def add(self, items: Iterable[WorkItem]) -> int:
        """Adds new items as ``pending``; items already in the ledger keep their row. Returns how
        many were new."""
        now = time.time()
        added = 0
        with self._write() as connection:
            for item in items:
                cursor = connection.execute(
                    "INSERT OR IGNORE INTO items (item_id, item, added_at, updated_at) VALUES (?, ?, ?, ?)",
                    (item.item_id, json.dumps(item.to_dict(), sort_keys=True), now, now),
                )
                added += cursor.rowcount
        return added

    def _set(self, item_id: str, assignments: str, values: tuple[object, ...]) -> None:
        with self._write() as connection:
            cursor = connection.execute(
                f"UPDATE items SET {assignments}, updated_at = ? WHERE item_id = ?", (*values, time.time(), item_id)
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no item {item_id!r} in ledger {self.path}")

    def mark_running(self, item_id: str, *, worker: str = "") -> None:
        """A worker starts the item: one more attempt, progress and error cleared."""
        self._set(
            item_id,
            "state = 'running', attempts = attempts + 1, error = NULL, frames_done = 0, frames_total = NULL, "
            "worker = ?",
            (worker,),
        )

    def mark_done(self, item_id: str, result: ItemResult) -> None:
        """The item's outputs are in place: records them and counts one more completion."""
        self._set(
            item_id,
            "state = 'done', done_count = done_count + 1, error = NULL, result = ?, worker = ?, frames_done = ?",
            (json.dumps(result.to_dict(), sort_keys=True), result.worker, result.frames),
        )

    def mark_failed(self, item_id: str, error: str) -> None:
        self._set(item_id, "state = 'failed', error = ?", (error,))

    def update_progress(self, item_id: str, frames_done: int, frames_total: int | None) -> None:
        self._set(item_id, "frames_done = ?, frames_total = ?", (frames_done, frames_total))

    def remove(self, item_id: str) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM items WHERE item_id = ?", (item_id,))

    def get(self, item_id: str) -> LedgerEntry | None:
        with self._connect() as connection:
            row = connection.execute(f"SELECT {_COLUMNS} FROM items WHERE item_id = ?", (item_id,)).fetchone()
        return None if row is None else _entry(row)

    def entries(self) -> list[LedgerEntry]:
        """Every item, in the order they were added."""
        with self._connect() as connection:
            rows = connection.execute(f"SELECT {_COLUMNS} FROM items ORDER BY rowid").fetchall()
        return [_entry(row) for row in rows]

    def summary(self) -> dict[str, int]:
        """Items per state, every state present (``{"pending": 0, "running": 0, "done": 3, "failed": 1}``)."""
        counts: dict[str, int] = dict.fromkeys(STATES, 0)
        with self._connect() as connection:
            for state, count in connection.execute("SELECT state, COUNT(*) FROM items GROUP BY state"):
                counts[state] = count
        return counts


_COLUMNS = "item, state, attempts, done_count, error, result, worker, frames_done, frames_total, updated_at"


def _entry(row: tuple[object, ...]) -> LedgerEntry:
    item, state, attempts, done_count, error, result, worker, frames_done, frames_total, updated_at = row
    return LedgerEntry(
        item=WorkItem.from_dict(json.loads(str(item))),
        state=cast(State, state),
        attempts=int(cast(int, attempts)),
        done_count=int(cast(int, done_count)),
        error=None if error is None else str(error),
        result=None if result is None else ItemResult.from_dict(json.loads(str(result))),
        worker=str(worker),
        frames_done=int(cast(int, frames_done)),
        frames_total=None if frames_total is None else int(cast(int, frames_total)),
        updated_at=float(cast(float, updated_at)),
    )
