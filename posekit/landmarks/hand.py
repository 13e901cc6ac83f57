"""MediaPipe's hand landmark model (lite / full): 21 points, presence, handedness, 3D, per ROI.

Facts from MediaPipe's hand and holistic graphs (read for facts, not code):

* input 224x224 RGB in [0, 1] from a rotated square ROI; outputs ``Identity`` 21 x (x, y, z) in
  crop pixels, ``Identity_1`` the hand-present score, ``Identity_2`` handedness, ``Identity_3``
  21 x (x, y, z) world metres;
* ROI from a body (Holistic): centre at the estimated middle finger ``(2 * index + pinky) / 3``,
  side twice its distance to the wrist, turned so wrist -> middle finger points up, then 2.7x,
  shifted 0.1 towards the fingers; ``hand_recrop.tflite`` (256x256) then returns two alignment
  points (centre and scale, wrist -> fingers at -90 degrees) for a tighter ROI, shifted 0.1;
* ROI from the hand's own landmarks (next frame): the palm points' box, turned so wrist ->
  middle of the index / middle / ring knuckles points up, 2x, shifted 0.1 towards the fingers.

Handedness is reported as ``right_hand_score``: the chance that the hand is a right hand as it
appears in the image. Measured, not assumed: it is near 1 for FreiHAND's right hands and for the
right hands of COCO-WholeBody people (a selfie camera that mirrors the image swaps it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posekit.geometry import (
    RotatedRect,
    apply_affine,
    crop_rect,
    rect_around_points,
    rotation_towards,
    transform_rect,
)
from posekit.runtime import Runtime

INPUT_SIZE = 224
RECROP_INPUT_SIZE = 256
NUM_POINTS = 21
# Palm points used to place the next ROI: wrist, thumb base, and each finger's first two joints.
_PALM_POINTS = np.array([0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18])
_WRIST, _INDEX_MCP, _MIDDLE_MCP, _RING_MCP = 0, 5, 9, 13
# HandLandmarker.in_box: the square tried around a hand box (times its longer side) and its four
# turns, a quarter apart, so the wrist meets each side of the model's crop once.
_BOX_SCALE = 1.5
_WRIST_SIDES = (0.0, math.pi / 2, math.pi, -math.pi / 2)


@dataclass(frozen=True)
class HandLandmarks:
    """One hand in image pixels: ``xy (21, 2)``, ``z (21,)`` (pixel scale, relative to the wrist),
    ``world_xyz (21, 3)`` metres, ``presence`` (0..1, a hand is in the ROI), ``right_hand_score``
    (0..1, the chance it is a right hand) and ``next_roi`` for the next frame."""

    xy: np.ndarray
    z: np.ndarray
    world_xyz: np.ndarray
    presence: float
    right_hand_score: float
    next_roi: RotatedRect


def hand_roi_from_body(wrist_xy: np.ndarray, pinky_xy: np.ndarray, index_xy: np.ndarray) -> RotatedRect:
    """The first hand ROI from a body's wrist, pinky and index points (Holistic's rule)."""
    middle = (2.0 * np.asarray(index_xy, np.float64) + np.asarray(pinky_xy, np.float64)) / 3.0
    side = 2.0 * float(np.linalg.norm(middle - wrist_xy))
    angle = rotation_towards(wrist_xy, middle)
    rect = RotatedRect(float(middle[0]), float(middle[1]), side, side, angle)
    return transform_rect(rect, scale=2.7, shift_y=-0.1)


def hand_roi_from_landmarks(hand_xy: np.ndarray) -> RotatedRect:
    """The ROI for the next frame from this frame's 21 hand points."""
    knuckles = ((hand_xy[_INDEX_MCP] + hand_xy[_RING_MCP]) / 2 + hand_xy[_MIDDLE_MCP]) / 2
    angle = rotation_towards(hand_xy[_WRIST], knuckles)
    return transform_rect(rect_around_points(hand_xy[_PALM_POINTS], angle), scale=2.0, shift_y=-0.1)


class HandRecrop:
    """``hand_recrop.tflite``: a tighter hand ROI inside a loose one (from the body)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def __call__(self, image_rgb: np.ndarray, roi: RotatedRect) -> RotatedRect:
        crop, crop_to_image = crop_rect(image_rgb, roi, RECROP_INPUT_SIZE)
        (raw,) = self._runtime.run([(crop.astype(np.float32) * (1.0 / 255.0))[None]])
        centre, scale_point = apply_affine(raw.reshape(2, 2).astype(np.float64), crop_to_image)
        side = 2.0 * float(np.linalg.norm(scale_point - centre))
        angle = rotation_towards(centre, scale_point, -math.pi / 2)
        return transform_rect(RotatedRect(float(centre[0]), float(centre[1]), side, side, angle), shift_y=-0.1)


class HandLandmarker:
    """21 hand points in a rotated ROI (wrist towards the bottom of the ROI)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def in_box(self, image_rgb: np.ndarray, box_xywh: np.ndarray) -> HandLandmarks:
        """The hand inside an axis-aligned box whose orientation is unknown (hand datasets label
        boxes, not wrists): the model is tried with the wrist at each of the four sides of a
        square 1.5x the box, the most confident reading wins, then a second pass runs on the
        ROI its own points give (as on a tracked frame).

        Alternatives measured with ``bench/bench_hands.py`` tied or lost
        (docs/benchmarks.md#tried-and-rejected)."""
        x, y, width, height = (float(v) for v in box_xywh)
        side = _BOX_SCALE * max(width, height, 1.0)
        readings = [
            self(image_rgb, RotatedRect(x + width / 2, y + height / 2, side, side, angle)) for angle in _WRIST_SIDES
        ]
        best = max(readings, key=lambda reading: reading.presence)
        return self(image_rgb, best.next_roi)

    def __call__(self, image_rgb: np.ndarray, roi: RotatedRect) -> HandLandmarks:
        crop, crop_to_image = crop_rect(image_rgb, roi, INPUT_SIZE)
        points, presence, handedness, world = self._runtime.run([(crop.astype(np.float32) * (1.0 / 255.0))[None]])
        raw = points.reshape(NUM_POINTS, 3)
        xy = apply_affine(raw[:, :2].astype(np.float64), crop_to_image)
        # World points come out in the ROI's rotated frame; undo the rotation about z.
        world = world.reshape(NUM_POINTS, 3).astype(np.float64)
        cos_a, sin_a = math.cos(roi.angle_rad), math.sin(roi.angle_rad)
        world_xyz = world.copy()
        world_xyz[:, 0] = cos_a * world[:, 0] - sin_a * world[:, 1]
        world_xyz[:, 1] = sin_a * world[:, 0] + cos_a * world[:, 1]
        return HandLandmarks(
            xy=xy.astype(np.float32),
            z=(raw[:, 2] * (roi.width / INPUT_SIZE)).astype(np.float32),
            world_xyz=world_xyz.astype(np.float32),
            presence=float(np.clip(presence.reshape(-1)[0], 0.0, 1.0)),
            right_hand_score=float(np.clip(handedness.reshape(-1)[0], 0.0, 1.0)),
            next_roi=hand_roi_from_landmarks(xy),
        )
