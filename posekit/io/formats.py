"""Poses -> the dicts of the formats people already use (pure functions, no file I/O).

* COCO results: ``{"image_id", "category_id", "keypoints": [x, y, score] * k, "score", "bbox"}``;
  a missing point is ``0, 0, 0``.
* OpenPose per-image JSON: ``{"version": 1.3, "people": [{"person_id", "pose_keypoints_2d", ...}]}``
  with BODY_25 points (neck and mid-hip are the midpoints of shoulders and hips; feet come from
  BlazePose's heel and foot index, see :mod:`posekit.schemas`); a missing point is ``0, 0, 0``.
* JSON lines record: one object per image or frame; a missing point is ``[null, null, 0.0]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from posekit.results import Keypoints, Poses
from posekit.schemas import BODY25, COCO17, KeypointSchema

OPENPOSE_VERSION = 1.3


def _flat_triplets(points: Keypoints, person: int) -> list[float]:
    """``[x, y, c] * k`` with missing points as 0, 0, 0 (COCO and OpenPose convention)."""
    xy = points.xy[person]
    confidence = points.confidence[person]
    missing = ~np.isfinite(xy).all(axis=1) | (confidence <= 0)
    triplets = np.concatenate([np.where(missing[:, None], 0.0, xy), np.where(missing, 0.0, confidence)[:, None]], 1)
    return [round(float(v), 2 if i % 3 < 2 else 4) for i, v in enumerate(triplets.ravel())]


def _bbox(poses: Poses, person: int) -> list[float]:
    return [round(float(v), 2) for v in poses.bbox_xywh[person]]


def poses_to_coco(
    poses: Poses, image_id: int | str, category_id: int = 1, schema: KeypointSchema = COCO17
) -> list[dict[str, Any]]:
    points = poses.keypoints_in(schema)
    return [
        {
            "image_id": image_id,
            "category_id": category_id,
            "keypoints": _flat_triplets(points, i),
            "score": round(float(poses.score[i]), 5),
            "bbox": _bbox(poses, i),
        }
        for i in range(len(poses))
    ]


def poses_to_openpose(poses: Poses) -> dict[str, Any]:
    points = poses.keypoints_in(BODY25)
    people = []
    for i in range(len(poses)):
        person_id = [-1] if poses.track_id is None else [int(poses.track_id[i])]
        people.append(
            {
                "person_id": person_id,
                "pose_keypoints_2d": _flat_triplets(points, i),
                "face_keypoints_2d": [],
                "hand_left_keypoints_2d": [],
                "hand_right_keypoints_2d": [],
                "pose_keypoints_3d": [],
                "face_keypoints_3d": [],
                "hand_left_keypoints_3d": [],
                "hand_right_keypoints_3d": [],
            }
        )
    return {"version": OPENPOSE_VERSION, "people": people}


def _points_list(points: Keypoints, person: int) -> list[list[float | None]]:
    out: list[list[float | None]] = []
    for (x, y), c in zip(points.xy[person], points.confidence[person], strict=True):
        if np.isfinite(x) and np.isfinite(y) and c > 0:
            out.append([round(float(x), 2), round(float(y), 2), round(float(c), 4)])
        else:
            out.append([None, None, 0.0])
    return out


def poses_to_record(
    poses: Poses, *, source: str | None = None, frame_index: int | None = None, timestamp_s: float | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if source is not None:
        record["source"] = source
    if frame_index is not None:
        record["frame_index"] = int(frame_index)
    if timestamp_s is not None:
        record["timestamp_s"] = round(float(timestamp_s), 6)
    record["image_size"] = list(poses.image_size)
    people = []
    for i in range(len(poses)):
        person: dict[str, Any] = {
            "track_id": None if poses.track_id is None else int(poses.track_id[i]),
            "score": round(float(poses.score[i]), 5),
            "bbox": _bbox(poses, i),
            "keypoints": {name: _points_list(points, i) for name, points in poses.keypoints.items()},
        }
        if poses.world_xyz is not None:
            person["world_xyz"] = [[round(float(v), 4) for v in p] for p in poses.world_xyz[i]]
        people.append(person)
    record["people"] = people
    return record
