"""BlazePose landmark model (lite / full / heavy): 33 landmarks + 2 alignment points per ROI.

Facts from MediaPipe's pose landmark graph: input 256x256 RGB in [0, 1], cropped from a
rotated square ROI; output ``Identity`` holds 39 x (x, y, z, visibility, presence) in crop
pixels (visibility and presence are logits); ``Identity_1`` is the pose-present score;
``Identity_4`` holds 39 x (x, y, z) world coordinates in metres, hip-centred, in the ROI's
rotated frame. Points 33 and 34 are the auxiliary alignment points (body centre and a point
on the enclosing circle) used to place the next ROI, exactly like the detector's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posekit.geometry import RotatedRect, apply_affine, crop_rect, rect_from_alignment_points
from posekit.numeric import sigmoid
from posekit.runtime import Runtime

INPUT_SIZE = 256
NUM_LANDMARKS = 33


@dataclass(frozen=True)
class BlazePoseLandmarks:
    """One person's landmarks in image pixels.

    ``xy (33, 2)`` pixels; ``z (33,)`` relative depth in the same pixel scale (smaller is
    closer, hips at about 0); ``visibility`` and ``presence (33,)`` in 0..1; ``world_xyz (33, 3)``
    metres, origin between the hips, y down; ``pose_score`` the model's person-present score;
    ``next_roi`` the ROI the alignment points give for a second pass or the next frame.
    """

    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world_xyz: np.ndarray
    pose_score: float
    next_roi: RotatedRect


class BlazePoseLandmarker:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def __call__(self, image_rgb: np.ndarray, roi: RotatedRect) -> BlazePoseLandmarks:
        crop, crop_to_image = crop_rect(image_rgb, roi, INPUT_SIZE)
        tensor = (crop.astype(np.float32) * (1.0 / 255.0))[None]
        outputs = self._runtime.run([tensor])
        raw = outputs[0].reshape(-1, 5)
        pose_score = float(outputs[1].reshape(-1)[0])
        world = outputs[4].reshape(-1, 3)[:NUM_LANDMARKS]

        xy = apply_affine(raw[:, :2], crop_to_image)
        # z shares x's scale in the crop; bring it to image pixels the same way.
        z = raw[:NUM_LANDMARKS, 2] * (roi.width / INPUT_SIZE)
        next_roi = rect_from_alignment_points(xy[33], xy[34]).scaled(1.25)
        # World landmarks come out in the ROI's rotated frame; undo the ROI rotation about z.
        cos_a, sin_a = math.cos(roi.angle_rad), math.sin(roi.angle_rad)
        world_xyz = world.copy()
        world_xyz[:, 0] = cos_a * world[:, 0] - sin_a * world[:, 1]
        world_xyz[:, 1] = sin_a * world[:, 0] + cos_a * world[:, 1]
        return BlazePoseLandmarks(
            xy=xy[:NUM_LANDMARKS].astype(np.float32),
            z=z.astype(np.float32),
            visibility=sigmoid(raw[:NUM_LANDMARKS, 3]).astype(np.float32),
            presence=sigmoid(raw[:NUM_LANDMARKS, 4]).astype(np.float32),
            world_xyz=world_xyz.astype(np.float32),
            pose_score=pose_score,
            next_roi=next_roi,
        )
