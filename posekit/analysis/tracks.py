"""Tracked keypoints as per-track arrays: reading ``posekit track`` output and cleaning signals.

A :class:`Recording` is what one file holds: the frames it covers and one :class:`Track` per
track id. A track is dense from its first to its last frame (every frame the file has in that
span gets a row); where the person was not seen, or a point was missing, the values are NaN.

Readers: track JSON lines (``posekit track --format jsonl``), posekit's long CSV
(``--format csv``) and a folder of OpenPose per-frame JSON files (``--format openpose``, BODY_25
mapped to COCO-17 names plus heels and big toes).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal as scipy_signal

from posekit.analysis.track_lines import fast_record, numbers
from posekit.errors import InputError
from posekit.schemas import BLAZEPOSE33, BODY25

logger = logging.getLogger(__name__)

MAX_GAP_S = 0.25
"""Gaps up to this long are interpolated linearly; longer ones stay NaN (docs/analysis.md)."""

MIN_CONFIDENCE = 0.3
"""Keypoints below this confidence are treated as missing: a sweep of the angle error against
labels chose it (docs/analysis.md#angle-error); below it, short limbs read from unsure points
make most of the large errors."""


@dataclass(frozen=True)
class Track:
    """One person over time.

    * ``frame_index (n,)`` int64: decoded-frame numbers (from 0, as in the JSONL), increasing.
    * ``timestamp_s (n,)`` float64 seconds.
    * ``points``: schema name -> ``(n, k, 3)`` float64 image pixels x, y and confidence; a missing
      point (or a frame without this person) is NaN, NaN, 0.
    * ``world_xyz (n, 33, 3) | None``: BlazePose world metres (``blazepose33`` order).
    """

    track_id: int
    frame_index: np.ndarray
    timestamp_s: np.ndarray
    points: Mapping[str, np.ndarray]
    world_xyz: np.ndarray | None = None
    seen: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return int(self.frame_index.shape[0])

    @property
    def fps(self) -> float:
        return _fps(self.timestamp_s)


@dataclass(frozen=True)
class Recording:
    """Every track of one file; ``frame_index``/``timestamp_s`` list every frame the file holds."""

    source: str
    frame_index: np.ndarray
    timestamp_s: np.ndarray
    image_size: tuple[int, int] | None
    tracks: list[Track]
    skipped_lines: int = 0
    skipped_note: str = ""
    """What the first skipped line was (``"line 180: Expecting ',' delimiter"``), for the one line a CLI prints."""

    @property
    def fps(self) -> float:
        return _fps(self.timestamp_s)


def _fps(timestamp_s: np.ndarray) -> float:
    steps = np.diff(timestamp_s)
    steps = steps[steps > 0]
    return float(1.0 / np.median(steps)) if steps.size else 30.0


# --- reading ------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Rows of one file, gathered before they become arrays."""

    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    people: dict[int, dict[str, Any]] = field(default_factory=dict)
    image_size: tuple[int, int] | None = None
    source: str = ""

    def add(self, track_id: int, row: int, schema: str, value: Any) -> None:
        person = self.people.setdefault(track_id, {"rows": [], "seen_rows": set()})
        if row not in person["seen_rows"]:
            person["seen_rows"].add(row)
            person["rows"].append(row)
        person.setdefault(schema, {})[row] = value


def load_recording(path: str | Path) -> Recording:
    """Reads a track JSONL, a posekit CSV or an OpenPose JSON folder (by what ``path`` is)."""
    path = Path(path)
    if path.is_dir():
        return _read_openpose_folder(path)
    if not path.is_file():
        raise InputError(str(path), "no such file or folder")
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    return _read_jsonl(path)


def _read_jsonl(path: Path) -> Recording:
    builder = _Builder(source=str(path))
    skipped = 0
    note = ""
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    with handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                fast = fast_record(line) if builder.frames else None  # the first line via json: source, size
                if fast is None:
                    _add_record(builder, json.loads(line))
                else:
                    _add_fast(builder, *fast)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                skipped += 1
                if skipped == 1:
                    note = f"line {line_number}: {exc}"
                    logger.info("%s: line %d is not a whole frame record (%s); skipped", path, line_number, exc)
    if not builder.frames:
        what = "no frame records" if skipped else "empty file"
        raise InputError(str(path), f"{what}: not a posekit track JSONL with frames")
    return replace(_finish(builder, skipped), skipped_note=note)


def _add_record(builder: _Builder, record: dict[str, Any]) -> None:
    frame_index = int(record["frame_index"])
    row = len(builder.frames)
    people = record["people"]
    builder.frames.append(frame_index)
    builder.times.append(float(record.get("timestamp_s", frame_index / 30.0)))
    builder.source = builder.source if builder.image_size else str(record.get("source", builder.source))
    if builder.image_size is None and record.get("image_size"):
        builder.image_size = (int(record["image_size"][0]), int(record["image_size"][1]))
    for person_number, person in enumerate(people):
        track_id = person.get("track_id")
        track_id = person_number if track_id is None else int(track_id)
        for schema, values in person["keypoints"].items():
            builder.add(track_id, row, schema, values)
        if person.get("world_xyz") is not None:
            builder.add(track_id, row, "world_xyz", person["world_xyz"])


def _add_fast(
    builder: _Builder, frame_index: int, timestamp_s: float | None, people: list[tuple[int, dict[str, str]]]
) -> None:
    row = len(builder.frames)
    builder.frames.append(frame_index)
    builder.times.append(frame_index / 30.0 if timestamp_s is None else timestamp_s)
    for track_id, arrays in people:
        for schema, text in arrays.items():
            builder.add(track_id, row, schema, text)


def _read_csv(path: Path) -> Recording:
    builder = _Builder(source=str(path))
    per_row: dict[tuple[int, int, str], dict[str, list[float | None]]] = {}
    frame_rows: dict[int, int] = {}
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            for item in csv.DictReader(handle):
                frame = int(item["frame"])
                if frame not in frame_rows:
                    frame_rows[frame] = len(builder.frames)
                    builder.frames.append(frame)
                    builder.times.append(float(item["time_s"] or frame / 30.0))
                key = (frame_rows[frame], int(item["track_id"] or 0), item["schema"])
                per_row.setdefault(key, {})[item["keypoint"]] = [
                    float(item["x"]) if item["x"] else None,
                    float(item["y"]) if item["y"] else None,
                    float(item["score"] or 0.0),
                ]
    except (OSError, KeyError, ValueError, csv.Error) as exc:
        raise InputError(str(path), f"not a posekit keypoint CSV ({exc})") from exc
    if not builder.frames:
        raise InputError(str(path), "empty file: no keypoint rows")
    from posekit.schemas import SCHEMAS

    for (row, track_id, schema_name), named in per_row.items():
        schema = SCHEMAS.get(schema_name)
        if schema is None:
            continue
        builder.add(track_id, row, schema_name, [named.get(n, [None, None, 0.0]) for n in schema.keypoint_names])
    return _finish(builder, 0)


def _read_openpose_folder(folder: Path) -> Recording:
    builder = _Builder(source=str(folder))
    files = sorted(folder.glob("*_keypoints.json"))
    if not files:
        raise InputError(str(folder), "no *_keypoints.json files (not an OpenPose output folder)")
    for number, path in enumerate(files):
        try:
            people = json.loads(path.read_text(encoding="utf-8"))["people"]
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            logger.warning("%s: not an OpenPose frame (%s); skipped", path, exc)
            continue
        stem_tail = path.name[: -len("_keypoints.json")].rsplit("_", 1)[-1]
        frame = int(stem_tail) if stem_tail.isdigit() else number
        row = len(builder.frames)
        builder.frames.append(frame)
        builder.times.append(frame / 30.0)
        for person_number, person in enumerate(people):
            flat = np.asarray(person.get("pose_keypoints_2d", []), dtype=np.float64).reshape(-1, 3)
            if flat.shape[0] != BODY25.num_keypoints:
                continue
            flat[flat[:, 2] <= 0, :2] = np.nan
            person_id = person.get("person_id", person_number)
            track_id = int(person_id[0] if isinstance(person_id, list) else person_id)
            builder.add(track_id if track_id >= 0 else person_number, row, "body25", flat.tolist())
    if not builder.frames:
        raise InputError(str(folder), "no readable OpenPose frames")
    logger.info("%s: OpenPose files carry no timestamps; assuming 30 fps", folder)
    return _finish(builder, 0)


def _finish(builder: _Builder, skipped: int) -> Recording:
    frames = np.asarray(builder.frames, dtype=np.int64)
    times = np.asarray(builder.times, dtype=np.float64)
    order = np.argsort(frames, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    tracks = [
        _dense_track(track_id, person, rank, frames[order], times[order]) for track_id, person in builder.people.items()
    ]
    tracks.sort(key=lambda t: t.track_id)
    return Recording(builder.source, frames[order], times[order], builder.image_size, tracks, skipped)


def _dense_track(
    track_id: int, person: dict[str, Any], rank: np.ndarray, frames: np.ndarray, times: np.ndarray
) -> Track:
    rows = rank[np.asarray(person["rows"], dtype=np.int64)]
    first, last = int(rows.min()), int(rows.max())
    n = last - first + 1
    seen = np.zeros(n, bool)
    seen[rows - first] = True
    arrays: dict[str, np.ndarray] = {}
    world = None
    for name, by_row in person.items():
        if name in ("rows", "seen_rows"):
            continue
        source_rows = np.fromiter(by_row.keys(), dtype=np.int64, count=len(by_row))
        values = numbers(list(by_row.values()))
        if values is None:
            logger.warning("track %d: %s points of unequal length; left out", track_id, name)
            continue
        dense = np.full((n, values.shape[1], 3), np.nan)
        dense[rank[source_rows] - first] = values
        if name == "world_xyz":
            world = dense
            continue
        dense[..., 2] = np.nan_to_num(dense[..., 2])
        dense[dense[..., 2] <= 0, :2] = np.nan
        arrays[name] = dense
    return Track(track_id, frames[first : last + 1], times[first : last + 1], arrays, world, seen)


# --- named points ---------------------------------------------------------------------------

_ALIASES = {"left_toe": ("left_foot_index", "left_big_toe"), "right_toe": ("right_foot_index", "right_big_toe")}
_SCHEMA_PREFERENCE = ("coco17", "blazepose33", "wholebody133", "halpe26", "halpe136", "body25")


def _lookup(schema_points: Mapping[str, np.ndarray], name: str, min_confidence: float) -> np.ndarray | None:
    """(n, 2) pixels of one named point from the first schema holding it in each frame.

    A later schema stands in only where an earlier one has no point at all (a frame without it),
    never where the earlier one has it but unsure: BlazePose's reading of a joint MoveNet is
    unsure of is worse than none (docs/analysis.md#angle-error).
    """
    from posekit.schemas import SCHEMAS

    result: np.ndarray | None = None
    held: np.ndarray | None = None
    for schema_name in _SCHEMA_PREFERENCE:
        if schema_name not in schema_points:
            continue
        names = SCHEMAS[schema_name].keypoint_names
        for candidate in _ALIASES.get(name, (name,)):
            if candidate in names:
                values = schema_points[schema_name][:, names.index(candidate)]
                here = (values[:, 2] > 0) & np.isfinite(values[:, 0])
                xy = np.where((values[:, 2:3] >= min_confidence), values[:, :2], np.nan)
                if result is None or held is None:
                    result, held = xy, here
                else:
                    result = np.where(held[:, None], result, xy)
                    held = held | here
                break
    return result


BODY_POINTS = (
    "nose",
    *(
        f"{side}_{part}"
        for part in ("ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "toe")
        for side in ("left", "right")
    ),
)


def body_points(
    track: Track,
    *,
    min_confidence: float = MIN_CONFIDENCE,
    max_gap_s: float = MAX_GAP_S,
    cutoff_hz: float | None = None,
    world: bool = False,
) -> dict[str, np.ndarray]:
    """Named body points of a track, ``(n, 2)`` pixels (or ``(n, 3)`` world metres with ``world``).

    Points below ``min_confidence`` are NaN; gaps up to ``max_gap_s`` are interpolated and, with
    ``cutoff_hz``, every point is low-pass filtered (zero phase). ``mid_hip`` and ``mid_shoulder``
    are added. A point the track's schemas do not hold is absent from the result.
    """
    points: dict[str, np.ndarray] = {}
    for name in BODY_POINTS:
        if world:
            xy = _world_point(track, name)
        else:
            xy = _lookup(track.points, name, min_confidence)
        if xy is not None and np.isfinite(xy).any():
            points[name] = xy
    max_gap = int(round(max_gap_s * track.fps))
    for name, xy in points.items():
        cleaned = fill_gaps(xy, max_gap)
        if cutoff_hz is not None:
            cleaned = low_pass(cleaned, track.fps, cutoff_hz)
        points[name] = cleaned
    return with_midpoints(points)


_MIDPOINTS = {"mid_hip": ("left_hip", "right_hip"), "mid_shoulder": ("left_shoulder", "right_shoulder")}


def with_midpoints(points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``points`` with ``mid_hip`` and ``mid_shoulder`` added where both of their ends are there."""
    for centre, (a, b) in _MIDPOINTS.items():
        if a in points and b in points:
            points[centre] = (points[a] + points[b]) / 2
    return points


def _world_point(track: Track, name: str) -> np.ndarray | None:
    if track.world_xyz is None:
        return None
    for candidate in _ALIASES.get(name, (name,)):
        if candidate in BLAZEPOSE33.keypoint_names:
            return track.world_xyz[:, BLAZEPOSE33.index(candidate)].copy()
    return None


# --- signal cleaning ------------------------------------------------------------------------


def fill_gaps(values: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation over NaN runs of at most ``max_gap`` rows, column by column (axis 0).

    Runs longer than ``max_gap``, and NaN at either end, stay NaN.
    """
    array = np.asarray(values, dtype=np.float64)
    flat = array.reshape(array.shape[0], -1)
    n = flat.shape[0]
    if n == 0 or max_gap <= 0:
        return array.copy()
    index = np.arange(n)[:, None]
    valid = np.isfinite(flat)
    previous = np.maximum.accumulate(np.where(valid, index, -1), axis=0)
    following = np.flip(np.minimum.accumulate(np.flip(np.where(valid, index, n), axis=0), axis=0), axis=0)
    gap = following - previous - 1
    fill = ~valid & (previous >= 0) & (following < n) & (gap <= max_gap)
    out = flat.copy()
    if fill.any():
        rows, cols = np.nonzero(fill)
        before, after = previous[rows, cols], following[rows, cols]
        weight = (rows - before) / (after - before)
        out[rows, cols] = flat[before, cols] * (1 - weight) + flat[after, cols] * weight
    return out.reshape(array.shape)


def low_pass(values: np.ndarray, fps: float, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth low-pass (``scipy.signal.sosfiltfilt``) along axis 0; NaN kept.

    NaN are bridged by interpolation while filtering and put back after. A cutoff at or above
    the Nyquist frequency, or too short a signal, returns the input unchanged.
    """
    array = np.asarray(values, dtype=np.float64)
    nyquist = fps / 2
    if cutoff_hz >= nyquist * 0.95 or array.shape[0] < 3 * (2 * order + 1):
        return array.copy()
    flat = array.reshape(array.shape[0], -1)
    missing = ~np.isfinite(flat)
    bridged = fill_gaps(flat, flat.shape[0])
    bridged = _hold_ends(bridged)
    columns = np.isfinite(bridged).all(axis=0)
    out = flat.copy()
    if columns.any():
        sos = scipy_signal.butter(order, cutoff_hz / nyquist, output="sos")
        out[:, columns] = scipy_signal.sosfiltfilt(sos, bridged[:, columns], axis=0)
    out[missing] = np.nan
    return out.reshape(array.shape)


def _hold_ends(flat: np.ndarray) -> np.ndarray:
    """NaN at the start/end of each column replaced by the nearest value (for filtering only)."""
    out = flat.copy()
    n = out.shape[0]
    index = np.arange(n)[:, None]
    valid = np.isfinite(out)
    first = np.where(valid.any(axis=0), valid.argmax(axis=0), 0)
    last = np.where(valid.any(axis=0), n - 1 - np.flip(valid, axis=0).argmax(axis=0), 0)
    cols = np.arange(out.shape[1])
    out = np.where(index < first, out[first, cols], out)
    return np.where(index > last, out[last, cols], out)


def valid_runs(mask: np.ndarray, min_length: int = 1) -> list[tuple[int, int]]:
    """``[start, stop)`` runs where ``mask`` is true, at least ``min_length`` long."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= min_length]


def tracks_from_arrays(
    track_id: int, frame_index: Iterable[int], timestamp_s: Iterable[float], coco17: np.ndarray, **schemas: np.ndarray
) -> Track:
    """A :class:`Track` from arrays (``coco17 (n, 17, 3)``); for tests and synthetic sequences."""
    points = {"coco17": np.asarray(coco17, dtype=np.float64)}
    points.update({name: np.asarray(v, dtype=np.float64) for name, v in schemas.items() if name != "world_xyz"})
    world = schemas.get("world_xyz")
    frames = np.asarray(list(frame_index), dtype=np.int64)
    return Track(
        track_id,
        frames,
        np.asarray(list(timestamp_s), dtype=np.float64),
        points,
        None if world is None else np.asarray(world, np.float64),
        np.asarray(np.isfinite(points["coco17"][..., 0]).any(axis=1)),
    )
