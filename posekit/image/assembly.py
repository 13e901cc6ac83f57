"""From the stages' arrays to one :class:`~posekit.results.Poses`: boxes, schemas, parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from posekit.detect.movenet import PersonCandidates
from posekit.landmarks.blazepose import BlazePoseLandmarks
from posekit.landmarks.hand import HandLandmarks
from posekit.landmarks.wholebody import PersonParts, landmarks_to_keypoints, parts_to_keypoints
from posekit.results import Keypoints, Poses
from posekit.schemas import BLAZEPOSE33, COCO17


def assemble_poses(
    people: PersonCandidates,
    coco_xy: np.ndarray,
    coco_conf: np.ndarray,
    scores: np.ndarray,
    landmarks: list[BlazePoseLandmarks] | None,
    image_size: tuple[int, int],
    parts: list[PersonParts] | None = None,
    face_mesh: bool = False,
) -> Poses:
    n = len(people)
    boxes = _person_boxes(people.boxes_xyxy, coco_xy, coco_conf, image_size)
    keypoints = {"coco17": Keypoints(COCO17, coco_xy, coco_conf)}
    world = None
    if landmarks is not None:
        blaze_xy = np.array([lm.xy for lm in landmarks], np.float32).reshape(n, 33, 2)
        blaze_conf = np.array([lm.visibility for lm in landmarks], np.float32).reshape(n, 33)
        presence = np.array([lm.presence for lm in landmarks], np.float32).reshape(n, 33)
        keypoints["blazepose33"] = Keypoints(BLAZEPOSE33, blaze_xy, blaze_conf, presence)
        world = np.array([lm.world_xyz for lm in landmarks], np.float32).reshape(n, 33, 3)
    if parts is not None:
        keypoints.update(parts_to_keypoints(parts, face_mesh=face_mesh))
    return Poses(
        bbox_xywh=np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1),
        score=scores,
        keypoints=keypoints,
        image_size=image_size,
        world_xyz=world,
    )


def hands_only_poses(hands: Sequence[HandLandmarks], empty: Poses) -> Poses:
    """One entry per hand: its points under ``hand_left21`` or ``hand_right21`` (by the model's
    handedness), every other schema missing; the box holds the hand; the score is its presence."""
    if not hands:
        return empty
    n = len(hands)
    sides = ["hand_right21" if hand.right_hand_score >= 0.5 else "hand_left21" for hand in hands]
    keypoints = {}
    for name, points in empty.keypoints.items():
        filled = landmarks_to_keypoints(
            [h if side == name else None for h, side in zip(hands, sides, strict=True)], points.schema
        )
        presence = None if points.presence is None else np.zeros((n, points.schema.num_keypoints), np.float32)
        keypoints[name] = replace(filled, presence=presence)
    corners = np.array([[hand.xy.min(axis=0), hand.xy.max(axis=0)] for hand in hands], np.float32)
    world = None if empty.world_xyz is None else np.full((n, empty.world_xyz.shape[1], 3), np.nan, np.float32)
    return Poses(
        bbox_xywh=np.concatenate([corners[:, 0], corners[:, 1] - corners[:, 0]], axis=1),
        score=np.array([hand.presence for hand in hands], np.float32),
        keypoints=keypoints,
        image_size=empty.image_size,
        world_xyz=world,
    )


def _person_boxes(
    detector_boxes: np.ndarray, coco_xy: np.ndarray, coco_conf: np.ndarray, image_size: tuple[int, int]
) -> np.ndarray:
    """The detector's box grown to hold every confident keypoint, clipped to the image."""
    boxes = detector_boxes.reshape(-1, 4).copy()
    for i in range(len(boxes)):
        seen = coco_xy[i][coco_conf[i] >= 0.3]
        if len(seen):
            boxes[i, :2] = np.minimum(boxes[i, :2], seen.min(axis=0))
            boxes[i, 2:] = np.maximum(boxes[i, 2:], seen.max(axis=0))
    height, width = image_size
    return np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
