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

from posekit.geometry import RotatedRect, box_iou_xyxy, letterbox, rect_from_alignment_points
from posekit.numeric import sigmoid
from posekit.runtime import Runtime

INPUT_SIZE = 224


def ssd_anchor_centers(input_size: int, strides: tuple[int, ...], anchors_per_cell: int = 2) -> np.ndarray:
    """Anchor centres ``(n, 2)`` normalised to the input, in SSD order (layer, row, col, anchor).

    Consecutive layers with the same stride share one feature map, so their anchors are
    emitted together per cell, as MediaPipe's SsdAnchorsCalculator does.
    """
    centers: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = 0
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        cells = int(np.ceil(input_size / stride))
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centers.append(np.repeat(grid, anchors_per_cell * same, axis=0))
        layer += same
    return np.concatenate(centers).astype(np.float32)


def weighted_nms(
    boxes_xyxy: np.ndarray, points_xy: np.ndarray, scores: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merges overlapping candidates into score-weighted means (MediaPipe's WEIGHTED NMS).

    Returns the merged boxes, keypoints and the best score of each cluster.
    """
    order = np.argsort(-scores)
    out_boxes, out_points, out_scores = [], [], []
    while order.size:
        ious = box_iou_xyxy(boxes_xyxy[order[:1]], boxes_xyxy[order])[0]
        cluster = order[ious > iou_threshold]
        if cluster.size == 0:  # degenerate box: keep it alone
            cluster = order[:1]
        weights = scores[cluster] / scores[cluster].sum()
        out_boxes.append(np.tensordot(weights, boxes_xyxy[cluster], axes=1))
        out_points.append(np.tensordot(weights, points_xy[cluster], axes=1))
        out_scores.append(scores[order[0]])
        order = order[~np.isin(order, cluster)]
    if not out_scores:
        return np.zeros((0, 4), np.float32), np.zeros((0,) + points_xy.shape[1:], np.float32), np.zeros(0, np.float32)
    return np.array(out_boxes), np.array(out_points), np.array(out_scores)


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
        scores = sigmoid(logits[0, :, 0])
        keep = scores >= self.min_score
        if not keep.any():
            empty = np.zeros((0, 4), np.float32)
            return PersonDetections(empty, np.zeros(0, np.float32), ())
        raw = regressors[0, keep] / INPUT_SIZE
        anchors = self._anchors[keep]
        centers = raw[:, 0:2] + anchors
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centers - half, centers + half], axis=1) * INPUT_SIZE
        points = (raw[:, 4:12].reshape(-1, 4, 2) + anchors[:, None, :]) * INPUT_SIZE
        boxes, points, kept_scores = weighted_nms(boxes, points, scores[keep], self.iou_threshold)
        boxes_img = box.to_image(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
        points_img = box.to_image(points)
        # ROI: square around the mid-hip with side 2*|kp1-kp0|, enlarged 1.25x (MediaPipe).
        rois = tuple(rect_from_alignment_points(p[0], p[1]).scaled(1.25) for p in points_img)
        return PersonDetections(boxes_img.astype(np.float32), kept_scores.astype(np.float32), rois)
