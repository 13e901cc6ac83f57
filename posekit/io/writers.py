"""Writers: context managers that never leave a half-written file.

* ``coco``: ``<out>/coco_results.json``, one results list, written atomically on close (also
  when closing because of an error or Ctrl-C, so everything finished so far is kept).
* ``openpose``: ``<out>/<stem>_keypoints.json`` per image, each written atomically.
* ``jsonl``: ``<out>/predictions.jsonl``, one line per image, each line written whole and
  flushed at once, so a crash leaves every finished line valid.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from posekit.io.formats import poses_to_coco, poses_to_openpose, poses_to_record
from posekit.results import Poses


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes to a temp file beside ``path``, syncs, then renames over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, separators=(",", ":")) + "\n").encode())


def coco_image_id(source: str) -> int | str:
    """A file's COCO image id when none is given: its stem as an int if all digits."""
    stem = Path(source).stem
    return int(stem) if stem.isdigit() else stem


class PoseWriter(Protocol):
    def __enter__(self) -> PoseWriter: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def write(self, poses: Poses, *, source: str, image_id: int | str | None = None) -> None: ...


class CocoResultsWriter:
    def __init__(self, out_dir: Path, file_name: str = "coco_results.json") -> None:
        self.path = Path(out_dir) / file_name
        self._results: list[dict[str, Any]] = []

    def __enter__(self) -> CocoResultsWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, poses: Poses, *, source: str, image_id: int | str | None = None) -> None:
        self._results.extend(poses_to_coco(poses, coco_image_id(source) if image_id is None else image_id))

    def close(self) -> None:
        atomic_write_json(self.path, self._results)


class UniqueStems:
    """Output names per input file: same-stem files from different folders get ``_2``, ``_3``...
    instead of overwriting each other; the same file always gets the same name."""

    def __init__(self) -> None:
        self._by_source: dict[str, str] = {}
        self._used: set[str] = set()

    def __call__(self, source: str) -> str:
        if source not in self._by_source:
            stem = Path(source).stem
            candidate, n = stem, 1
            while candidate in self._used:
                n += 1
                candidate = f"{stem}_{n}"
            self._used.add(candidate)
            self._by_source[source] = candidate
        return self._by_source[source]


class OpenPoseWriter:
    def __init__(self, out_dir: Path, stems: UniqueStems | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.stems = stems or UniqueStems()

    def __enter__(self) -> OpenPoseWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def write(self, poses: Poses, *, source: str, image_id: int | str | None = None) -> None:
        atomic_write_json(self.out_dir / f"{self.stems(source)}_keypoints.json", poses_to_openpose(poses))


class JsonlWriter:
    def __init__(self, out_dir: Path, file_name: str = "predictions.jsonl") -> None:
        self.path = Path(out_dir) / file_name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", encoding="utf-8")

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, poses: Poses, *, source: str, image_id: int | str | None = None) -> None:
        self.write_record(poses_to_record(poses, source=source))

    def write_record(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()


WRITERS: dict[str, Callable[[Path], PoseWriter]] = {
    "coco": CocoResultsWriter,
    "openpose": OpenPoseWriter,
    "jsonl": JsonlWriter,
}
