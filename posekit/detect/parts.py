"""MediaPipe's palm and face detectors, for hands and faces the body landmarks place badly.

Both are SSDs (:mod:`posekit.detect.ssd`) run either on a whole image (letterboxed) or inside a
rotated search ROI, as Holistic runs its face detector around the body's face. Facts from
MediaPipe's graphs (mediapipe 0.10.21):

* palm (``palm_detection_lite/full``): 192x192 RGB in [0, 1]; strides 8, 16, 16, 16 (2016
  anchors); 7 keypoints (0 wrist centre, 2 middle-finger knuckle); score threshold 0.5,
  weighted NMS at IoU 0.3. Hand ROI: the palm box turned so wrist -> middle knuckle points up,
  shifted half its height towards the fingers, squared, 2.6x.
* face (``face_detection_short_range``): 128x128 RGB in [-1, 1]; strides 8, 16, 16, 16 (896
  anchors); 6 keypoints (0 right eye, 1 left eye, 2 nose, 3 mouth, 4 and 5 ears); same
  threshold and NMS. Face-mesh ROI: the box turned so the right -> left eye line is level,
  squared, 1.5x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posekit.detect.ssd import decode_ssd, ssd_anchor_centers
from posekit.geometry import (
    RotatedRect,
    apply_affine,
    crop_rect,
    letterbox,
    rotation_towards,
    transform_rect,
)
from posekit.runtime import Runtime


@dataclass(frozen=True)
class PartDetections:
    """Detected palms or faces in image pixels: ``scores (n,)``, ``keypoints_xy (n, k, 2)`` and
    the ROI each one gives the landmark model (``rois``), best first."""

    scores: np.ndarray
    keypoints_xy: np.ndarray
    rois: tuple[RotatedRect, ...]

    def __len__(self) -> int:
        return int(self.scores.shape[0])


@dataclass(frozen=True)
class _SsdSpec:
    input_size: int
    num_points: int
    value_range: tuple[float, float]  # what pixel 0 and 255 become
    roi_scale: float
    roi_shift_y: float
    orientation_points: tuple[int, int]  # keypoints whose direction sets the ROI rotation
    target_angle_rad: float


PALM = _SsdSpec(192, 7, (0.0, 1.0), 2.6, -0.5, (0, 2), math.pi / 2)
FACE = _SsdSpec(128, 6, (-1.0, 1.0), 1.5, 0.0, (0, 1), 0.0)


class PartDetector:
    """A palm (``PALM``) or face (``FACE``) detector over a whole image or a search ROI."""

    def __init__(self, runtime: Runtime, spec: _SsdSpec, min_score: float = 0.5, iou_threshold: float = 0.3) -> None:
        self._runtime = runtime
        self.spec = spec
        self._anchors = ssd_anchor_centers(spec.input_size, (8, 16, 16, 16))
        self.min_score = min_score
        self.iou_threshold = iou_threshold

    def __call__(self, image_rgb: np.ndarray, search: RotatedRect | None = None) -> PartDetections:
        spec = self.spec
        if search is None:
            model_input, box = letterbox(image_rgb, spec.input_size)
            scale = 1.0 / box.scale
            to_image = np.array([[scale, 0.0, -box.pad_x * scale], [0.0, scale, -box.pad_y * scale]])
        else:
            model_input, to_image = crop_rect(image_rgb, search, spec.input_size)
        low, high = spec.value_range
        tensor = (model_input.astype(np.float32) * ((high - low) / 255.0) + low)[None]
        # Outputs come ordered by name; the regressors are the wider one whichever name they have.
        logits, regressors = sorted(self._runtime.run([tensor]), key=lambda out: out.shape[-1])
        boxes, points, scores = decode_ssd(
            regressors[0],
            logits[0, :, 0],
            self._anchors,
            spec.input_size,
            spec.num_points,
            self.min_score,
            self.iou_threshold,
        )
        rois = []
        pixels_per_input = float(np.hypot(*to_image[:, 0]))
        for box_xyxy, keypoints in zip(boxes, points, strict=True):
            centre = apply_affine((box_xyxy[:2] + box_xyxy[2:]) / 2, to_image)
            size = (box_xyxy[2:] - box_xyxy[:2]) * pixels_per_input
            keypoints_image = apply_affine(keypoints, to_image)
            start, end = spec.orientation_points
            rotation = rotation_towards(keypoints_image[start], keypoints_image[end], spec.target_angle_rad)
            rect = RotatedRect(float(centre[0]), float(centre[1]), float(size[0]), float(size[1]), rotation)
            rois.append(transform_rect(rect, scale=spec.roi_scale, shift_y=spec.roi_shift_y))
        keypoints_xy = apply_affine(points, to_image) if len(points) else points
        return PartDetections(scores.astype(np.float32), np.asarray(keypoints_xy, np.float32), tuple(rois))
