"""The image pipeline: detector -> landmark model -> fusion -> :class:`~posekit.results.Poses`.

``PoseEstimator`` is created once (it loads the models) and called per image.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from posekit.detect.blazepose_detector import BlazePoseDetector
from posekit.detect.movenet import MoveNetMultiPose, PersonCandidates
from posekit.errors import UsageError
from posekit.geometry import RotatedRect, nms_xyxy, normalize_angle
from posekit.landmarks.blazepose import BlazePoseLandmarker, BlazePoseLandmarks
from posekit.models import model_path
from posekit.results import Keypoints, Poses
from posekit.runtime import LiteRTRuntime
from posekit.schemas import BLAZEPOSE33, COCO17, CONVERSIONS, Coco17Keypoint

logger = logging.getLogger(__name__)

LandmarkModel = Literal["lite", "full", "heavy"]
DetectorName = Literal["movenet", "blazepose"]

_LANDMARK_FILES: dict[str, str] = {
    "lite": "pose_landmark_lite.tflite",
    "full": "pose_landmark_full.tflite",
    "heavy": "pose_landmark_heavy.tflite",
}
_BLAZEPOSE_TO_COCO = np.array([src[0][0] for src in CONVERSIONS[("blazepose33", "coco17")].sources])


@dataclass(frozen=True)
class EstimatorOptions:
    """Everything that configures a :class:`PoseEstimator`.

    * ``landmark_model``: BlazePose size, ``lite`` | ``full`` | ``heavy`` (slower, more precise).
    * ``detector``: ``movenet`` (MoveNet MultiPose, finds up to 6 people per pass) or
      ``blazepose`` (BlazePose's own detector, mostly one person).
    * ``min_person_score``: people scoring below this are dropped.
    * ``refine``: run the landmark model a second time on the ROI its own alignment points give.
    * ``num_threads``: CPU threads per model.
    * ``max_image_pixels``: larger images are refused before decoding.
    """

    landmark_model: LandmarkModel = "full"
    detector: DetectorName = "movenet"
    min_person_score: float = 0.15
    refine: bool = True
    num_threads: int = 2
    max_image_pixels: int = 50_000_000
    detector_min_score: float = field(default=0.1)

    def __post_init__(self) -> None:
        if self.landmark_model not in _LANDMARK_FILES:
            raise UsageError(f"landmark_model must be one of {sorted(_LANDMARK_FILES)}, not {self.landmark_model!r}")
        if self.detector not in ("movenet", "blazepose"):
            raise UsageError(f"detector must be 'movenet' or 'blazepose', not {self.detector!r}")


def roi_from_coco17(xy: np.ndarray, confidence: np.ndarray, box_xyxy: np.ndarray, min_conf: float = 0.2) -> RotatedRect:
    """The BlazePose ROI for a person seen by the detector's COCO-17 keypoints.

    Mirrors BlazePose's own alignment: centred on the mid-hip, turned so the hips->shoulders
    direction points up, big enough to hold every confident keypoint. Falls back to the box
    when the torso is not visible.
    """
    seen = confidence >= min_conf
    hips = [Coco17Keypoint.LEFT_HIP, Coco17Keypoint.RIGHT_HIP]
    shoulders = [Coco17Keypoint.LEFT_SHOULDER, Coco17Keypoint.RIGHT_SHOULDER]
    box_center = (box_xyxy[:2] + box_xyxy[2:]) / 2
    box_side = float(max(box_xyxy[2] - box_xyxy[0], box_xyxy[3] - box_xyxy[1]))
    if seen[hips].all() and seen[shoulders].all():
        mid_hip = xy[hips].mean(axis=0)
        mid_shoulder = xy[shoulders].mean(axis=0)
        up = mid_shoulder - mid_hip
        angle = normalize_angle(math.pi / 2 - math.atan2(-up[1], up[0]))
        radius = float(np.max(np.linalg.norm(xy[seen] - mid_hip, axis=1)))
        radius = max(radius, 1.2 * float(np.linalg.norm(up)))
        side = 2.0 * radius * 1.15
        return RotatedRect(float(mid_hip[0]), float(mid_hip[1]), side, side, angle)
    return RotatedRect(float(box_center[0]), float(box_center[1]), box_side * 1.25, box_side * 1.25, 0.0)


class PoseEstimator:
    """Multi-person body pose for single images.

    >>> with PoseEstimator() as estimator:           # doctest: +SKIP
    ...     poses = estimator(cv2.imread("people.jpg"))  # BGR, as OpenCV reads it
    ...     poses.keypoints["coco17"].xy              # (n, 17, 2) pixels

    Images are numpy ``uint8`` arrays in **BGR** order (OpenCV's), HxWx3; use
    ``estimate_rgb`` for RGB arrays. ``predict(path)`` reads a file.
    """

    def __init__(self, options: EstimatorOptions | None = None) -> None:
        self.options = options or EstimatorOptions()
        threads = self.options.num_threads
        self._landmarker = BlazePoseLandmarker(
            LiteRTRuntime(model_path(_LANDMARK_FILES[self.options.landmark_model]), threads)
        )
        if self.options.detector == "movenet":
            self._movenet: MoveNetMultiPose | None = MoveNetMultiPose(
                LiteRTRuntime(model_path("movenet_multipose_lightning.tflite"), threads),
                min_score=self.options.detector_min_score,
            )
            self._blazepose_detector: BlazePoseDetector | None = None
        else:
            self._movenet = None
            self._blazepose_detector = BlazePoseDetector(LiteRTRuntime(model_path("pose_detection.tflite"), threads))

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Releases the models (kept for symmetry with video sources; interpreters free on GC)."""

    def predict(self, path: str | Path) -> Poses:
        from posekit.io.images import read_image

        return self(read_image(path, max_pixels=self.options.max_image_pixels))

    def __call__(self, image_bgr: np.ndarray) -> Poses:
        _check_image(image_bgr)
        return self.estimate_rgb(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))

    def estimate_rgb(self, image_rgb: np.ndarray) -> Poses:
        _check_image(image_rgb)
        image_size = (int(image_rgb.shape[0]), int(image_rgb.shape[1]))
        people: list[tuple[BlazePoseLandmarks, np.ndarray, np.ndarray, float]] = []
        if self._movenet is not None:
            candidates = self._movenet(image_rgb)
            for i in range(len(candidates)):
                roi = roi_from_coco17(candidates.coco17_xy[i], candidates.coco17_confidence[i], candidates.boxes_xyxy[i])
                people.append(self._person(image_rgb, roi, candidates, i))
        else:
            assert self._blazepose_detector is not None
            detections = self._blazepose_detector(image_rgb)
            for roi, score in zip(detections.rois, detections.scores, strict=True):
                people.append(self._person(image_rgb, roi, None, float(score)))
        return _assemble(people, image_size, self.options.min_person_score)

    def _person(
        self, image_rgb: np.ndarray, roi: RotatedRect, candidates: PersonCandidates | None, index_or_score: float
    ) -> tuple[BlazePoseLandmarks, np.ndarray, np.ndarray, float]:
        landmarks = self._landmarker(image_rgb, roi)
        if self.options.refine:
            landmarks = self._landmarker(image_rgb, landmarks.next_roi)
        blaze_coco_xy = landmarks.xy[_BLAZEPOSE_TO_COCO]
        blaze_coco_conf = landmarks.visibility[_BLAZEPOSE_TO_COCO] * landmarks.pose_score
        if candidates is None:
            return landmarks, blaze_coco_xy, blaze_coco_conf, float(index_or_score) * landmarks.pose_score
        i = int(index_or_score)
        coco_xy, coco_conf = fuse_coco17(
            candidates.coco17_xy[i], candidates.coco17_confidence[i], blaze_coco_xy, blaze_coco_conf
        )
        score = person_score(float(candidates.scores[i]), coco_conf, landmarks.pose_score)
        return landmarks, coco_xy, coco_conf, score


def fuse_coco17(
    detector_xy: np.ndarray, detector_conf: np.ndarray, landmark_xy: np.ndarray, landmark_conf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence-weighted mean of the detector's and the landmark model's COCO-17 points."""
    weights_det = detector_conf[:, None]
    weights_lm = landmark_conf[:, None]
    total = np.maximum(weights_det + weights_lm, 1e-6)
    xy = (detector_xy * weights_det + landmark_xy * weights_lm) / total
    return xy.astype(np.float32), np.maximum(detector_conf, landmark_conf).astype(np.float32)


def person_score(detector_score: float, keypoint_conf: np.ndarray, pose_score: float) -> float:
    """The ranking score COCO AP sorts by."""
    return float(detector_score * pose_score)


def _assemble(
    people: list[tuple[BlazePoseLandmarks, np.ndarray, np.ndarray, float]],
    image_size: tuple[int, int],
    min_score: float,
) -> Poses:
    people = [p for p in people if p[3] >= min_score]
    if not people:
        return Poses.empty(image_size, (COCO17, BLAZEPOSE33))
    coco_xy = np.stack([p[1] for p in people])
    coco_conf = np.stack([p[2] for p in people])
    scores = np.array([p[3] for p in people], np.float32)
    boxes = _boxes_from_keypoints(coco_xy, coco_conf)
    keep = nms_xyxy(boxes, scores, 0.8)
    blaze_xy = np.stack([p[0].xy for p in people])
    blaze_conf = np.stack([p[0].visibility * p[0].pose_score for p in people])
    world = np.stack([p[0].world_xyz for p in people])
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    return Poses(
        bbox_xywh=xywh[keep],
        score=scores[keep],
        keypoints={
            "coco17": Keypoints(COCO17, coco_xy[keep], coco_conf[keep]),
            "blazepose33": Keypoints(BLAZEPOSE33, blaze_xy[keep], blaze_conf[keep]),
        },
        image_size=image_size,
        world_xyz=world[keep],
    )


def _boxes_from_keypoints(xy: np.ndarray, confidence: np.ndarray, min_conf: float = 0.2) -> np.ndarray:
    boxes = np.zeros((xy.shape[0], 4), np.float32)
    for i in range(xy.shape[0]):
        seen = xy[i][confidence[i] >= min_conf]
        if len(seen) == 0:
            seen = xy[i]
        boxes[i, :2] = seen.min(axis=0)
        boxes[i, 2:] = seen.max(axis=0)
    return boxes


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise UsageError(f"expected a numpy image array, got {type(image).__name__}; use predict(path) for files")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise UsageError(
            f"expected an HxWx3 uint8 image, got shape {image.shape} dtype {image.dtype}; "
            "read files with posekit.io.images.read_image, which converts grayscale/RGBA/16-bit"
        )
