"""Poses -> the dicts of the formats people already use (pure functions, no file I/O).

* COCO results: ``{"image_id", "category_id", "keypoints": [x, y, score] * k, "score", "bbox"}``
  (plus ``track_id`` for tracked poses, as PoseTrack writes); a missing point is ``0, 0, 0``.
* OpenPose per-image JSON (format version 1.3): ``{"version": 1.3, "people": [{"person_id",
  "pose_keypoints_2d", ...}]}`` with BODY_25 points (neck and mid-hip are the midpoints of
  shoulders and hips; feet come from BlazePose's heel and foot index, see :mod:`posekit.schemas`);
  a missing point is ``0, 0, 0`` and ``person_id`` is ``[-1]`` without tracking, as OpenPose writes.
* JSON lines record: one object per image or frame; a missing point is ``[null, null, 0.0]``
  (valid JSON, and no fake location that could be mistaken for the image corner).
* Evaluation results in a labelled file's own layout: COCO-WholeBody (body ``keypoints`` plus
  ``foot_kpts``, ``face_kpts``, ``lefthand_kpts``, ``righthand_kpts``, as xtcocotools reads
  them), hands (21 points) and faces (68 points), see :func:`poses_to_wholebody_results`,
  :func:`keypoints_to_results`, :func:`poses_to_hand_results` and :func:`poses_to_face_results`.

Pixels are rounded to 2 decimals, scores to 4, world metres to 4. Every value is finite, so the
output always serialises as strict JSON (``allow_nan=False``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from posekit.results import Keypoints, Poses
from posekit.schemas import (
    BODY25,
    COCO17,
    FACE68,
    HAND21,
    HAND_LEFT21,
    HAND_RIGHT21,
    OPENPOSE137,
    WHOLEBODY133,
    KeypointSchema,
)
from posekit.schemas.wholebody import OPENPOSE_FIELDS, WHOLEBODY_FIELDS

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


_FACE_AND_HAND_PARTS = ("face68", "face468", "hand_left21", "hand_right21")


def poses_to_openpose(poses: Poses) -> dict[str, Any]:
    """OpenPose's per-image JSON (``<stem>_keypoints.json``) with BODY_25 pose points.

    When the poses hold a face (``face68`` or ``face468``) or hands, ``face_keypoints_2d`` (70:
    iBUG 68 + right and left pupil) and ``hand_left/right_keypoints_2d`` (21 each) are filled from
    :data:`~posekit.schemas.OPENPOSE137`; otherwise they are empty, as OpenPose writes them
    without ``--face`` / ``--hand``.
    """
    points = poses.keypoints_in(BODY25)
    extra = None
    if any(name in poses.keypoints for name in _FACE_AND_HAND_PARTS):
        extra = poses.keypoints_in(OPENPOSE137)
    people = []
    for person in range(len(poses)):
        person_id = [-1] if poses.track_id is None else [int(poses.track_id[person])]
        entry: dict[str, Any] = {"person_id": person_id, "pose_keypoints_2d": _flat_triplets(points, person)}
        entry.update({field: [] for field in _OPENPOSE_EMPTY_FIELDS})
        if extra is not None:
            flat = _flat_triplets(extra, person)
            for part, field in OPENPOSE_FIELDS[1:]:
                sl = OPENPOSE137.part(part)
                entry[field] = flat[3 * sl.start : 3 * sl.stop]
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


def _record_keypoints(poses: Poses) -> dict[str, Keypoints]:
    """Every schema the poses hold, plus ``wholebody133`` assembled when they hold hands or a face."""
    held = dict(poses.keypoints)
    if any(name in held for name in _FACE_AND_HAND_PARTS):
        held[WHOLEBODY133.name] = poses.keypoints_in(WHOLEBODY133)
    return held


def _person_record(poses: Poses, person: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "track_id": None if poses.track_id is None else int(poses.track_id[person]),
        "score": _score(poses, person),
        "bbox": _bbox(poses, person),
        "keypoints": {name: _points_list(points, person) for name, points in _record_keypoints(poses).items()},
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


# --- Results in an evaluation file's own layout --------------------------------------------------


def poses_to_wholebody_results(poses: Poses, image_id: int | str, category_id: int = 1) -> list[dict[str, Any]]:
    """COCO-WholeBody results, one per person, in the annotation file's (and xtcocotools') layout.

    ``keypoints`` holds the 17 body points and ``foot_kpts`` (6), ``face_kpts`` (68),
    ``lefthand_kpts`` and ``righthand_kpts`` (21 each) the rest of
    :data:`~posekit.schemas.WHOLEBODY133`, assembled from whatever parts the poses hold (see
    :func:`posekit.results.assemble`); parts posekit did not estimate are all ``0, 0, 0``.
    """
    points = poses.keypoints_in(WHOLEBODY133)
    results = []
    for person in range(len(poses)):
        flat = _flat_triplets(points, person)
        entry: dict[str, Any] = {"image_id": image_id, "category_id": category_id}
        for part, field in WHOLEBODY_FIELDS:
            sl = WHOLEBODY133.part(part)
            entry[field] = flat[3 * sl.start : 3 * sl.stop]
        entry.update(score=_score(poses, person), bbox=_bbox(poses, person))
        results.append(entry)
    return results


def _extent_bbox(points: Keypoints, person: int) -> list[float] | None:
    present = _present(points, person)
    if not present.any():
        return None
    xy = points.xy[person][present]
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    return [_rounded(v, PIXEL_DECIMALS) for v in (x0, y0, x1 - x0, y1 - y0)]


def keypoints_to_results(
    points: Keypoints,
    image_id: int | str,
    category_id: int = 1,
    *,
    annotation_ids: list[Any] | None = None,
    boxes_xywh: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """COCO-style results for one hand or face (or any single-schema object) per row of ``points``.

    Top-down evaluation (hands, faces) predicts inside each annotation's box: pass
    ``annotation_ids`` and ``boxes_xywh`` to record which annotation each result answers
    (``annotation_id``) and the box it was predicted in (``bbox``); without them ``bbox`` is the
    extent of the found points. ``score`` is the mean confidence of the found points. Objects
    with no point found give no result.
    """
    results = []
    for row in range(len(points)):
        bbox = (
            [_rounded(v, PIXEL_DECIMALS) for v in boxes_xywh[row]]
            if boxes_xywh is not None
            else _extent_bbox(points, row)
        )
        present = _present(points, row)
        if not present.any() or bbox is None:
            continue
        entry: dict[str, Any] = {"image_id": image_id, "category_id": category_id}
        if annotation_ids is not None:
            entry["annotation_id"] = annotation_ids[row]
        entry.update(
            keypoints=_flat_triplets(points, row),
            score=_rounded(float(points.confidence[row][present].mean()), SCORE_DECIMALS),
            bbox=bbox,
        )
        results.append(entry)
    return results


def poses_to_hand_results(poses: Poses, image_id: int | str, category_id: int = 1) -> list[dict[str, Any]]:
    """Hand-only results (21 points each) from the people's ``hand_left21`` and ``hand_right21``.

    Each found hand is one result, its ``bbox`` the extent of its points; the evaluator matches
    such results to annotations by box overlap. (Top-down evaluation uses
    :func:`keypoints_to_results` with the annotations' ids instead.)
    """
    results = []
    for schema in (HAND_LEFT21, HAND_RIGHT21):
        try:
            hands = poses.keypoints_in(schema)
        except ValueError:  # no hands estimated
            continue
        results += keypoints_to_results(hands.to(HAND21), image_id, category_id)
    return results


def poses_to_face_results(
    poses: Poses, image_id: int | str, category_id: int = 1, schema: KeypointSchema = FACE68
) -> list[dict[str, Any]]:
    """Face-only results (68 iBUG points) per person: ``face68`` held, else from ``face468`` or
    a held whole-body layout; ``bbox`` is the extent of the points. No face estimated: no results."""
    try:
        faces = poses.keypoints_in(schema)
    except ValueError:
        return []
    return keypoints_to_results(faces, image_id, category_id)
