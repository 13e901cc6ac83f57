"""Rendering skeleton overlays, readable on small and large images.

Limbs are coloured by side (left warm, right cool, centre white) and points by confidence
(red = unsure, green = sure). Line width and point size scale with the image.
"""

from __future__ import annotations

import cv2
import numpy as np

from posekit.results import Keypoints, Poses
from posekit.schemas import KeypointSchema

_LEFT = (0, 140, 255)  # orange (BGR)
_RIGHT = (255, 160, 0)  # blue
_CENTRE = (230, 230, 230)


def _edge_colour(schema: KeypointSchema, a: int, b: int) -> tuple[int, int, int]:
    names = schema.keypoint_names[a] + schema.keypoint_names[b]
    if "left" in names and "right" not in names:
        return _LEFT
    if "right" in names and "left" not in names:
        return _RIGHT
    return _CENTRE


def confidence_colour(confidence: float) -> tuple[int, int, int]:
    """Red at 0 through yellow to green at 1 (BGR)."""
    c = float(np.clip(confidence, 0.0, 1.0))
    return (0, int(255 * min(1.0, 2 * c)), int(255 * min(1.0, 2 * (1 - c))))


def draw_keypoints(image_bgr: np.ndarray, points: Keypoints, *, min_confidence: float = 0.3) -> np.ndarray:
    """Draws one schema's skeletons on a copy of ``image_bgr``."""
    canvas = image_bgr.copy()
    scale = max(canvas.shape[:2]) / 640.0
    thickness = max(1, round(2 * scale))
    radius = max(2, round(3 * scale))
    for person in range(len(points)):
        xy = points.xy[person]
        shown = (points.confidence[person] >= min_confidence) & np.isfinite(xy).all(axis=1)
        pixel = np.nan_to_num(xy).round().astype(np.int32)
        for a, b in points.schema.edges:
            if shown[a] and shown[b]:
                cv2.line(
                    canvas, tuple(pixel[a]), tuple(pixel[b]), _edge_colour(points.schema, a, b), thickness, cv2.LINE_AA
                )
        for i in np.flatnonzero(shown):
            colour = confidence_colour(points.confidence[person, i])
            cv2.circle(canvas, tuple(pixel[i]), radius, colour, -1, cv2.LINE_AA)
    return canvas


def draw_poses(
    image_bgr: np.ndarray,
    poses: Poses,
    schema: KeypointSchema | None = None,
    *,
    min_confidence: float = 0.3,
    draw_boxes: bool = True,
) -> np.ndarray:
    """A new image with every person's skeleton, box, score and track id; the input is untouched.

    ``schema`` defaults to ``blazepose33`` when held, else the first held schema.
    """
    if schema is None:
        name = "blazepose33" if "blazepose33" in poses.keypoints else next(iter(poses.keypoints), None)
        if name is None:
            return image_bgr.copy()
        points = poses.keypoints[name]
    else:
        points = poses.keypoints_in(schema)
    canvas = draw_keypoints(image_bgr, points, min_confidence=min_confidence)
    if draw_boxes:
        scale = max(canvas.shape[:2]) / 640.0
        font_scale = max(0.4, 0.5 * scale)
        thickness = max(1, round(scale))
        for i in range(len(poses)):
            x, y, w, h = poses.bbox_xywh[i]
            top_left, bottom_right = (int(x), int(y)), (int(x + w), int(y + h))
            cv2.rectangle(canvas, top_left, bottom_right, (200, 200, 200), thickness, cv2.LINE_AA)
            label = f"{poses.score[i]:.2f}"
            if poses.track_id is not None:
                label = f"#{int(poses.track_id[i])} {label}"
            origin = (int(x), max(int(y) - 4, 12))
            cv2.putText(
                canvas, label, origin, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness + 2, cv2.LINE_AA
            )
            cv2.putText(
                canvas, label, origin, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), thickness, cv2.LINE_AA
            )
    return canvas
