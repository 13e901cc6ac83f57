"""MediaPipe's face mesh model (``face_landmark.tflite``): 468 points per face ROI.

Facts from MediaPipe's face landmark and holistic graphs (read for facts, not code):

* input 192x192 RGB in [0, 1] from a rotated square ROI; outputs ``conv2d_21`` 468 x (x, y, z)
  in crop pixels and ``conv2d_31`` the face-present logit;
* the ROI from face keypoints (eyes, nose, mouth, ears) is their box turned so the right eye ->
  left eye line is level, 2x, shifted 0.1 towards the forehead;
* the ROI from the mesh itself (next frame, or a second pass) is the box of the 468 points
  turned so mesh point 33 -> 263 (the eyes' outer corners) is level, 1.5x.

``face_landmark_with_attention.tflite`` needs custom ops ai-edge-litert does not have; this plain
model loads. The 68-point iBUG subset is a conversion (:data:`posekit.schemas.FACE468` ->
``FACE68``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.geometry import RotatedRect, apply_affine, crop_rect, rect_around_points, rotation_towards, transform_rect
from posekit.numeric import sigmoid
from posekit.runtime import Runtime

INPUT_SIZE = 192
NUM_POINTS = 468
_RIGHT_EYE_OUTER, _LEFT_EYE_OUTER = 33, 263  # mesh indices: the subject's right and left eye corners


@dataclass(frozen=True)
class FaceLandmarks:
    """One face in image pixels: ``xy (468, 2)``, ``z (468,)`` (pixel scale), ``presence`` (0..1)
    and ``next_roi`` for the next frame."""

    xy: np.ndarray
    z: np.ndarray
    presence: float
    next_roi: RotatedRect


def face_roi_from_points(face_points_xy: np.ndarray, right_eye_xy: np.ndarray, left_eye_xy: np.ndarray) -> RotatedRect:
    """The face ROI from a few face keypoints (a body's eyes, ears, nose and mouth)."""
    angle = rotation_towards(right_eye_xy, left_eye_xy, 0.0)
    return transform_rect(rect_around_points(face_points_xy, angle), scale=2.0, shift_y=-0.1)


def face_roi_from_mesh(mesh_xy: np.ndarray) -> RotatedRect:
    angle = rotation_towards(mesh_xy[_RIGHT_EYE_OUTER], mesh_xy[_LEFT_EYE_OUTER], 0.0)
    return transform_rect(rect_around_points(mesh_xy, angle), scale=1.5)


class FaceMeshLandmarker:
    """468 face points in a rotated ROI (eyes level)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def __call__(self, image_rgb: np.ndarray, roi: RotatedRect) -> FaceLandmarks:
        crop, crop_to_image = crop_rect(image_rgb, roi, INPUT_SIZE)
        points, face_logit = self._runtime.run([(crop.astype(np.float32) * (1.0 / 255.0))[None]])
        raw = points.reshape(NUM_POINTS, 3).astype(np.float64)
        xy = apply_affine(raw[:, :2], crop_to_image)
        return FaceLandmarks(
            xy=xy.astype(np.float32),
            z=(raw[:, 2] * (roi.width / INPUT_SIZE)).astype(np.float32),
            presence=float(sigmoid(face_logit.reshape(-1)[:1])[0]),
            next_roi=face_roi_from_mesh(xy),
        )

    def refined(self, image_rgb: np.ndarray, roi: RotatedRect) -> FaceLandmarks:
        """Two passes: the second on the ROI the first one's mesh gives (tighter, level eyes)."""
        return self(image_rgb, self(image_rgb, roi).next_roi)

    def in_box(self, image_rgb: np.ndarray, box_xywh: np.ndarray) -> FaceLandmarks:
        """The face inside an upright box (face datasets label boxes): a square 1.6x the box,
        then a second pass on the mesh's own ROI."""
        x, y, width, height = (float(v) for v in box_xywh)
        side = 1.6 * max(width, height, 1.0)
        return self.refined(image_rgb, RotatedRect(x + width / 2, y + height / 2, side, side, 0.0))
