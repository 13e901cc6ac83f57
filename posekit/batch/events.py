"""What a backend (local pool, Ray) tells the driver while it runs items, and how errors are told."""

from __future__ import annotations

from typing import Protocol

from posekit.batch.items import ItemResult, WorkItem
from posekit.errors import InputError, UsageError


class BatchEvents(Protocol):
    """Called by a backend, always from the driver's thread.

    ``failed`` returns whether the item should be run again (the driver counts the attempts).
    """

    def started(self, item: WorkItem, worker: str) -> None: ...

    def progress(self, item: WorkItem, frames_done: int, frames_total: int | None) -> None: ...

    def finished(self, item: WorkItem, result: ItemResult) -> None: ...

    def failed(self, item: WorkItem, error: str, retryable: bool) -> bool: ...


def is_retryable(exc: BaseException) -> bool:
    """A bad source or bad options fail the same way every time; anything else may pass on a retry
    (a full disk that was cleared, a worker that ran out of memory)."""
    return not isinstance(exc, InputError | UsageError)


def describe_error(exc: BaseException) -> str:
    """One line: posekit's own errors as their message, others with their type."""
    if isinstance(exc, InputError | UsageError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
