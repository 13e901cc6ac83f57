"""The video pipeline: follow each person's ROI, detect when needed, track ids, smooth.

Per frame (:meth:`VideoPoseEstimator.__call__`):

1. **ROIs from the last frame** (:mod:`~posekit.video.propagation`): every live track's next
   crop, from its own keypoints moved by its velocity; lost people are followed for a while.
2. **Detect only when needed** (:mod:`~posekit.video.scheduling`); detected people already
   covered by a propagated ROI are skipped.
3. **Per-person model** on each ROI: MoveNet SinglePose (COCO-17), then BlazePose (33 landmarks,
   world coordinates) when a landmark model is chosen. With ``detector="blazepose"`` the pipeline
   is MediaPipe's single-person tracking: BlazePose only, its next ROI from its alignment points.
4. **Who is kept** (:mod:`~posekit.video.selection`): admission with hysteresis and pose NMS;
   people hidden behind others are read again with the others painted over, and the detector
   looks once more behind the people found (:mod:`~posekit.video.occlusion`).
5. **Tracker** (:class:`~posekit.track.tracker.PoseTracker`) assigns stable ids.
6. **Online smoothing** (:mod:`~posekit.video.smoothing`) when ``smoothing="online"``.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping

import cv2
import numpy as np

from posekit.detect.movenet import PersonCandidates
from posekit.errors import UsageError
from posekit.geometry import RotatedRect, box_iou_xyxy
from posekit.image.assembly import assemble_poses
from posekit.image.estimator import PoseEstimator, RuntimeFactory
from posekit.image.people import StageClock, blazepose_to_coco17, check_image, pose_nms, roi_from_coco17
from posekit.landmarks.blazepose import BlazePoseLandmarks
from posekit.landmarks.face import FaceLandmarks
from posekit.landmarks.hand import HandLandmarks
from posekit.landmarks.movenet_single import stack_readings
from posekit.landmarks.wholebody import PersonParts, PreviousParts
from posekit.results import Poses
from posekit.track.tracker import PoseTracker
from posekit.video.occlusion import people_behind, reread_tracked
from posekit.video.options import VideoOptions, VideoStats
from posekit.video.propagation import Proposals, followed_lost_tracks, in_frame_scores, propagate
from posekit.video.scheduling import DetectionScheduler
from posekit.video.selection import admitted, pose_nms_keep, predicted_poses
from posekit.video.smoothing import OnlineSmoother

logger = logging.getLogger(__name__)


class VideoPoseEstimator:
    """Poses with stable track ids for successive frames of one video.

    >>> with VideoPoseEstimator() as video:                       # doctest: +SKIP
    ...     for frame in open_source("walk.mp4"):
    ...         poses = video(frame.image_bgr, frame.timestamp_s)  # BGR, seconds
    ...         poses.track_id                                     # (n,) stable ids

    Frames must come in order with increasing timestamps; ``reset()`` starts a new video.
    """

    def __init__(self, options: VideoOptions | None = None, runtime_factory: RuntimeFactory | None = None) -> None:
        self.options = options or VideoOptions()
        self.estimator = PoseEstimator(self.options.estimator, runtime_factory)
        self.tracker = PoseTracker(self.options.tracker)
        self.scheduler = DetectionScheduler(self.options)
        self.smoother = OnlineSmoother(self.options.one_euro)
        self.reset()

    def __enter__(self) -> VideoPoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.estimator.close()

    def reset(self) -> None:
        self.tracker.reset()
        self.scheduler.reset()
        self.smoother.reset()
        self.stats = VideoStats()
        self._last_time_s: float | None = None
        self._next_rois: dict[int, RotatedRect] = {}  # blazepose path: track id -> next ROI
        self._pending_rois: list[RotatedRect] = []
        self._pending_parts: list[PersonParts] | None = None
        self._previous_parts: dict[int, PreviousParts] = {}  # track id -> its parts' ROIs
        self._crops: dict[int, tuple[np.ndarray, float]] = {}  # track id -> last crop box, its time

    def __call__(
        self, image_bgr: np.ndarray, timestamp_s: float, timings_ms: MutableMapping[str, float] | None = None
    ) -> Poses:
        check_image(image_bgr)
        if self._last_time_s is not None and timestamp_s <= self._last_time_s:
            raise UsageError(
                f"frame timestamps must increase (got {timestamp_s} after {self._last_time_s}); "
                "call reset() before a new video"
            )
        self._last_time_s = timestamp_s
        clock = StageClock(timings_ms)
        image_rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        scene_cut = self._is_scene_cut(image_bgr)
        clock.lap("decode")
        if self.options.estimator.detector == "blazepose":
            poses = self._blazepose_frame(image_rgb, timestamp_s, scene_cut, clock)
        else:
            poses = self._movenet_frame(image_rgb, timestamp_s, scene_cut, clock)
        tracked = self.tracker.update(poses, timestamp_s, image_bgr)
        self.scheduler.lost_boxes = [t.box_xyxy for t in self.tracker.lost_tracks if t.lost_since_s == timestamp_s]
        if self.options.estimator.detector == "blazepose":
            self._remember_blazepose_rois()
        self._remember_parts()
        clock.lap("track")
        if self.options.smoothing == "online":
            tracked = self.smoother(tracked, timestamp_s, self.tracker.tracks)
            clock.lap("smooth")
        self.stats.frames += 1
        self.stats.people += len(tracked)
        return tracked

    def _is_scene_cut(self, image_bgr: np.ndarray) -> bool:
        cut = self.scheduler.is_scene_cut(image_bgr)
        if cut:
            self.stats.scene_cuts += 1
            logger.debug("scene cut at frame %d", self.stats.frames)
        return cut

    # --- MoveNet path ------------------------------------------------------------------------

    def _movenet_frame(self, image_rgb: np.ndarray, time_s: float, scene_cut: bool, clock: StageClock) -> Poses:
        image_size = (int(image_rgb.shape[0]), int(image_rgb.shape[1]))
        proposals = self._proposals(image_rgb, time_s, scene_cut, image_size)
        clock.lap("detect")
        read = self._read_keypoints(image_rgb, proposals, image_size)
        clock.lap("keypoints")
        keep = self._kept(image_rgb, proposals, read, time_s)
        if proposals.regions is not None and self.options.look_behind and len(keep):
            behind, passes = people_behind(
                self.estimator, image_rgb, proposals.regions, read.select(keep), len(read), self.options
            )
            self.stats.detector_runs += passes
            keep = np.concatenate([keep, np.arange(len(read), len(read) + len(behind))])
            read = PersonCandidates.concat([read, behind])
        keep = keep[np.argsort(-read.scores[keep], kind="stable")]  # people are reported best first
        people = read.select(keep)
        clock.lap("post")
        landmarks = self._landmarks(image_rgb, people, clock)
        propagated = proposals.num_propagated
        tracks_of_kept = [proposals.source_tracks[i] if i < propagated else None for i in keep]
        self._crops = {track_id: (read.boxes_xyxy[i], time_s) for i, track_id in enumerate(proposals.source_tracks)}
        return self._assemble(image_rgb, people, landmarks, tracks_of_kept, image_size, clock)

    def _proposals(
        self, image_rgb: np.ndarray, time_s: float, scene_cut: bool, image_size: tuple[int, int]
    ) -> Proposals:
        """Propagated ROIs, then the detector's new people where it looks this frame."""
        options = self.options
        proposals = Proposals()
        if options.propagate and not scene_cut:
            tracks = self.tracker.live_tracks + followed_lost_tracks(
                self.tracker, time_s, image_size, options.follow_lost_s
            )
            proposals = propagate(tracks, self._crops, time_s, options.roi_smoothing)
        regions = self.scheduler.regions(
            image_size, proposals.num_propagated, scene_cut, time_s, first_frame=self.stats.frames == 0
        )
        if regions is not None:
            candidates = self.estimator.detect_people(image_rgb, regions)
            self.stats.detector_runs += len(regions)
            self.stats.detector_frames += 1
            self.scheduler.last_detect_s = time_s
            proposals.add_detections(candidates, options.new_person_iou)
        proposals.regions = regions
        return proposals

    def _read_keypoints(
        self, image_rgb: np.ndarray, proposals: Proposals, image_size: tuple[int, int]
    ) -> PersonCandidates:
        """Every proposal read by the keypoint model (or the prior points when there is none).

        A person's score is their mean keypoint confidence over the points in the frame, the same
        for a propagated ROI (which has no detector score) and a new detection."""
        boxes_xyxy = proposals.boxes_xyxy()
        if self.estimator.has_keypoint_model:
            coco_xy, coco_conf = self.estimator.keypoints_in_boxes(
                image_rgb, boxes_xyxy, sizing_boxes_xyxy=proposals.sizing_boxes_xyxy()
            )
        else:
            coco_xy, coco_conf = stack_readings(proposals.prior_points)
        return PersonCandidates(boxes_xyxy, in_frame_scores(coco_xy, coco_conf, image_size), coco_xy, coco_conf)

    def _kept(self, image_rgb: np.ndarray, proposals: Proposals, read: PersonCandidates, time_s: float) -> np.ndarray:
        """Indices of the readings kept: admitted, pose NMS, then tracked people re-read."""
        options = self.options
        recently_lost = [
            t.box_xyxy for t in self.tracker.lost_tracks if time_s - t.time_s <= options.tracker.max_gap_for_motion_s
        ]
        is_admitted = admitted(proposals, read.boxes_xyxy, read.scores, recently_lost, options)
        keep = pose_nms_keep(
            proposals,
            read.boxes_xyxy,
            read.coco17_xy,
            read.coco17_confidence,
            read.scores,
            is_admitted,
            options.estimator.pose_nms_oks,
        )
        dropped = [int(i) for i in np.flatnonzero(is_admitted) if i < proposals.num_propagated and i not in keep]
        if dropped and options.estimator.reread_hidden:
            keep = reread_tracked(self.estimator, image_rgb, read, predicted_poses(proposals), keep, dropped, options)
        return keep

    def _landmarks(
        self, image_rgb: np.ndarray, people: PersonCandidates, clock: StageClock
    ) -> list[BlazePoseLandmarks] | None:
        if not self.estimator.has_landmark_model:
            return None
        landmarks = [
            self.estimator.landmarks_in_roi(
                image_rgb, roi_from_coco17(people.coco17_xy[i], people.coco17_confidence[i], people.boxes_xyxy[i])
            )
            for i in range(len(people))
        ]
        clock.lap("landmarks")
        return landmarks

    def _assemble(
        self,
        image_rgb: np.ndarray,
        people: PersonCandidates,
        landmarks: list[BlazePoseLandmarks] | None,
        source_tracks: list[int | None],
        image_size: tuple[int, int],
        clock: StageClock,
    ) -> Poses:
        """Hands and face (whole body), looked for where each tracked person's parts were on the
        last frame, then the frame's ``Poses``."""
        parts = None
        if landmarks is not None:
            previous = [self._previous_parts.get(t) if t is not None else None for t in source_tracks]
            parts = self.estimator.whole_body_parts(image_rgb, landmarks, previous)
            clock.lap("whole_body")
        self._pending_parts = parts
        poses = assemble_poses(
            people,
            people.coco17_xy,
            people.coco17_confidence,
            people.scores,
            landmarks,
            image_size,
            parts,
            self.options.estimator.face_mesh,
        )
        clock.lap("post")
        return poses

    def _remember_parts(self) -> None:
        # Each person's confident parts give next frame's part ROIs, under the track they joined.
        self._previous_parts = {}
        if self._pending_parts is None:
            return
        for track_id, parts in zip(self.tracker.last_track_ids, self._pending_parts, strict=True):
            self._previous_parts[int(track_id)] = PreviousParts(
                hand_left=_next_roi_if_sure(parts.hand_left),
                hand_right=_next_roi_if_sure(parts.hand_right),
                face=_next_roi_if_sure(parts.face),
            )

    # --- BlazePose path (MediaPipe-style single-person tracking) ------------------------------

    def _blazepose_frame(self, image_rgb: np.ndarray, time_s: float, scene_cut: bool, clock: StageClock) -> Poses:
        image_size = (int(image_rgb.shape[0]), int(image_rgb.shape[1]))
        rois: list[RotatedRect] = []
        source_tracks: list[int] = []
        if self.options.propagate and not scene_cut:
            source_tracks = [t.track_id for t in self.tracker.live_tracks if t.track_id in self._next_rois]
            rois = [self._next_rois[t] for t in source_tracks]
        propagated = len(rois)
        if self.scheduler.needs_detection(propagated, scene_cut, time_s):
            detected_rois, _ = self.estimator.detect_rois(image_rgb)
            self.stats.detector_runs += 1
            self.stats.detector_frames += 1
            self.scheduler.last_detect_s = time_s
            for roi in detected_rois:
                if not any(_roi_iou(roi, other) >= self.options.new_person_iou for other in rois[:propagated]):
                    rois.append(roi)
        clock.lap("detect")
        landmarks = [self.estimator.landmarks_in_roi(image_rgb, roi) for roi in rois]
        clock.lap("landmarks")
        n = len(landmarks)
        coco_xy, coco_conf = blazepose_to_coco17(landmarks)
        scores = np.array([lm.pose_score for lm in landmarks], np.float32).reshape(n) * coco_conf.mean(axis=1)
        boxes = np.array([_roi_box(roi) for roi in rois], np.float32).reshape(n, 4)
        sure = np.flatnonzero(scores >= self.options.min_track_score)
        keep = sure[
            pose_nms(coco_xy[sure], coco_conf[sure], boxes[sure], scores[sure], self.options.estimator.pose_nms_oks)
        ]
        people = PersonCandidates(boxes, scores, coco_xy, coco_conf).select(keep)
        self._pending_rois = [landmarks[i].next_roi for i in keep]
        tracks_of_kept = [source_tracks[i] if i < propagated else None for i in keep]
        return self._assemble(image_rgb, people, [landmarks[i] for i in keep], tracks_of_kept, image_size, clock)

    def _remember_blazepose_rois(self) -> None:
        # Each person's next ROI (from BlazePose's alignment points) goes to the track it joined.
        self._next_rois = {
            int(track_id): roi for track_id, roi in zip(self.tracker.last_track_ids, self._pending_rois, strict=True)
        }


def _next_roi_if_sure(part: HandLandmarks | FaceLandmarks | None, min_presence: float = 0.5) -> RotatedRect | None:
    return part.next_roi if part is not None and part.presence >= min_presence else None


def _roi_box(roi: RotatedRect) -> np.ndarray:
    half = max(roi.width, roi.height) / 2 / 1.25
    return np.array([roi.center_x - half, roi.center_y - half, roi.center_x + half, roi.center_y + half], np.float32)


def _roi_iou(a: RotatedRect, b: RotatedRect) -> float:
    return float(box_iou_xyxy(_roi_box(a)[None], _roi_box(b)[None])[0, 0])
