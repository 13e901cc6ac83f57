"""The image pipeline: detector -> keypoint and landmark models -> pose NMS -> ``Poses``.

1. **Detect** every person: MoveNet MultiPose (boxes, scores, rough COCO-17), or BlazePose's
   own detector for single-person work.
2. **COCO-17**: MoveNet SinglePose (Thunder by default) on a square crop around each box.
3. **Pose NMS**: two boxes on one person give one pose; the lower-scored copy is dropped, and
   a dropped box is read again with the kept people painted over (:mod:`posekit.image.occlusion`).
4. **BlazePose-33** (lite/full/heavy) on a rotated ROI placed from the COCO-17 torso:
   33 landmarks with visibility, and 3D world coordinates in metres.

Each person's score is the detector's score times the mean COCO-17 keypoint confidence.
``PoseEstimator`` is created once (it loads the models) and called per image.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping, Sequence
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from posekit.detect.blazepose_detector import BlazePoseDetector
from posekit.detect.movenet import MoveNetMultiPose, PersonCandidates
from posekit.detect.parts import FACE, PALM, PartDetector
from posekit.errors import UsageError
from posekit.geometry import RotatedRect
from posekit.image.assembly import assemble_poses, hands_only_poses
from posekit.image.occlusion import reread_hidden_people
from posekit.image.options import EstimatorOptions
from posekit.image.people import StageClock, blazepose_to_coco17, check_image, pose_nms, roi_from_coco17
from posekit.image.scoring import person_scores
from posekit.landmarks.blazepose import BlazePoseLandmarker, BlazePoseLandmarks
from posekit.landmarks.face import FaceMeshLandmarker
from posekit.landmarks.hand import HandLandmarker, HandRecrop
from posekit.landmarks.movenet_single import MoveNetSinglePose, SizeSwitchedSinglePose
from posekit.landmarks.wholebody import PersonParts, PreviousParts, WholeBodyLandmarker
from posekit.models import model_path
from posekit.results import Poses
from posekit.runtime import LiteRTRuntime, Runtime

logger = logging.getLogger(__name__)

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
                min_tile_px=self.options.min_tile_px,
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
            keep = self._reread_dropped(image_rgb, candidates, coco_xy, coco_conf, scores, keep)
        # Pose NMS and re-reads rank by the raw evidence; people are reported by their calibrated score.
        scores = person_scores(candidates.scores, coco_conf)
        keep = keep[np.argsort(-scores[keep], kind="stable")]
        keep = keep[scores[keep] >= self.options.min_person_score][: self.options.max_people]
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
            poses = hands_only_poses(self._whole_body.hands_without_body(image_rgb), poses)
            clock.lap("whole_body")
        clock.lap("post")
        return poses

    def _reread_dropped(
        self,
        image_rgb: np.ndarray,
        candidates: PersonCandidates,
        coco_xy: np.ndarray,
        coco_conf: np.ndarray,
        scores: np.ndarray,
        keep: np.ndarray,
    ) -> np.ndarray:
        """``keep`` with the people pose NMS dropped and a re-read found; fills their readings
        and scores into ``coco_xy``, ``coco_conf`` and ``scores`` in place."""
        # Only candidates that could still reach the minimum score (confidence <= 1).
        best_reachable = person_scores(candidates.scores, np.ones_like(coco_conf))
        dropped = [
            int(i)
            for i in np.argsort(-scores, kind="stable")
            if i not in keep and best_reachable[i] >= self.options.min_person_score
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
        return keep[np.argsort(-scores[keep], kind="stable")]

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
