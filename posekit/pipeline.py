"""The image pipeline: detector -> keypoint and landmark models -> pose NMS -> ``Poses``.

1. **Detect** every person: MoveNet MultiPose (boxes, scores, rough COCO-17), or BlazePose's
   own detector for single-person work.
2. **COCO-17**: MoveNet SinglePose (Thunder by default) on a square crop around each box.
3. **Pose NMS**: two boxes on one person give one pose; the lower-scored copy is dropped.
4. **BlazePose-33** (lite/full/heavy) on a rotated ROI placed from the COCO-17 torso:
   33 landmarks with visibility, and 3D world coordinates in metres.

Each person's score is the detector's score times the mean COCO-17 keypoint confidence.
``PoseEstimator`` is created once (it loads the models) and called per image.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from posekit.detect.blazepose_detector import BlazePoseDetector
from posekit.detect.movenet import MoveNetMultiPose, PersonCandidates
from posekit.detect.parts import FACE, PALM, PartDetector
from posekit.errors import UsageError
from posekit.eval.oks import pose_oks
from posekit.geometry import RotatedRect, box_iou_xyxy, normalize_angle
from posekit.landmarks.blazepose import BlazePoseLandmarker, BlazePoseLandmarks
from posekit.landmarks.face import FaceMeshLandmarker
from posekit.landmarks.hand import HandLandmarker, HandLandmarks, HandRecrop
from posekit.landmarks.movenet_single import MoveNetSinglePose, SizeSwitchedSinglePose
from posekit.landmarks.wholebody import (
    PersonParts,
    PreviousParts,
    WholeBodyLandmarker,
    landmarks_to_keypoints,
    parts_to_keypoints,
)
from posekit.models import model_path
from posekit.results import Keypoints, Poses
from posekit.runtime import LiteRTRuntime, Runtime
from posekit.schemas import BLAZEPOSE33, COCO17, CONVERSIONS, Coco17Keypoint

logger = logging.getLogger(__name__)

LandmarkModel = Literal["lite", "full", "heavy", "auto", "none"]
KeypointModel = Literal["thunder", "lightning", "auto", "none"]
DetectorName = Literal["movenet", "blazepose"]
HandModel = Literal["lite", "full"]
RuntimeFactory = Callable[[Path, int], Runtime]

_LANDMARK_FILES = {
    "lite": "pose_landmark_lite.tflite",
    "full": "pose_landmark_full.tflite",
    "heavy": "pose_landmark_heavy.tflite",
}
_KEYPOINT_FILES = {
    "thunder": "movenet_singlepose_thunder.tflite",
    "lightning": "movenet_singlepose_lightning.tflite",
    "thunder_192": "movenet_singlepose_thunder_192.tflite",  # auto's model for a person alone
}
_BLAZEPOSE_TO_COCO = np.array([recipe[0][0] for recipe in CONVERSIONS[("blazepose33", "coco17")].sources])


@dataclass(frozen=True)
class EstimatorOptions:
    """Everything that configures a :class:`PoseEstimator`.

    * ``detector``: ``movenet`` (MoveNet MultiPose, up to 6 people per image) or ``blazepose``
      (BlazePose's detector: mostly one person, for single-person footage).
    * ``keypoint_model``: per-person COCO-17 model, ``thunder`` (accurate), ``lightning``
      (about 4x faster, about 0.1 AP lower), ``auto`` (Lightning for people whose crop fits its
      192 px input, Thunder for larger ones: accuracy for the few near people, speed for crowds of
      far ones; a person alone gets Thunder at a 192 px input, about 60 % of Thunder's time; the
      video default) or ``none`` (keep the detector's own keypoints).
    * ``landmark_model``: BlazePose size for the 33 landmarks and world coordinates,
      ``lite`` | ``full`` | ``heavy``, ``none`` to skip them (COCO-17 only), or ``auto`` (the
      default): ``full``, and ``heavy`` with ``whole_body``, whose hand and face ROIs come from
      BlazePose's points (measured on the COCO-WholeBody dev images at 0.75 / 1 / 1.25 scale:
      whole-body AP 0.281 / 0.398 / 0.319 with full, 0.388 / 0.440 / 0.491 with heavy, at about
      30 ms more per person); video (:class:`~posekit.video_pipeline.VideoOptions`) takes full.
      See :attr:`resolved_landmark_model`.
    * ``landmark_refine``: run BlazePose twice, the second time on the ROI its own alignment
      points give (as MediaPipe does across frames).
    * ``min_person_score``: people scoring below this are dropped.
    * ``pose_nms_oks``: two poses this similar (OKS) are one person.
    * ``reread_hidden``: when the keypoint model's reading of a detected person is dropped as a
      duplicate of someone kept (it read the person in front), read that box again with the kept
      people painted over (:func:`reread_hidden_people`); one more model call per such box.
      In video for tracked and followed lost people whose ROI read someone else, kept only
      when the new reading matches their predicted pose (without that test, re-reading tracked
      people handed people to the wrong track); not for new detections (it made tracks of
      half-people).
    * ``num_threads``: CPU threads per model. ``max_image_pixels``: larger images are refused.
    * ``whole_body``: also hands (``hand_left21``, ``hand_right21``, with ``hand_model`` lite or
      full) and face (``face68``; ``face468`` too with ``face_mesh``) for every person, placed
      from BlazePose's landmarks (needs a landmark model). ``hand_search``: when the hand model
      is unsure in the ROI the body gives, search around it with the palm detector (measured +0.06
      whole-body AP on the dev set, at about 12 ms more per person with unsure hands).
    """

    detector: DetectorName = "movenet"
    keypoint_model: KeypointModel = "thunder"
    landmark_model: LandmarkModel = "auto"
    landmark_refine: bool = False
    min_person_score: float = 0.05
    detector_min_score: float = 0.1
    pose_nms_oks: float = 0.5
    reread_hidden: bool = True
    num_threads: int = 2
    max_image_pixels: int = 50_000_000
    whole_body: bool = False
    hand_model: HandModel = "full"
    face_mesh: bool = False
    hand_search: bool = True

    def __post_init__(self) -> None:
        choices = {
            "detector": ("movenet", "blazepose"),
            "keypoint_model": ("thunder", "lightning", "auto", "none"),
            "landmark_model": ("lite", "full", "heavy", "auto", "none"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if self.hand_model not in ("lite", "full"):
            raise UsageError(f"hand_model must be lite or full; got {self.hand_model!r}")
        if self.whole_body and self.landmark_model == "none":
            raise UsageError("whole_body places hands and face from BlazePose: pick landmark_model lite, full or heavy")
        if self.detector == "blazepose" and self.landmark_model == "none":
            raise UsageError("detector='blazepose' needs a landmark model; pick landmark_model lite, full or heavy")

    @property
    def resolved_landmark_model(self) -> LandmarkModel:
        """The BlazePose model that runs: ``auto`` is ``heavy`` with ``whole_body``, else ``full``."""
        if self.landmark_model == "auto":
            return "heavy" if self.whole_body else "full"
        return self.landmark_model


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


def paint_over_people(
    image_rgb: np.ndarray,
    coco_xy: np.ndarray,
    coco_conf: np.ndarray,
    boxes_xyxy: np.ndarray,
    limb_width: float = 0.12,
    min_conf: float = 0.3,
) -> np.ndarray:
    """A copy of the image with these people painted over in its mean colour: limbs as lines
    ``limb_width`` x their box height thick, the torso filled, a disc on the head."""
    painted = image_rgb.copy()
    fill = tuple(int(v) for v in image_rgb.reshape(-1, 3).mean(axis=0))
    torso = [
        Coco17Keypoint.LEFT_SHOULDER,
        Coco17Keypoint.RIGHT_SHOULDER,
        Coco17Keypoint.RIGHT_HIP,
        Coco17Keypoint.LEFT_HIP,
    ]
    head = list(range(Coco17Keypoint.RIGHT_EAR + 1))  # nose, eyes, ears
    for xy, seen, box in zip(coco_xy, coco_conf >= min_conf, boxes_xyxy, strict=True):
        height = float(box[3] - box[1])
        points = np.round(xy).astype(np.int32)
        for a, b in COCO17.edges:
            if seen[a] and seen[b]:
                cv2.line(painted, tuple(points[a]), tuple(points[b]), fill, max(int(limb_width * height), 2))
        if seen[torso].all():
            cv2.fillPoly(painted, [points[torso]], fill)
        if seen[head].any():
            centre = np.round(xy[head][seen[head]].mean(axis=0)).astype(int)
            cv2.circle(painted, (int(centre[0]), int(centre[1])), max(int(0.09 * height), 2), fill, -1)
    return painted


KeypointReader = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def reread_hidden_people(
    image_rgb: np.ndarray,
    read: KeypointReader,
    coco_xy: np.ndarray,
    coco_conf: np.ndarray,
    boxes_xyxy: np.ndarray,
    keep: np.ndarray,
    candidates: Sequence[int],
    oks_threshold: float,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """New readings ``(index, xy (17, 2), confidence (17,))`` for candidates pose NMS dropped.

    A per-person model cropped on someone half hidden behind another person reads the person in
    front, and pose NMS then drops the reading as a duplicate. Read again, in the candidate's own
    box, with the kept people overlapping it painted over (:func:`paint_over_people`), the model
    sees the person behind; a reading that is still a duplicate is not returned. ``read(image,
    boxes_xyxy)`` is the keypoint model; ``candidates`` are tried in order, each accepted reading
    counting as kept for the next. The input arrays are not changed.
    """
    kept_xy, kept_conf, kept_boxes = coco_xy[keep], coco_conf[keep], boxes_xyxy[keep]
    found: list[tuple[int, np.ndarray, np.ndarray]] = []
    for index in candidates:
        box = boxes_xyxy[index]
        overlapping = box_iou_xyxy(box[None], kept_boxes)[0] > 0
        if not overlapping.any():
            continue
        painted = paint_over_people(image_rgb, kept_xy[overlapping], kept_conf[overlapping], kept_boxes[overlapping])
        xy, conf = read(painted, box[None])
        if duplicates_kept(xy[0], kept_xy, kept_conf, kept_boxes, oks_threshold):
            continue
        kept_xy = np.concatenate([kept_xy, xy[:1]])
        kept_conf = np.concatenate([kept_conf, conf[:1]])
        kept_boxes = np.concatenate([kept_boxes, box[None]])
        found.append((int(index), xy[0], conf[0]))
    return found


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


class PoseEstimator:
    """Multi-person body pose for single images.

    >>> with PoseEstimator() as estimator:                 # doctest: +SKIP
    ...     poses = estimator(cv2.imread("people.jpg"))    # BGR, as OpenCV reads it
    ...     poses.keypoints["coco17"].xy                   # (n, 17, 2) pixels

    Images are numpy ``uint8`` arrays in **BGR** order (OpenCV's), HxWx3; ``estimate_rgb``
    takes RGB. ``predict(path)`` reads a file (grayscale, RGBA and 16-bit are converted).
    ``runtime_factory`` builds the inference runtime for a model file (tests pass a fake).
    """

    def __init__(self, options: EstimatorOptions | None = None, runtime_factory: RuntimeFactory | None = None) -> None:
        self.options = options or EstimatorOptions()
        make = runtime_factory or (lambda path, threads: LiteRTRuntime(path, threads))
        threads = self.options.num_threads
        self._movenet: MoveNetMultiPose | None = None
        self._blazepose_detector: BlazePoseDetector | None = None
        if self.options.detector == "movenet":
            self._movenet = MoveNetMultiPose(
                make(model_path("movenet_multipose_lightning.tflite"), threads),
                min_score=self.options.detector_min_score,
            )
        else:
            self._blazepose_detector = BlazePoseDetector(make(model_path("pose_detection.tflite"), threads))
        self._keypoint_model: MoveNetSinglePose | SizeSwitchedSinglePose | None = None
        if self.options.keypoint_model == "auto":
            self._keypoint_model = SizeSwitchedSinglePose(
                MoveNetSinglePose(make(model_path(_KEYPOINT_FILES["lightning"]), threads)),
                MoveNetSinglePose(make(model_path(_KEYPOINT_FILES["thunder"]), threads)),
                alone=MoveNetSinglePose(make(model_path(_KEYPOINT_FILES["thunder_192"]), threads)),
            )
        elif self.options.keypoint_model != "none":
            self._keypoint_model = MoveNetSinglePose(
                make(model_path(_KEYPOINT_FILES[self.options.keypoint_model]), threads)
            )
        self._landmarker = None
        if self.options.resolved_landmark_model != "none":
            self._landmarker = BlazePoseLandmarker(
                make(model_path(_LANDMARK_FILES[self.options.resolved_landmark_model]), threads)
            )
        self._whole_body: WholeBodyLandmarker | None = None
        if self.options.whole_body:
            self._whole_body = WholeBodyLandmarker(
                HandLandmarker(make(model_path(f"hand_landmark_{self.options.hand_model}.tflite"), threads)),
                HandRecrop(make(model_path("hand_recrop.tflite"), threads)),
                FaceMeshLandmarker(make(model_path("face_landmark.tflite"), threads)),
                palms=(
                    PartDetector(make(model_path(f"palm_detection_{self.options.hand_model}.tflite"), threads), PALM)
                    if self.options.hand_search
                    else None
                ),
                faces=PartDetector(make(model_path("face_detection_short_range.tflite"), threads), FACE),
            )

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drops the models; the estimator cannot be used afterwards."""
        self._movenet = self._blazepose_detector = self._keypoint_model = self._landmarker = None
        self._whole_body = None

    def predict(self, path: str | Path) -> Poses:
        from posekit.io.images import read_image

        return self(read_image(path, max_pixels=self.options.max_image_pixels))

    def __call__(self, image_bgr: np.ndarray, timings_ms: MutableMapping[str, float] | None = None) -> Poses:
        check_image(image_bgr)
        return self.estimate_rgb(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB), timings_ms)

    def estimate_rgb(self, image_rgb: np.ndarray, timings_ms: MutableMapping[str, float] | None = None) -> Poses:
        """Poses in an RGB image; fills ``timings_ms`` (detect, keypoints, landmarks, post) if given."""
        check_image(image_rgb)
        if self._movenet is None and self._blazepose_detector is None:
            raise UsageError("this PoseEstimator was closed; create a new one")
        clock = StageClock(timings_ms)
        image_size = (int(image_rgb.shape[0]), int(image_rgb.shape[1]))
        if self._blazepose_detector is not None:
            return self._single_person_path(image_rgb, image_size, clock)

        assert self._movenet is not None
        candidates = self._movenet(image_rgb)
        clock.lap("detect")
        coco_xy, coco_conf = candidates.coco17_xy, candidates.coco17_confidence
        if self._keypoint_model is not None:
            coco_xy, coco_conf = self._keypoint_model.in_boxes(image_rgb, candidates.boxes_xyxy)
        clock.lap("keypoints")
        scores = candidates.scores * coco_conf.mean(axis=1)
        keep = pose_nms(coco_xy, coco_conf, candidates.boxes_xyxy, scores, self.options.pose_nms_oks)
        if self._keypoint_model is not None and self.options.reread_hidden:
            # Only candidates that could still reach the minimum score (confidence <= 1).
            dropped = [
                int(i)
                for i in np.argsort(-scores, kind="stable")
                if i not in keep and candidates.scores[i] >= self.options.min_person_score
            ]
            found = reread_hidden_people(
                image_rgb,
                partial(self.keypoints_in_boxes, people_in_image=len(candidates)),
                coco_xy,
                coco_conf,
                candidates.boxes_xyxy,
                keep,
                dropped,
                self.options.pose_nms_oks,
            )
            for index, xy, conf in found:
                coco_xy[index], coco_conf[index] = xy, conf
                scores[index] = candidates.scores[index] * conf.mean()
            keep = np.concatenate([keep, np.array([index for index, _, _ in found], np.int64)])
            keep = keep[np.argsort(-scores[keep], kind="stable")]
        keep = keep[scores[keep] >= self.options.min_person_score]
        clock.lap("post")
        logger.debug("%d candidates, %d people after pose NMS and min score", len(candidates), len(keep))
        people = candidates.select(keep)
        coco_xy, coco_conf, scores = coco_xy[keep], coco_conf[keep], scores[keep]
        landmarks = (
            [
                self._landmarks(image_rgb, roi_from_coco17(coco_xy[i], coco_conf[i], people.boxes_xyxy[i]))
                for i in range(len(keep))
            ]
            if self._landmarker is not None
            else None
        )
        clock.lap("landmarks")
        parts = self.whole_body_parts(image_rgb, landmarks) if landmarks is not None else None
        clock.lap("whole_body")
        poses = assemble_poses(people, coco_xy, coco_conf, scores, landmarks, image_size, parts, self.options.face_mesh)
        if len(poses) == 0 and self._whole_body is not None:
            # Nobody found: a hand-only picture? Hands the palm detector finds become entries
            # with only hand points, as OpenPose writes people with hands alone.
            poses = _hands_only(self._whole_body.hands_without_body(image_rgb), poses)
            clock.lap("whole_body")
        clock.lap("post")
        return poses

    # --- Stages, for pipelines that reuse the models (the video pipeline) -------------------

    @property
    def has_keypoint_model(self) -> bool:
        return self._keypoint_model is not None

    @property
    def has_landmark_model(self) -> bool:
        return self._landmarker is not None

    def detect_people(self, image_rgb: np.ndarray, regions_xyxy: np.ndarray | None = None) -> PersonCandidates:
        """Everyone the detector finds, with its own rough COCO-17 points; with ``regions_xyxy``
        (MoveNet only) it looks in each region at full detail instead of the whole image."""
        if self._movenet is not None:
            return (
                self._movenet(image_rgb) if regions_xyxy is None else self._movenet.in_regions(image_rgb, regions_xyxy)
            )
        if self._blazepose_detector is None:
            raise UsageError("this PoseEstimator was closed; create a new one")
        detections = self._blazepose_detector(image_rgb)
        n = len(detections.scores)
        return PersonCandidates(
            detections.boxes_xyxy, detections.scores, np.zeros((n, 17, 2), np.float32), np.zeros((n, 17), np.float32)
        )

    def detect_rois(self, image_rgb: np.ndarray) -> tuple[list[RotatedRect], np.ndarray]:
        """BlazePose detector only: the landmark ROIs it places and their scores."""
        if self._blazepose_detector is None:
            raise UsageError("detect_rois needs detector='blazepose'")
        detections = self._blazepose_detector(image_rgb)
        return list(detections.rois), detections.scores

    def keypoints_in_boxes(
        self,
        image_rgb: np.ndarray,
        boxes_xyxy: np.ndarray,
        people_in_image: int | None = None,
        sizing_boxes_xyxy: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 ``xy (n, 17, 2)`` pixels and ``confidence (n, 17)`` from the keypoint model, one
        row per box (with ``auto``, the boxes of one image together: the model depends on them all;
        ``people_in_image`` when the boxes are only some of them; ``sizing_boxes_xyxy`` when the
        person's size is not the crop box's, see :class:`SizeSwitchedSinglePose`)."""
        if self._keypoint_model is None:
            raise UsageError("keypoints_in_boxes needs keypoint_model thunder, lightning or auto")
        if isinstance(self._keypoint_model, SizeSwitchedSinglePose):
            return self._keypoint_model.in_boxes(image_rgb, boxes_xyxy, people_in_image, sizing_boxes_xyxy)
        return self._keypoint_model.in_boxes(image_rgb, boxes_xyxy)

    def landmarks_in_roi(self, image_rgb: np.ndarray, roi: RotatedRect) -> BlazePoseLandmarks:
        """BlazePose's 33 landmarks in a rotated ROI (a second pass when ``landmark_refine``)."""
        if self._landmarker is None:
            raise UsageError("landmarks_in_roi needs landmark_model lite, full or heavy")
        landmarks = self._landmarker(image_rgb, roi)
        if self.options.landmark_refine:
            landmarks = self._landmarker(image_rgb, landmarks.next_roi)
        return landmarks

    _landmarks = landmarks_in_roi

    def whole_body_parts(
        self,
        image_rgb: np.ndarray,
        landmarks: Sequence[BlazePoseLandmarks],
        previous: Sequence[PreviousParts | None] | None = None,
    ) -> list[PersonParts] | None:
        """Hands and face of each person (None unless ``whole_body``); ``previous`` gives each
        person's part ROIs from the last frame, for video."""
        if self._whole_body is None:
            return None
        earlier = list(previous) if previous is not None else [None] * len(landmarks)
        return [self._whole_body(image_rgb, body, before) for body, before in zip(landmarks, earlier, strict=True)]

    def _single_person_path(self, image_rgb: np.ndarray, image_size: tuple[int, int], clock: StageClock) -> Poses:
        assert self._blazepose_detector is not None
        detections = self._blazepose_detector(image_rgb)
        clock.lap("detect")
        landmarks = [self._landmarks(image_rgb, roi) for roi in detections.rois]
        clock.lap("landmarks")
        coco_xy, coco_conf = blazepose_to_coco17(landmarks)
        scores = detections.scores * np.array([lm.pose_score for lm in landmarks], np.float32)
        people = PersonCandidates(detections.boxes_xyxy, detections.scores, coco_xy, coco_conf)
        keep = np.flatnonzero(scores >= self.options.min_person_score)
        kept_landmarks = [landmarks[i] for i in keep]
        parts = self.whole_body_parts(image_rgb, kept_landmarks)
        clock.lap("whole_body")
        poses = assemble_poses(
            people.select(keep),
            coco_xy[keep],
            coco_conf[keep],
            scores[keep],
            kept_landmarks,
            image_size,
            parts,
            self.options.face_mesh,
        )
        clock.lap("post")
        return poses


def blazepose_to_coco17(landmarks: Sequence[BlazePoseLandmarks]) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 ``xy (n, 17, 2)`` and ``confidence (n, 17)`` (visibility) from BlazePose landmarks."""
    n = len(landmarks)
    coco_xy = np.array([lm.xy[_BLAZEPOSE_TO_COCO] for lm in landmarks], np.float32).reshape(n, 17, 2)
    coco_conf = np.array([lm.visibility[_BLAZEPOSE_TO_COCO] for lm in landmarks], np.float32).reshape(n, 17)
    return coco_xy, coco_conf


def assemble_poses(
    people: PersonCandidates,
    coco_xy: np.ndarray,
    coco_conf: np.ndarray,
    scores: np.ndarray,
    landmarks: list[BlazePoseLandmarks] | None,
    image_size: tuple[int, int],
    parts: list[PersonParts] | None = None,
    face_mesh: bool = False,
) -> Poses:
    n = len(people)
    boxes = _person_boxes(people.boxes_xyxy, coco_xy, coco_conf, image_size)
    keypoints = {"coco17": Keypoints(COCO17, coco_xy, coco_conf)}
    world = None
    if landmarks is not None:
        blaze_xy = np.array([lm.xy for lm in landmarks], np.float32).reshape(n, 33, 2)
        blaze_conf = np.array([lm.visibility for lm in landmarks], np.float32).reshape(n, 33)
        presence = np.array([lm.presence for lm in landmarks], np.float32).reshape(n, 33)
        keypoints["blazepose33"] = Keypoints(BLAZEPOSE33, blaze_xy, blaze_conf, presence)
        world = np.array([lm.world_xyz for lm in landmarks], np.float32).reshape(n, 33, 3)
    if parts is not None:
        keypoints.update(parts_to_keypoints(parts, face_mesh=face_mesh))
    return Poses(
        bbox_xywh=np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1),
        score=scores,
        keypoints=keypoints,
        image_size=image_size,
        world_xyz=world,
    )


def _hands_only(hands: Sequence[HandLandmarks], empty: Poses) -> Poses:
    """One entry per hand: its points under ``hand_left21`` or ``hand_right21`` (by the model's
    handedness), every other schema missing; the box holds the hand; the score is its presence."""
    if not hands:
        return empty
    n = len(hands)
    sides = ["hand_right21" if hand.right_hand_score >= 0.5 else "hand_left21" for hand in hands]
    keypoints = {}
    for name, points in empty.keypoints.items():
        filled = landmarks_to_keypoints(
            [h if side == name else None for h, side in zip(hands, sides, strict=True)], points.schema
        )
        presence = None if points.presence is None else np.zeros((n, points.schema.num_keypoints), np.float32)
        keypoints[name] = replace(filled, presence=presence)
    corners = np.array([[hand.xy.min(axis=0), hand.xy.max(axis=0)] for hand in hands], np.float32)
    world = None if empty.world_xyz is None else np.full((n, empty.world_xyz.shape[1], 3), np.nan, np.float32)
    return Poses(
        bbox_xywh=np.concatenate([corners[:, 0], corners[:, 1] - corners[:, 0]], axis=1),
        score=np.array([hand.presence for hand in hands], np.float32),
        keypoints=keypoints,
        image_size=empty.image_size,
        world_xyz=world,
    )


def _person_boxes(
    detector_boxes: np.ndarray, coco_xy: np.ndarray, coco_conf: np.ndarray, image_size: tuple[int, int]
) -> np.ndarray:
    """The detector's box grown to hold every confident keypoint, clipped to the image."""
    boxes = detector_boxes.reshape(-1, 4).copy()
    for i in range(len(boxes)):
        seen = coco_xy[i][coco_conf[i] >= 0.3]
        if len(seen):
            boxes[i, :2] = np.minimum(boxes[i, :2], seen.min(axis=0))
            boxes[i, 2:] = np.maximum(boxes[i, 2:], seen.max(axis=0))
    height, width = image_size
    return np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)


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
