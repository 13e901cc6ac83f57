"""A work item, its result and the output records: the values shared by ``batch`` and ``serve``.

A :class:`WorkItem` is one source (a video, or a folder of images for ``predict``) and one task
with its options; :class:`ItemResult` is what running it produced. Both are plain frozen
dataclasses that go to and from JSON (:meth:`to_dict` / :meth:`from_dict`), so they travel through
process queues, Ray and the ledger unchanged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

TaskName = Literal["track", "predict", "analyze"]
TASKS: tuple[TaskName, ...] = ("track", "predict", "analyze")


@dataclass(frozen=True)
class WorkItem:
    """One unit of work.

    * ``item_id``: unique key in a ledger (:func:`make_item` derives it from task and source);
    * ``source``: a video file or stream (``track``, ``analyze``) or a folder of images (``predict``);
    * ``task``: ``"track"``, ``"predict"`` or ``"analyze"``;
    * ``options``: the task's options as JSON values, keyed by the CLI flag without its leading
      dashes, ``-`` written ``_`` (``{"max_frames": 50, "keypoints": "lightning", "render": True,
      "no_propagate": True}``); a flag left out takes the task's own default;
    * ``out_name``: the item's own folder under the output folder.
    """

    item_id: str
    source: str
    task: TaskName
    options: dict[str, Any] = field(default_factory=dict)
    out_name: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose one of {', '.join(TASKS)}")
        if not self.out_name:
            object.__setattr__(self, "out_name", self.item_id)
        if "/" in self.out_name or "\\" in self.out_name or self.out_name in (".", ".."):
            raise ValueError(f"out_name must be a plain folder name, got {self.out_name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "source": self.source,
            "task": self.task,
            "options": dict(self.options),
            "out_name": self.out_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkItem:
        return cls(
            item_id=str(data["item_id"]),
            source=str(data["source"]),
            task=cast(TaskName, data["task"]),
            options=dict(data.get("options") or {}),
            out_name=str(data.get("out_name") or ""),
        )


@dataclass(frozen=True)
class ItemResult:
    """What one item produced.

    ``files``: one ``{"path": relative to the item's folder, "bytes": int, "sha256": hex}`` per
    output file, sorted by path; ``frames``: frames (or images) processed; ``people``: person
    detections summed over frames; ``seconds``: wall time of the item; ``worker``: where it ran
    (``host:pid``, or the Ray node id), informative only.
    """

    files: list[dict[str, Any]]
    frames: int
    people: int
    seconds: float
    worker: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [dict(entry) for entry in self.files],
            "frames": self.frames,
            "people": self.people,
            "seconds": self.seconds,
            "worker": self.worker,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemResult:
        return cls(
            files=[dict(entry) for entry in data.get("files", [])],
            frames=int(data["frames"]),
            people=int(data["people"]),
            seconds=float(data["seconds"]),
            worker=str(data.get("worker", "")),
        )


def normalise_option_name(name: str) -> str:
    """``"--max-frames"``, ``"max-frames"`` and ``"max_frames"`` all become ``"max_frames"``."""
    return name.lstrip("-").replace("-", "_")


def _safe_stem(text: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "source"
    return stem[:60]


def make_item(source: str | Path, task: TaskName, options: dict[str, Any] | None = None) -> WorkItem:
    """The item for ``source`` under ``task``: id and folder ``<stem>-<8 hex>``.

    The hex is a hash of the task and the source's absolute path (a URL as given), so two sources
    with the same stem in different folders never share a folder, and the same command run again
    finds the same items.
    """
    text = str(source)
    is_url = "://" in text
    absolute = text if is_url else str(Path(text).expanduser().resolve())
    stem = _safe_stem(Path(text.rstrip("/")).stem if not is_url else text.rsplit("/", 1)[-1] or "stream")
    digest = hashlib.sha256(f"{task}\0{absolute}".encode()).hexdigest()[:8]
    name = f"{stem}-{digest}"
    normalised = {normalise_option_name(key): value for key, value in (options or {}).items()}
    return WorkItem(item_id=name, source=absolute, task=task, options=normalised, out_name=name)


def file_records(folder: Path) -> list[dict[str, Any]]:
    """``{"path", "bytes", "sha256"}`` for every file under ``folder``, sorted by path."""
    records = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        records.append(
            {"path": path.relative_to(folder).as_posix(), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}
        )
    return records
