"""BlazePose's own person detector (``pose_detection.tflite``, 224x224 SSD, 2254 anchors).

Facts from MediaPipe's pose detection graph: SSD anchors over 5 layers with strides
8, 16, 32, 32, 32, one aspect ratio plus the interpolated scale (2 anchors per cell), fixed
anchor size, offset 0.5; each anchor regresses a box (cx, cy, w, h) and 4 keypoints scaled by
224; scores are sigmoid logits clipped to +-100; overlapping boxes are merged by weighted
NMS at IoU 0.3. Keypoint 0 is the mid-hip, keypoint 1 lies on the circle enclosing the body.
It finds about one person per image, so posekit uses it for single-person work and as a
fallback, not as the multi-person detector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.detect.ssd import decode_ssd, ssd_anchor_centers
from posekit.geometry import RotatedRect, letterbox, rect_from_alignment_points
from posekit.runtime import Runtime

INPUT_SIZE = 224


@dataclass(frozen=True)
class PersonDetections:
    """Detector output in image pixels: boxes ``(n, 4)`` x0,y0,x1,y1, ``scores (n,)`` and
    the ROI each person's landmark model should look at."""

    boxes_xyxy: np.ndarray
    scores: np.ndarray
    rois: tuple[RotatedRect, ...]


class BlazePoseDetector:
    """Finds (mostly one) person and the rotated ROI for the BlazePose landmark model."""

    def __init__(self, runtime: Runtime, min_score: float = 0.5, iou_threshold: float = 0.3) -> None:
        self._runtime = runtime
        self._anchors = ssd_anchor_centers(INPUT_SIZE, (8, 16, 32, 32, 32))
        self.min_score = min_score
        self.iou_threshold = iou_threshold

    def __call__(self, image_rgb: np.ndarray) -> PersonDetections:
        model_input, box = letterbox(image_rgb, INPUT_SIZE)
        tensor = (model_input.astype(np.float32) / 127.5 - 1.0)[None]
        regressors, logits = self._runtime.run([tensor])
        boxes, points, kept_scores = decode_ssd(
            regressors[0], logits[0, :, 0], self._anchors, INPUT_SIZE, 4, self.min_score, self.iou_threshold
        )
        if not len(kept_scores):
            return PersonDetections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), ())
        boxes_img = box.to_image(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
        points_img = box.to_image(points)
        # ROI: square around the mid-hip with side 2*|kp1-kp0|, enlarged 1.25x (MediaPipe).
        rois = tuple(rect_from_alignment_points(p[0], p[1]).scaled(1.25) for p in points_img)
        return PersonDetections(boxes_img.astype(np.float32), kept_scores.astype(np.float32), rois)
