"""A fast reader for the compact lines ``posekit track`` writes, with ``json`` as the fallback.

An hour of video with a few people is a few hundred MB of JSON lines, and ``json.loads`` spends
most of its time making a Python float for every coordinate. posekit's writer emits compact
lines (no spaces) whose people start with ``{"track_id":``; for such a line the keypoint arrays
are cut out as text and left for :func:`numbers` to convert in one numpy call per track.
Anything unexpected (unbalanced brackets, e.g. a truncated line, other spacing, a null track id,
a value that is not a number) returns None, and the caller parses the line with ``json``.
"""

from __future__ import annotations

import re

import numpy as np

_HEADER = re.compile(r'"frame_index":(\d+)(?:,"timestamp_s":(-?[0-9.eE+-]+))?[,}]')
_PERSON = '{"track_id":'


def fast_record(line: str) -> tuple[int, float | None, list[tuple[int, dict[str, str]]]] | None:
    """``(frame_index, timestamp_s, [(track_id, {schema: "x,y,c,x,y,c,..."})])`` or None."""
    if line.count("{") != line.count("}") or line.count("[") != line.count("]") or not line.rstrip().endswith("}"):
        return None
    start = line.find('"people":[')
    header = _HEADER.search(line, 0, start) if start >= 0 else None
    if header is None:
        return None
    chunks = line[start:].split(_PERSON)[1:]
    if len(chunks) != line.count('"track_id"') or len(chunks) != line.count('"keypoints":{'):
        return None
    people = []
    for chunk in chunks:
        track_id = chunk[: chunk.find(",")]
        if not track_id.lstrip("-").isdigit():
            return None
        arrays = _arrays(chunk, '"keypoints":{"', "}")
        if "world_xyz" in chunk:
            arrays.update(_arrays(chunk, '"world_xyz":[[', "]]", name="world_xyz"))
        people.append((int(track_id), arrays))
    timestamp = float(header.group(2)) if header.group(2) else None
    return int(header.group(1)), timestamp, people


def _arrays(chunk: str, opening: str, closing: str, name: str | None = None) -> dict[str, str]:
    """``{schema: "x,y,c,..."}`` from ``"coco17":[[x,y,c],...],"blazepose33":[[...]]`` after ``opening``."""
    start = chunk.find(opening)
    if start < 0:
        return {}
    start += len(opening)
    body = chunk[start : chunk.find(closing, start)]
    if name is not None:
        return {name: body.replace("],[", ",").replace("null", "nan")}
    found = {}
    for part in body.split(']],"'):
        schema, _, text = part.partition('":[[')
        found[schema] = text.removesuffix("]]").replace("],[", ",").replace("null", "nan")
    return found


def numbers(values: list[str | list]) -> np.ndarray | None:
    """``(m, k, 3)`` float64 from triplet texts and lists (lines read by the json fallback); None if ragged."""
    texts = [i for i, v in enumerate(values) if isinstance(v, str)]
    lists = [i for i, v in enumerate(values) if not isinstance(v, str)]
    parts: dict[int, np.ndarray] = {}
    if texts:
        flat = np.fromstring(",".join(values[i] for i in texts), dtype=np.float64, sep=",")  # type: ignore[misc]
        if flat.size % (3 * len(texts)):
            return None
        parts[0] = flat.reshape(len(texts), -1, 3)
    if lists:
        try:
            parts[1] = np.array([values[i] for i in lists], dtype=np.float64)
        except ValueError:
            return None
    shapes = {part.shape[1:] for part in parts.values()}
    shape = next(iter(shapes))
    if len(shapes) != 1 or len(shape) != 2 or shape[1] != 3:
        return None
    out = np.empty((len(values), *shape))
    if texts:
        out[texts] = parts[0]
    if lists:
        out[lists] = parts[1]
    return out
