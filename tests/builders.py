"""Small builders of hand-made ``Poses`` for tests that need no model."""

from __future__ import annotations

import numpy as np

from posekit.results import Keypoints, Poses
from posekit.schemas import BLAZEPOSE33, COCO17, KeypointSchema

# A person standing and facing the camera, in a unit box (x right, y down). The person's left
# side is on the image's right.
UNIT_PERSON: dict[str, tuple[float, float]] = {
    "nose": (0.50, 0.10),
    "left_eye_inner": (0.52, 0.08),
    "left_eye": (0.53, 0.08),
    "left_eye_outer": (0.54, 0.08),
    "right_eye_inner": (0.48, 0.08),
    "right_eye": (0.47, 0.08),
    "right_eye_outer": (0.46, 0.08),
    "left_ear": (0.56, 0.10),
    "right_ear": (0.44, 0.10),
    "mouth_left": (0.52, 0.13),
    "mouth_right": (0.48, 0.13),
    "left_shoulder": (0.65, 0.25),
    "right_shoulder": (0.35, 0.25),
    "left_elbow": (0.70, 0.40),
    "right_elbow": (0.30, 0.40),
    "left_wrist": (0.72, 0.55),
    "right_wrist": (0.28, 0.55),
    "left_pinky": (0.74, 0.58),
    "right_pinky": (0.26, 0.58),
    "left_index": (0.73, 0.59),
    "right_index": (0.27, 0.59),
    "left_thumb": (0.71, 0.58),
    "right_thumb": (0.29, 0.58),
    "left_hip": (0.60, 0.55),
    "right_hip": (0.40, 0.55),
    "left_knee": (0.60, 0.75),
    "right_knee": (0.40, 0.75),
    "left_ankle": (0.60, 0.93),
    "right_ankle": (0.40, 0.93),
    "left_heel": (0.58, 0.96),
    "right_heel": (0.42, 0.96),
    "left_foot_index": (0.66, 0.99),
    "right_foot_index": (0.34, 0.99),
}


def person_xy(schema: KeypointSchema, bbox_xywh: tuple[float, float, float, float]) -> np.ndarray:
    """``(k, 2)`` pixel positions of :data:`UNIT_PERSON` placed in ``bbox_xywh``."""
    x, y, w, h = bbox_xywh
    unit = np.array([UNIT_PERSON[name] for name in schema.keypoint_names], dtype=np.float32)
    return unit * np.array([w, h], dtype=np.float32) + np.array([x, y], dtype=np.float32)


def make_poses(
    bboxes_xywh: list[tuple[float, float, float, float]],
    *,
    schemas: tuple[KeypointSchema, ...] = (COCO17,),
    image_size: tuple[int, int] = (480, 640),
    confidence: float = 0.9,
    scores: list[float] | None = None,
    track_ids: list[int] | None = None,
    world: bool = False,
) -> Poses:
    """People standing in the given boxes, every point at ``confidence``, in each of ``schemas``."""
    keypoints = {}
    for schema in schemas:
        xy = np.stack([person_xy(schema, box) for box in bboxes_xywh]) if bboxes_xywh else np.zeros((0, 0, 2))
        keypoints[schema.name] = Keypoints(schema, xy, np.full(xy.shape[:2], confidence, np.float32))
    n = len(bboxes_xywh)
    world_xyz = None
    if world:
        world_xyz = np.random.default_rng(0).uniform(-0.5, 0.5, (n, BLAZEPOSE33.num_keypoints, 3))
    return Poses(
        bbox_xywh=np.array(bboxes_xywh, dtype=np.float32).reshape(n, 4),
        score=np.array(scores if scores is not None else [0.9 - 0.1 * i for i in range(n)], dtype=np.float32),
        keypoints=keypoints,
        image_size=image_size,
        world_xyz=world_xyz,
        track_id=None if track_ids is None else np.array(track_ids),
    )


def with_points(poses: Poses, schema: KeypointSchema, xy: np.ndarray, confidence: np.ndarray) -> Poses:
    """``poses`` with one schema's points replaced (the others kept)."""
    keypoints = dict(poses.keypoints)
    keypoints[schema.name] = Keypoints(schema, xy, confidence)
    return Poses(poses.bbox_xywh, poses.score, keypoints, poses.image_size, poses.world_xyz, poses.track_id)
