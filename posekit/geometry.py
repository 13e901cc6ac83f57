"""Image geometry shared by every model: letterboxing, rotated ROIs, affine warps, box IoU and pose OKS.

Plain functions on numpy arrays, checkable without any model. Coordinates are pixels of
the original image unless a name says ``_norm`` (0..1 of the model input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from posekit.schemas import Coco17Keypoint

_EPS = np.spacing(1)


@dataclass(frozen=True)
class RotatedRect:
    """A square-ish region of the image in pixels, rotated by ``angle_rad`` (counter-clockwise
    as seen on screen, the way MediaPipe's NormalizedRect rotation is applied)."""

    center_x: float
    center_y: float
    width: float
    height: float
    angle_rad: float = 0.0

    def scaled(self, factor: float) -> RotatedRect:
        return RotatedRect(self.center_x, self.center_y, self.width * factor, self.height * factor, self.angle_rad)


def normalize_angle(angle_rad: float) -> float:
    return angle_rad - 2 * math.pi * math.floor((angle_rad + math.pi) / (2 * math.pi))


def rect_from_alignment_points(
    center_xy: np.ndarray, scale_xy: np.ndarray, target_angle_rad: float = math.pi / 2
) -> RotatedRect:
    """ROI from two alignment points, as BlazePose defines them.

    ``center_xy`` is the body centre (mid-hip); ``scale_xy`` lies on the circle that encloses
    the body, in the head direction for an upright person. The rect is a square of side
    ``2 * |scale - center|`` rotated so that the centre->scale vector points up.
    """
    dx = float(scale_xy[0] - center_xy[0])
    dy = float(scale_xy[1] - center_xy[1])
    side = 2.0 * math.hypot(dx, dy)
    angle = normalize_angle(target_angle_rad - math.atan2(-dy, dx))
    return RotatedRect(float(center_xy[0]), float(center_xy[1]), side, side, angle)


def rotation_towards(start_xy: np.ndarray, end_xy: np.ndarray, target_angle_rad: float = math.pi / 2) -> float:
    """The ROI rotation that turns the ``start -> end`` direction to ``target_angle_rad``
    (pi/2: pointing up in the crop), as MediaPipe's detection-to-rect rules compute it."""
    dx, dy = float(end_xy[0] - start_xy[0]), float(end_xy[1] - start_xy[1])
    return normalize_angle(target_angle_rad - math.atan2(-dy, dx))


def rect_around_points(points_xy: np.ndarray, angle_rad: float) -> RotatedRect:
    """The tightest rect rotated by ``angle_rad`` that holds ``points_xy (k, 2)``."""
    points = np.asarray(points_xy, dtype=np.float64)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    cos_a, sin_a = math.cos(angle_rad), math.sin(angle_rad)
    to_rect = np.array([[cos_a, sin_a], [-sin_a, cos_a]])  # rotation by -angle
    local = (points - centre) @ to_rect.T
    low, high = local.min(axis=0), local.max(axis=0)
    local_centre = (low + high) / 2
    centre = centre + local_centre @ np.linalg.inv(to_rect).T
    return RotatedRect(float(centre[0]), float(centre[1]), float(high[0] - low[0]), float(high[1] - low[1]), angle_rad)


def transform_rect(
    rect: RotatedRect, scale: float = 1.0, shift_x: float = 0.0, shift_y: float = 0.0, square_long: bool = True
) -> RotatedRect:
    """Shifts (by fractions of the rect's own width / height, along its rotated axes), squares
    (to the longer side) and scales a rect, like MediaPipe's RectTransformationCalculator."""
    cos_a, sin_a = math.cos(rect.angle_rad), math.sin(rect.angle_rad)
    centre_x = rect.center_x + rect.width * shift_x * cos_a - rect.height * shift_y * sin_a
    centre_y = rect.center_y + rect.width * shift_x * sin_a + rect.height * shift_y * cos_a
    width, height = rect.width, rect.height
    if square_long:
        width = height = max(width, height)
    return RotatedRect(centre_x, centre_y, width * scale, height * scale, rect.angle_rad)


def rect_corners(rect: RotatedRect) -> np.ndarray:
    """The 4 corners (top-left, top-right, bottom-right, bottom-left of the crop) in pixels."""
    cos_a, sin_a = math.cos(rect.angle_rad), math.sin(rect.angle_rad)
    half_w, half_h = rect.width / 2, rect.height / 2
    local = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    rotation = np.array([[cos_a, -sin_a], [sin_a, cos_a]])
    return local @ rotation.T + np.array([rect.center_x, rect.center_y])


def crop_rect(image: np.ndarray, rect: RotatedRect, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Warps ``rect`` of ``image`` into a ``size x size`` crop.

    Returns ``(crop, crop_to_image)`` where ``crop_to_image`` is the 2x3 affine mapping crop
    pixels back to image pixels. Outside the image is filled with black, as MediaPipe does.
    """
    corners = rect_corners(rect).astype(np.float32)
    dst = np.array([[0, 0], [size, 0], [size, size]], dtype=np.float32)
    image_to_crop = cv2.getAffineTransform(corners[:3], dst)
    crop = cv2.warpAffine(
        image, image_to_crop, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return crop, cv2.invertAffineTransform(image_to_crop)


def apply_affine(points_xy: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Applies a 2x3 affine to ``(..., 2)`` points."""
    return points_xy @ affine[:, :2].T + affine[:, 2]


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into a square model input: ``input = image * scale + pad``."""

    scale: float
    pad_x: float
    pad_y: float

    def to_image(self, points_xy: np.ndarray) -> np.ndarray:
        return (points_xy - np.array([self.pad_x, self.pad_y])) / self.scale


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """Resizes keeping the aspect ratio and pads to ``size x size`` (padding centred, black)."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    out = np.zeros((size, size, image.shape[2]), dtype=image.dtype)
    out[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return out, Letterbox(scale=new_w / width, pad_x=float(pad_x), pad_y=float(pad_y))


def box_iou_xyxy(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(a, b)`` of boxes given as x0, y0, x1, y1."""
    tl = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    br = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    inter = np.clip(br - tl, 0, None).prod(axis=2)
    area_a = np.clip(boxes_a[:, 2:] - boxes_a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(boxes_b[:, 2:] - boxes_b[:, :2], 0, None).prod(axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def nms_xyxy(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    order = np.argsort(-scores)
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if order.size == 1:
            break
        ious = box_iou_xyxy(boxes[best : best + 1], boxes[order[1:]])[0]
        order = order[1:][ious <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def compute_oks(
    gt_keypoints: np.ndarray,
    gt_areas: np.ndarray,
    gt_bboxes_xywh: np.ndarray,
    dt_keypoints: np.ndarray,
    sigmas: np.ndarray,
) -> np.ndarray:
    """OKS between each detection and each ground truth: ``(d, g)``.

    ``gt_keypoints (g, k, 3)`` with visibility ``v``; ``dt_keypoints (d, k, 3)`` (score
    ignored). For a ground truth with no labelled point, the distance is measured to its box
    enlarged to 3x (one box-size margin each side), as COCO does.
    """
    gt_keypoints = np.asarray(gt_keypoints, dtype=np.float64).reshape(len(gt_areas), -1, 3)
    dt_keypoints = np.asarray(dt_keypoints, dtype=np.float64).reshape(-1, gt_keypoints.shape[1], 3)
    variances = (2.0 * np.asarray(sigmas, dtype=np.float64)) ** 2
    oks = np.zeros((len(dt_keypoints), len(gt_keypoints)))
    if oks.size == 0:
        return oks
    dt_xy = dt_keypoints[:, :, :2]
    for j, (gt, area, box) in enumerate(zip(gt_keypoints, gt_areas, gt_bboxes_xywh, strict=True)):
        labelled = gt[:, 2] > 0
        if labelled.any():
            delta = dt_xy - gt[None, :, :2]
        else:
            x0, y0, w, h = box
            low = np.array([x0 - w, y0 - h])
            high = np.array([x0 + 2 * w, y0 + 2 * h])
            delta = np.maximum(0.0, low - dt_xy) + np.maximum(0.0, dt_xy - high)
        error = (delta**2).sum(axis=2) / variances / (area + _EPS) / 2.0
        if labelled.any():
            error = error[:, labelled]
        oks[:, j] = np.exp(-error).sum(axis=1) / error.shape[1]
    return oks


def pose_oks(
    reference_xy: np.ndarray,
    reference_confidence: np.ndarray,
    reference_boxes_xyxy: np.ndarray,
    xy: np.ndarray,
    sigmas: np.ndarray,
    min_confidence: float,
) -> np.ndarray:
    """``(r, n)`` OKS of the poses ``xy (n, k, 2)`` against reference poses ``(r, k, 2)`` taken as
    ground truth: their points with at least ``min_confidence`` count, and the area is 0.53 x
    their box (COCO's segment area is about half the box). How pose NMS and the tracker compare
    predicted poses with each other."""
    labelled = 2.0 * (np.asarray(reference_confidence) >= min_confidence)[..., None]
    gt = np.concatenate([np.asarray(reference_xy, np.float64), labelled], axis=2)
    sizes = reference_boxes_xyxy[:, 2:] - reference_boxes_xyxy[:, :2]
    areas = np.maximum(sizes.prod(axis=1), 1.0) * 0.53
    dt = np.concatenate([np.asarray(xy, np.float64), np.ones((*np.shape(xy)[:2], 1))], axis=2)
    return compute_oks(gt, areas, np.zeros((len(gt), 4)), dt, sigmas).T


_HIPS = [Coco17Keypoint.LEFT_HIP, Coco17Keypoint.RIGHT_HIP]
_SHOULDERS = [Coco17Keypoint.LEFT_SHOULDER, Coco17Keypoint.RIGHT_SHOULDER]


def torso_axis(xy: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A COCO-17 person's mid-hip and the vector from it to mid-shoulder, from the hips and
    shoulders ``seen``; None unless at least one of each is. Where the body is and how big,
    when the limbs are not visible."""
    if not seen[_HIPS].any() or not seen[_SHOULDERS].any():
        return None
    mid_hip = xy[_HIPS][seen[_HIPS]].mean(axis=0)
    return mid_hip, xy[_SHOULDERS][seen[_SHOULDERS]].mean(axis=0) - mid_hip
