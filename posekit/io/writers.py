"""Writers: context managers that never leave a half-written file.

* ``coco`` -> ``<out>/coco_results.json``: one results list, written atomically on close (also
  when closing because of an error or Ctrl-C, so everything finished so far is kept).
* ``openpose`` -> ``<out>/<stem>_keypoints.json``: one file per image, each written atomically;
  same-stem images from different folders get ``<stem>_2``, ``<stem>_3``... in input order.
* ``jsonl`` -> ``<out>/predictions.jsonl``: one line per image, written whole and flushed at
  once, so a crash leaves every finished line valid.

Every writer has ``write(poses, *, source, image_id=None)`` and ``close()`` and is a context
manager. Build one by name with :func:`make_writer`.

Video (one source, frame by frame; :func:`make_frame_writer`), each flushed every frame:

* ``jsonl`` -> ``<out>/<stem>.jsonl``: one line per frame with ``frame_index`` and ``timestamp_s``;
* ``openpose`` -> ``<out>/<stem>_<frame:012d>_keypoints.json``: one file per frame, atomically;
* ``csv`` -> ``<out>/<stem>.csv``: long format, one row per keypoint.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from posekit.errors import UsageError
from posekit.io.formats import poses_to_coco, poses_to_openpose, poses_to_record
from posekit.results import Poses
from posekit.schemas import COCO17, KeypointSchema

logger = logging.getLogger(__name__)

COCO_FILE_NAME = "coco_results.json"
JSONL_FILE_NAME = "predictions.jsonl"
OPENPOSE_SUFFIX = "_keypoints.json"


# --- Atomic files ----------------------------------------------------------------------------


def _fsync_folder(folder: Path) -> None:
    """Makes a rename durable; not every platform can open a folder, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # e.g. file systems that do not sync folders; the file itself is synced
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes ``data`` to a temp file beside ``path``, syncs it, then renames it over ``path``.

    A crash or Ctrl-C leaves either the old file or the new one, never half of one; the temp
    file is removed on any error. Parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the mode, as for a plain open(); mkstemp would make it 0600.
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_path, path)
    except BaseException:  # also KeyboardInterrupt: never leave the temp file behind
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_text(obj: Any) -> str:
    # Strict JSON: NaN would make the file unreadable by most parsers, so fail loudly instead.
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Writes ``obj`` as compact, strict JSON (no NaN) with a final newline, atomically."""
    atomic_write_text(path, _json_text(obj) + "\n")


# --- Names -------------------------------------------------------------------------------------


def coco_image_id(source: str) -> int | str:
    """A file's COCO image id when none is given: its stem as an int if all ASCII digits, else the stem."""
    stem = Path(source).stem
    return int(stem) if stem.isascii() and stem.isdigit() else stem


class UniqueStems:
    """Output names per input file, never two the same.

    Same-stem files (``a/img.jpg``, ``b/img.png``) get ``img``, ``img_2``, ``img_3``... in the
    order they are first seen; asking again for a file gives its name again. Names differing
    only in case count as the same, so nothing is overwritten on case-insensitive disks.
    """

    def __init__(self) -> None:
        self._stem_by_source: dict[str, str] = {}
        self._used_names: set[str] = set()

    def __call__(self, source: str) -> str:
        if source not in self._stem_by_source:
            stem = Path(source).stem
            candidate, count = stem, 1
            while candidate.casefold() in self._used_names:
                count += 1
                candidate = f"{stem}_{count}"
            self._used_names.add(candidate.casefold())
            self._stem_by_source[source] = candidate
        return self._stem_by_source[source]


# --- Writers -----------------------------------------------------------------------------------


class PoseWriter(Protocol):
    def __enter__(self) -> PoseWriter: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def write(self, poses: Poses, *, source: str, image_id: int | str | None = None) -> None: ...

    def close(self) -> None: ...


class _WriterBase:
    """Context-manager plumbing: ``__exit__`` always closes, also on errors and Ctrl-C."""

    _closed = False

    def __enter__(self) -> _WriterBase:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError(f"{type(self).__name__} is closed; make a new writer to write more")


class CocoResultsWriter(_WriterBase):
    """Collects COCO results entries and writes the list to ``path`` atomically on close.

    ``image_id`` defaults to :func:`coco_image_id` of the source (``000000196141.jpg`` -> 196141).
    """

    def __init__(self, path: str | Path, *, category_id: int = 1, schema: KeypointSchema = COCO17) -> None:
        self.path = Path(path)
        self.category_id = category_id
        self.schema = schema
        self._entries: list[dict[str, Any]] = []

    def __enter__(self) -> CocoResultsWriter:
        return self

    def write(self, poses: Poses, *, source: str, image_id: int | str | None = None) -> None:
        self._check_open()
        resolved_id = coco_image_id(source) if image_id is None else image_id
        self._entries.extend(poses_to_coco(poses, resolved_id, self.category_id, self.schema))

    def close(self) -> None:
        if self._closed:
            return
        atomic_write_json(self.path, self._entries)
        logger.debug("wrote %d COCO results to %s", len(self._entries), self.path)
        super().close()


class OpenPoseWriter(_WriterBase):
    """Writes ``<out_dir>/<stem>_keypoints.json`` per image, atomically.

    Pass ``stems`` to share name allocation with other per-image outputs (e.g. renders).
    """

    def __init__(self, out_dir: str | Path, stems: UniqueStems | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.stems = stems if stems is not None else UniqueStems()

    def __enter__(self) -> OpenPoseWriter:
        return self

    def path_for(self, source: str) -> Path:
        return self.out_dir / f"{self.stems(source)}{OPENPOSE_SUFFIX}"

    def write(self, poses: Poses, *, source: str, image_id: int | str | None = None) -> None:
        self._check_open()
        atomic_write_json(self.path_for(source), poses_to_openpose(poses))


class JsonlWriter(_WriterBase):
    """Writes one JSON line per image or frame to ``path`` (truncated on open).

    Each line is built whole, written in one call and flushed, so after a crash every finished
    line is valid JSON. The file is fsynced on close.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", encoding="utf-8", newline="\n")

    def __enter__(self) -> JsonlWriter:
        return self

    def write(
        self,
        poses: Poses,
        *,
        source: str,
        image_id: int | str | None = None,
        frame_index: int | None = None,
        timestamp_s: float | None = None,
    ) -> None:
        """Writes one record; ``image_id`` is accepted for a common writer signature and unused."""
        self.write_record(poses_to_record(poses, frame_index=frame_index, timestamp_s=timestamp_s, source=source))

    def write_record(self, record: dict[str, Any]) -> None:
        self._check_open()
        self._handle.write(_json_text(record) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        super().close()


class CsvWriter(_WriterBase):
    """Long-format CSV, one row per keypoint: ``frame,time_s,track_id,schema,keypoint,x,y,score``.

    Rows of a frame are written together and flushed, so a crash leaves whole frames. A missing
    point has empty ``x`` and ``y`` and score 0; ``track_id`` is empty without tracking.
    """

    HEADER = ("frame", "time_s", "track_id", "schema", "keypoint", "x", "y", "score")

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._handle, lineterminator="\n")
        self._csv.writerow(self.HEADER)
        self._handle.flush()

    def __enter__(self) -> CsvWriter:
        return self

    def write(
        self,
        poses: Poses,
        *,
        source: str,
        image_id: int | str | None = None,
        frame_index: int | None = None,
        timestamp_s: float | None = None,
    ) -> None:
        self._check_open()
        frame = "" if frame_index is None else int(frame_index)
        time_s = "" if timestamp_s is None else f"{timestamp_s:.6f}"
        rows = []
        for person in range(len(poses)):
            track_id = "" if poses.track_id is None else int(poses.track_id[person])
            for schema_name, points in poses.keypoints.items():
                for k, name in enumerate(points.schema.keypoint_names):
                    (x, y), score = points.xy[person, k], float(points.confidence[person, k])
                    present = bool(np.isfinite([x, y]).all()) and score > 0
                    rows.append(
                        (
                            frame,
                            time_s,
                            track_id,
                            schema_name,
                            name,
                            f"{x:.2f}" if present else "",
                            f"{y:.2f}" if present else "",
                            f"{score:.4f}" if present else "0",
                        )
                    )
        self._csv.writerows(rows)
        self._handle.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        super().close()


class OpenPoseFrameWriter(_WriterBase):
    """OpenPose's video output: ``<out_dir>/<stem>_<frame:012d>_keypoints.json`` per frame,
    each written atomically, ``person_id`` set to the track id."""

    def __init__(self, out_dir: str | Path, stem: str) -> None:
        self.out_dir = Path(out_dir)
        self.stem = stem

    def __enter__(self) -> OpenPoseFrameWriter:
        return self

    def path_for(self, frame_index: int) -> Path:
        return self.out_dir / f"{self.stem}_{int(frame_index):012d}{OPENPOSE_SUFFIX}"

    def write(
        self,
        poses: Poses,
        *,
        source: str,
        image_id: int | str | None = None,
        frame_index: int | None = None,
        timestamp_s: float | None = None,
    ) -> None:
        self._check_open()
        if frame_index is None:
            raise UsageError("OpenPoseFrameWriter.write needs frame_index")
        atomic_write_json(self.path_for(frame_index), poses_to_openpose(poses))


class FrameWriter(Protocol):
    def __enter__(self) -> FrameWriter: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def write(
        self,
        poses: Poses,
        *,
        source: str,
        image_id: int | str | None = None,
        frame_index: int | None = None,
        timestamp_s: float | None = None,
    ) -> None: ...

    def close(self) -> None: ...


# Video outputs: format -> factory(out_dir, source stem).
FRAME_WRITER_FACTORIES: dict[str, Callable[[Path, str], FrameWriter]] = {
    "jsonl": lambda out_dir, stem: JsonlWriter(out_dir / f"{stem}.jsonl"),
    "openpose": lambda out_dir, stem: OpenPoseFrameWriter(out_dir, stem),
    "csv": lambda out_dir, stem: CsvWriter(out_dir / f"{stem}.csv"),
}


def make_frame_writer(format_name: str, out_dir: str | Path, stem: str) -> FrameWriter:
    """The per-frame writer for a video: ``jsonl`` (``<stem>.jsonl``), ``openpose`` (a JSON file
    per frame) or ``csv`` (``<stem>.csv``), all flushed frame by frame."""
    factory = FRAME_WRITER_FACTORIES.get(format_name)
    if factory is None:
        raise UsageError(
            f"unknown video output format {format_name!r}; choose one of {', '.join(sorted(FRAME_WRITER_FACTORIES))}"
        )
    return factory(Path(out_dir), stem)


# name -> factory(out_dir, stems); explicit, no plugin scanning.
WRITER_FACTORIES: dict[str, Callable[[Path, UniqueStems | None, KeypointSchema], PoseWriter]] = {
    "coco": lambda out_dir, stems, schema: CocoResultsWriter(out_dir / COCO_FILE_NAME, schema=schema),
    "openpose": lambda out_dir, stems, schema: OpenPoseWriter(out_dir, stems),
    "jsonl": lambda out_dir, stems, schema: JsonlWriter(out_dir / JSONL_FILE_NAME),
}


def make_writer(
    format_name: str, out_dir: str | Path, stems: UniqueStems | None = None, coco_schema: KeypointSchema = COCO17
) -> PoseWriter:
    """The writer for ``format_name`` (``coco``, ``openpose`` or ``jsonl``) writing into ``out_dir``.

    ``stems`` is used by ``openpose`` only, to share per-image names with other outputs;
    ``coco_schema`` by ``coco`` only (``WHOLEBODY133`` for COCO-WholeBody results, 133 x 3).
    """
    factory = WRITER_FACTORIES.get(format_name)
    if factory is None:
        raise UsageError(f"unknown output format {format_name!r}; choose one of {', '.join(sorted(WRITER_FACTORIES))}")
    return factory(Path(out_dir), stems, coco_schema)
