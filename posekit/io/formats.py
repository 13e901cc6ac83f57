"""Poses -> the dicts of the formats people already use (pure functions, no file I/O).

* COCO results: ``{"image_id", "category_id", "keypoints": [x, y, score] * k, "score", "bbox"}``
  (plus ``track_id`` for tracked poses, as PoseTrack writes); a missing point is ``0, 0, 0``.
* OpenPose per-image JSON (format version 1.3): ``{"version": 1.3, "people": [{"person_id",
  "pose_keypoints_2d", ...}]}`` with BODY_25 points (neck and mid-hip are the midpoints of
  shoulders and hips; feet come from BlazePose's heel and foot index, see :mod:`posekit.schemas`);
  a missing point is ``0, 0, 0`` and ``person_id`` is ``[-1]`` without tracking, as OpenPose writes.
* JSON lines record: one object per image or frame; a missing point is ``[null, null, 0.0]``
  (valid JSON, and no fake location that could be mistaken for the image corner).

Pixels are rounded to 2 decimals, scores to 4, world metres to 4. Every value is finite, so the
output always serialises as strict JSON (``allow_nan=False``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from posekit.results import Keypoints, Poses
from posekit.schemas import BODY25, COCO17, KeypointSchema

OPENPOSE_VERSION = 1.3
PIXEL_DECIMALS = 2
SCORE_DECIMALS = 4
METRE_DECIMALS = 4

_OPENPOSE_EMPTY_FIELDS = (
    "face_keypoints_2d",
    "hand_left_keypoints_2d",
    "hand_right_keypoints_2d",
    "pose_keypoints_3d",
    "face_keypoints_3d",
    "hand_left_keypoints_3d",
    "hand_right_keypoints_3d",
)


def _rounded(value: float, decimals: int) -> float:
    """Rounded; NaN and infinities become 0.0 so the JSON stays strict."""
    value = float(value)
    return round(value, decimals) if math.isfinite(value) else 0.0


def _present(points: Keypoints, person: int) -> np.ndarray:
    """(k,) bool: the point has a finite location and a confidence above 0."""
    return np.isfinite(points.xy[person]).all(axis=1) & (points.confidence[person] > 0)


def _triplet(x: float, y: float, confidence: float) -> list[float]:
    return [_rounded(x, PIXEL_DECIMALS), _rounded(y, PIXEL_DECIMALS), _rounded(confidence, SCORE_DECIMALS)]


def _flat_triplets(points: Keypoints, person: int) -> list[float]:
    """``[x, y, c] * k`` with missing points as 0, 0, 0 (COCO and OpenPose convention)."""
    flat: list[float] = []
    for (x, y), confidence, present in zip(
        points.xy[person], points.confidence[person], _present(points, person), strict=True
    ):
        flat += _triplet(x, y, confidence) if present else [0.0, 0.0, 0.0]
    return flat


def _bbox(poses: Poses, person: int) -> list[float]:
    return [_rounded(v, PIXEL_DECIMALS) for v in poses.bbox_xywh[person]]


def _score(poses: Poses, person: int) -> float:
    return _rounded(poses.score[person], SCORE_DECIMALS)


def poses_to_coco(
    poses: Poses, image_id: int | str, category_id: int = 1, schema: KeypointSchema = COCO17
) -> list[dict[str, Any]]:
    """COCO keypoint results entries, one per person, ``schema``'s points (held or converted)."""
    points = poses.keypoints_in(schema)
    entries: list[dict[str, Any]] = [
        {
            "image_id": image_id,
            "category_id": category_id,
            "keypoints": _flat_triplets(points, person),
            "score": _score(poses, person),
            "bbox": _bbox(poses, person),
        }
        for person in range(len(poses))
    ]
    if poses.track_id is not None:  # PoseTrack's field; COCO tools ignore extra fields
        for entry, track_id in zip(entries, poses.track_id, strict=True):
            entry["track_id"] = int(track_id)
    return entries


def poses_to_openpose(poses: Poses) -> dict[str, Any]:
    """OpenPose's per-image JSON (``<stem>_keypoints.json``) with BODY_25 pose points."""
    points = poses.keypoints_in(BODY25)
    people = []
    for person in range(len(poses)):
        person_id = [-1] if poses.track_id is None else [int(poses.track_id[person])]
        entry: dict[str, Any] = {"person_id": person_id, "pose_keypoints_2d": _flat_triplets(points, person)}
        entry.update({field: [] for field in _OPENPOSE_EMPTY_FIELDS})
        people.append(entry)
    return {"version": OPENPOSE_VERSION, "people": people}


def _points_list(points: Keypoints, person: int) -> list[list[float | None]]:
    """``[[x, y, c], ...]`` with missing points as ``[None, None, 0.0]``."""
    rows: list[list[float | None]] = []
    for (x, y), confidence, present in zip(
        points.xy[person], points.confidence[person], _present(points, person), strict=True
    ):
        rows.append(list(_triplet(x, y, confidence)) if present else [None, None, 0.0])
    return rows


def _world_list(world_xyz: np.ndarray) -> list[list[float | None]]:
    """World points in metres; a point with any non-finite coordinate becomes nulls."""
    return [
        [_rounded(v, METRE_DECIMALS) for v in point] if np.isfinite(point).all() else [None, None, None]
        for point in world_xyz
    ]


def _person_record(poses: Poses, person: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "track_id": None if poses.track_id is None else int(poses.track_id[person]),
        "score": _score(poses, person),
        "bbox": _bbox(poses, person),
        "keypoints": {name: _points_list(points, person) for name, points in poses.keypoints.items()},
    }
    if poses.world_xyz is not None:
        record["world_xyz"] = _world_list(poses.world_xyz[person])
    return record


def poses_to_record(
    poses: Poses, *, frame_index: int | None = None, timestamp_s: float | None = None, source: str | None = None
) -> dict[str, Any]:
    """One JSON-lines record for an image or video frame.

    ``{"source", "frame_index", "timestamp_s", "image_size": [h, w], "people": [{"track_id",
    "score", "bbox": [x, y, w, h], "keypoints": {schema name: [[x, y, c], ...]}, "world_xyz"}]}``.
    ``source``, ``frame_index`` and ``timestamp_s`` are left out when None; ``world_xyz`` when the
    poses have none. ``keypoints`` holds every schema the poses hold.
    """
    record: dict[str, Any] = {}
    if source is not None:
        record["source"] = source
    if frame_index is not None:
        record["frame_index"] = int(frame_index)
    if timestamp_s is not None:
        record["timestamp_s"] = _rounded(timestamp_s, 6)
    record["image_size"] = [int(v) for v in poses.image_size]
    record["people"] = [_person_record(poses, person) for person in range(len(poses))]
    return record
