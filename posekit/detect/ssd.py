"""SSD decoding shared by MediaPipe's detectors (pose, palm, face): anchors, boxes, weighted NMS.

Facts from MediaPipe's detection graphs: anchors sit at cell centres (offset 0.5) of each
feature map, with fixed anchor size; each anchor regresses a box (cx, cy, w, h) and keypoints
(x, y) in input pixels relative to its centre; scores are sigmoid logits; overlapping boxes are
merged into score-weighted means (WEIGHTED non-maximum suppression).
"""

from __future__ import annotations

import numpy as np

from posekit.geometry import box_iou_xyxy
from posekit.numeric import sigmoid


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


def decode_ssd(
    regressors: np.ndarray,
    logits: np.ndarray,
    anchors: np.ndarray,
    input_size: int,
    num_points: int,
    min_score: float,
    iou_threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes ``(n, 4)`` x0,y0,x1,y1, keypoints ``(n, num_points, 2)`` (input pixels) and scores
    ``(n,)`` of the anchors scoring at least ``min_score``, merged by weighted NMS.

    ``regressors (anchors, 4 + 2 * num_points)`` and ``logits (anchors,)`` are one image's raw
    model outputs; ``anchors (anchors, 2)`` the normalised centres from :func:`ssd_anchor_centers`.
    """
    scores = sigmoid(np.clip(logits, -100.0, 100.0))
    keep = scores >= min_score
    if not keep.any():
        return np.zeros((0, 4), np.float32), np.zeros((0, num_points, 2), np.float32), np.zeros(0, np.float32)
    raw = regressors[keep] / input_size
    centres = anchors[keep]
    box_centres = raw[:, 0:2] + centres
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([box_centres - half, box_centres + half], axis=1) * input_size
    points = (raw[:, 4 : 4 + 2 * num_points].reshape(-1, num_points, 2) + centres[:, None, :]) * input_size
    return weighted_nms(boxes, points, scores[keep], iou_threshold)
