"""Per-person operations of the image path: pose NMS, the BlazePose ROI from COCO-17, stage timing.

Plain functions on numpy arrays, shared by the image and the video pipelines.
"""

from __future__ import annotations

import math
import time
from collections.abc import MutableMapping, Sequence

import numpy as np

from posekit.errors import UsageError
from posekit.geometry import RotatedRect, normalize_angle, pose_oks, torso_axis
from posekit.landmarks.blazepose import BlazePoseLandmarks
from posekit.schemas import COCO17, CONVERSIONS, Coco17Keypoint

_BLAZEPOSE_TO_COCO = np.array([recipe[0][0] for recipe in CONVERSIONS[("blazepose33", "coco17")].sources])
_HIPS = [Coco17Keypoint.LEFT_HIP, Coco17Keypoint.RIGHT_HIP]
_SHOULDERS = [Coco17Keypoint.LEFT_SHOULDER, Coco17Keypoint.RIGHT_SHOULDER]


def roi_from_coco17(xy: np.ndarray, confidence: np.ndarray, box_xyxy: np.ndarray, min_conf: float = 0.2) -> RotatedRect:
    """The BlazePose ROI for a person seen as COCO-17 keypoints.

    Mirrors BlazePose's own alignment: centred on the mid-hip, turned so the hips->shoulders
    direction points up, big enough to hold every confident keypoint (then 1.25x, as MediaPipe
    enlarges its ROI). Falls back to the box when the torso is not visible.
    """
    seen = confidence >= min_conf
    torso = torso_axis(xy, seen)
    if torso is not None and seen[_HIPS].all() and seen[_SHOULDERS].all():
        mid_hip, up = torso
        angle = normalize_angle(math.pi / 2 - math.atan2(-up[1], up[0]))
        # The torso alone sets a floor on the size when limbs are not visible.
        radius = max(float(np.max(np.linalg.norm(xy[seen] - mid_hip, axis=1))), 1.2 * float(np.linalg.norm(up)))
        side = 2.0 * radius * 1.25
        return RotatedRect(float(mid_hip[0]), float(mid_hip[1]), side, side, angle)
    center = (box_xyxy[:2] + box_xyxy[2:]) / 2
    side = float(max(box_xyxy[2] - box_xyxy[0], box_xyxy[3] - box_xyxy[1])) * 1.25
    return RotatedRect(float(center[0]), float(center[1]), side, side, 0.0)


def duplicates_kept(
    xy: np.ndarray, kept_xy: np.ndarray, kept_conf: np.ndarray, kept_boxes_xyxy: np.ndarray, oks_threshold: float
) -> bool:
    """Whether the pose ``xy (17, 2)`` is one of the kept people: OKS above the threshold, the kept
    poses treated as ground truth (confident points count, area from the box)."""
    if len(kept_xy) == 0:
        return False
    oks = pose_oks(kept_xy, kept_conf, kept_boxes_xyxy, xy[None], COCO17.oks_sigmas(), min_confidence=0.2)
    return bool(oks.max() > oks_threshold)


def pose_nms(
    coco_xy: np.ndarray, coco_conf: np.ndarray, boxes_xyxy: np.ndarray, scores: np.ndarray, oks_threshold: float
) -> np.ndarray:
    """Indices of the poses to keep, best first: a pose whose OKS to a kept one exceeds the
    threshold is the same person seen from a second box."""
    kept: list[int] = []
    for index in np.argsort(-scores, kind="stable"):
        if not duplicates_kept(coco_xy[index], coco_xy[kept], coco_conf[kept], boxes_xyxy[kept], oks_threshold):
            kept.append(int(index))
    return np.array(kept, dtype=np.int64)


def blazepose_to_coco17(landmarks: Sequence[BlazePoseLandmarks]) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 ``xy (n, 17, 2)`` and ``confidence (n, 17)`` (visibility) from BlazePose landmarks."""
    n = len(landmarks)
    coco_xy = np.array([lm.xy[_BLAZEPOSE_TO_COCO] for lm in landmarks], np.float32).reshape(n, 17, 2)
    coco_conf = np.array([lm.visibility[_BLAZEPOSE_TO_COCO] for lm in landmarks], np.float32).reshape(n, 17)
    return coco_xy, coco_conf


class StageClock:
    """Adds each stage's wall time (ms) to a caller-supplied dict, if one was given."""

    def __init__(self, timings_ms: MutableMapping[str, float] | None) -> None:
        self.timings_ms = timings_ms
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings_ms is not None:
            self.timings_ms[stage] = self.timings_ms.get(stage, 0.0) + 1000.0 * (now - self._last)
        self._last = now


def check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise UsageError(f"expected a numpy image array, got {type(image).__name__}; use predict(path) for files")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise UsageError(
            f"expected an HxWx3 uint8 image, got shape {image.shape} dtype {image.dtype}; "
            "read files with posekit.io.images.read_image, which converts grayscale, RGBA and 16-bit"
        )
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise UsageError(f"image of {image.shape[1]}x{image.shape[0]} pixels is too small to hold a person")
