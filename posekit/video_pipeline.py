"""The video pipeline: detect when needed, follow each person's ROI, track ids, smooth.

Per frame:

1. **ROIs from the last frame.** Every live track's next crop comes from its own keypoints in
   the previous frame, moved by its velocity (MediaPipe's pose tracking works the same way), so
   the per-person model runs without a detector pass.
2. **Detect only when needed**: on the first frame, when there are no live tracks, when a track
   was lost on the previous frame, every ``redetect_interval_s`` seconds (for people walking in),
   and on a scene cut. Detected people already covered by a propagated ROI are skipped.
3. **Per-person model** on each ROI: MoveNet SinglePose (COCO-17), then BlazePose (33 landmarks,
   world coordinates) when a landmark model is chosen. With ``detector="blazepose"`` the pipeline
   is MediaPipe's single-person tracking: BlazePose only, its next ROI from its alignment points.
4. **Pose NMS** merges two ROIs that landed on one person, keeping the reading of the track
   whose predicted pose it matches best; people scoring below ``min_track_score`` are dropped
   (their track is lost, which triggers a detector pass). A lost person's ROI keeps moving with
   them for ``follow_lost_s``. A tracked or followed ROI that read the person in front is read
   again with the kept people painted over (``reread_hidden``). A crop whose person shows no
   legs still reaches a torso length below the hips (:func:`keypoint_boxes`).
5. **Tracker** (:class:`~posekit.track.tracker.PoseTracker`) assigns stable ids.
6. **Online smoothing** (One Euro, per track) when ``smoothing="online"``; offline smoothing of a
   whole file is :func:`smooth_sequence`.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

import cv2
import numpy as np

from posekit.detect.movenet import PersonCandidates, tile_grid
from posekit.errors import UsageError
from posekit.eval.oks import pose_oks
from posekit.geometry import RotatedRect, box_iou_xyxy
from posekit.landmarks.blazepose import BlazePoseLandmarks
from posekit.landmarks.face import FaceLandmarks
from posekit.landmarks.hand import HandLandmarks
from posekit.landmarks.movenet_single import stack_readings
from posekit.landmarks.wholebody import PersonParts, PreviousParts
from posekit.pipeline import (
    EstimatorOptions,
    PoseEstimator,
    RuntimeFactory,
    StageClock,
    assemble_poses,
    blazepose_to_coco17,
    check_image,
    duplicates_kept,
    paint_over_people,
    pose_nms,
    reread_hidden_people,
    roi_from_coco17,
    torso_axis,
)
from posekit.results import Keypoints, Poses
from posekit.schemas import COCO17, Coco17Keypoint
from posekit.track.smoothing import OneEuroFilter, OneEuroOptions, RtsOptions, rts_smooth
from posekit.track.tracker import MIN_KEYPOINT_CONFIDENCE, PoseTracker, Track, TrackerOptions

logger = logging.getLogger(__name__)

_LEGS = [Coco17Keypoint.LEFT_KNEE, Coco17Keypoint.RIGHT_KNEE, Coco17Keypoint.LEFT_ANKLE, Coco17Keypoint.RIGHT_ANKLE]

Smoothing = Literal["online", "offline", "none"]


def _video_estimator_defaults() -> EstimatorOptions:
    # Lightning for far people, Thunder for near ones, no BlazePose: real time with several people
    # on 2 cores; see the README table.
    # No palm search for unsure hands: in video, a hand found once is followed by its own ROI.
    return EstimatorOptions(keypoint_model="auto", landmark_model="none", hand_search=False)


@dataclass(frozen=True)
class VideoOptions:
    """Everything that configures a :class:`VideoPoseEstimator`.

    * ``estimator``: the models (see :class:`~posekit.pipeline.EstimatorOptions`); the video
      default is MoveNet Lightning per person (Thunder for people larger than its input) and
      no BlazePose, for speed.
    * ``propagate``: follow each person's ROI from the last frame (False: detect every frame).
    * ``redetect_interval_s``: seconds between detector passes looking for new people (0: only
      when a track is lost or nobody is tracked); in seconds, so the detector's share of the
      time does not grow with the frame rate. Each pass looks at one region in turn: the
      whole image, then tiles of at least ``min_tile_px`` (half the longer side) for small people.
    * ``scene_cut_threshold``: mean absolute difference of downscaled grey frames (0..255)
      above which the frame counts as a cut: ROIs are not propagated across it.
    * ``min_track_score``: a propagated person whose mean keypoint confidence falls below this
      has left (or the ROI slid off them); ``new_track_score``: what a newly detected person
      needs to be reported.
    * ``roi_smoothing``: share of last frame's crop (moved by the track's velocity) blended into
      a propagated crop; 0 uses this frame's keypoints alone (measured: 0.3 adds 0.005-0.015 AP
      on the synthetic sequences of ``bench/bench_video.py``, 0.5 loses on one).
    * ``follow_lost_s``: how long a lost person's ROI keeps moving with their last velocity (one
      keypoint-model call per frame each), so someone who walked behind another person is
      found again the frame they reappear; 0: lost people wait for the detector.
    * ``look_behind``: on frames the detector runs, run it once more where it looked with the
      people found painted over, so someone mostly hidden behind another (walking in step with
      them, or in a group) is found: one more detector pass per region that holds someone.
    * ``smoothing``: ``online`` (One Euro, here), ``offline`` (call :func:`smooth_sequence` on
      the whole result) or ``none``.
    """

    estimator: EstimatorOptions = field(default_factory=_video_estimator_defaults)
    propagate: bool = True
    redetect_interval_s: float = 0.5
    min_tile_px: int = 256
    scene_cut_threshold: float = 40.0
    min_track_score: float = 0.25
    new_track_score: float = 0.4
    new_person_iou: float = 0.3
    roi_smoothing: float = 0.3
    follow_lost_s: float = 0.5
    look_behind: bool = True
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    smoothing: Smoothing = "online"
    one_euro: OneEuroOptions = field(default_factory=OneEuroOptions)
    rts: RtsOptions = field(default_factory=RtsOptions)

    def __post_init__(self) -> None:
        if self.smoothing not in ("online", "offline", "none"):
            raise UsageError(f"smoothing must be online, offline or none; got {self.smoothing!r}")
        if self.redetect_interval_s < 0:
            raise UsageError(f"redetect_interval_s must be >= 0, got {self.redetect_interval_s}")
        if self.follow_lost_s < 0:
            raise UsageError(f"follow_lost_s must be >= 0, got {self.follow_lost_s}")
        if self.estimator.detector == "movenet" and self.estimator.keypoint_model == "none" and self.propagate:
            raise UsageError("ROI propagation needs a per-person model: keypoint_model thunder, lightning or auto")
        if self.estimator.landmark_model == "auto":
            # Per frame, BlazePose heavy (the image default with whole_body) costs ~30 ms more per
            # person than full: video takes full unless asked.
            object.__setattr__(self, "estimator", replace(self.estimator, landmark_model="full"))


@dataclass
class VideoStats:
    frames: int = 0
    detector_frames: int = 0  # frames on which the detector ran
    detector_runs: int = 0  # detector passes (a frame can scan several regions)
    people: int = 0
    scene_cuts: int = 0


def keypoint_boxes(
    xy: np.ndarray,
    confidence: np.ndarray,
    fallback_xyxy: np.ndarray,
    min_conf: float = 0.3,
    torso_reach: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The next crop for a person and the box they show, both from their confident points.

    The box shown is the points' own (plus 2 px); it is what picks the keypoint model. The
    keypoint model's square crop is 1.25x its longer side, which leaves room for the head top
    and feet the points do not reach; about MoveNet's own tracking crop, and tighter than a
    detector box (measured: +0.02-0.03 AP on the synthetic sequences of ``bench/bench_video.py``
    over 10% padding).

    When no knee or ankle is sure (legs hidden behind someone, or lost in the background), the
    crop also reaches ``torso_reach`` torso lengths around the hips: a crop of the visible upper
    body alone would crop the next frame on the upper body only, and the person's crop would
    shrink frame by frame until their reading fails (measured on the walkers of
    ``bench/bench_video.py``: MOTA 0.843 -> 0.866, IDF1 0.841 -> 0.877; 0.8 and 1.2 about as
    good). With fewer than 4 sure points both are ``fallback_xyxy``."""
    sure = (confidence >= min_conf) & np.isfinite(xy).all(axis=1)
    seen = xy[sure]
    if len(seen) < 4:
        fallback = np.asarray(fallback_xyxy, dtype=np.float32)
        return fallback, fallback
    low, high = seen.min(axis=0), seen.max(axis=0)
    pad = 2.0
    shown = np.concatenate([low - pad, high + pad]).astype(np.float32)
    torso = torso_axis(xy, sure)
    if torso is None or sure[_LEGS].any():
        return shown, shown
    mid_hip, up = torso
    reach = torso_reach * float(np.linalg.norm(up))
    low = np.minimum(low, mid_hip - reach)
    high = np.maximum(high, mid_hip + reach)
    return np.concatenate([low - pad, high + pad]).astype(np.float32), shown


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
        self.reset()

    def __enter__(self) -> VideoPoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.estimator.close()

    def reset(self) -> None:
        self.tracker.reset()
        self.stats = VideoStats()
        self._filters: dict[tuple[int, str], OneEuroFilter] = {}
        self._last_detect_s = -np.inf
        self._last_time_s: float | None = None
        self._lost_boxes: list[np.ndarray] = []
        self._regions: np.ndarray | None = None
        self._tile_px = 0
        self._scan_cursor = 0
        self._previous_thumb: np.ndarray | None = None
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
        self._lost_boxes = [t.box_xyxy for t in self.tracker.lost_tracks if t.lost_since_s == timestamp_s]
        if self.options.estimator.detector == "blazepose":
            self._remember_blazepose_rois()
        self._remember_parts()
        clock.lap("track")
        if self.options.smoothing == "online":
            tracked = self._smooth_online(tracked, timestamp_s)
            clock.lap("smooth")
        self.stats.frames += 1
        self.stats.people += len(tracked)
        return tracked

    # --- Deciding when to detect ----------------------------------------------------------

    def _is_scene_cut(self, image_bgr: np.ndarray) -> bool:
        thumb = cv2.resize(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY), (32, 24), interpolation=cv2.INTER_AREA)
        previous, self._previous_thumb = self._previous_thumb, thumb
        if previous is None:
            return False
        cut = float(np.mean(cv2.absdiff(thumb, previous))) > self.options.scene_cut_threshold
        if cut:
            self.stats.scene_cuts += 1
            logger.debug("scene cut at frame %d", self.stats.frames)
        return cut

    def _needs_detection(self, num_propagated: int, scene_cut: bool, time_s: float) -> bool:
        interval_s = self.options.redetect_interval_s
        return (
            not self.options.propagate
            or num_propagated == 0
            or scene_cut
            or bool(self._lost_boxes)
            # A millisecond of slack: container timestamps such as 0.1 * k are not exact.
            or (interval_s > 0 and time_s - self._last_detect_s >= interval_s - 1e-3)
        )

    def _detection_regions(
        self, image_size: tuple[int, int], num_propagated: int, scene_cut: bool, time_s: float
    ) -> np.ndarray | None:
        """Where the detector looks this frame (``None``: nowhere).

        The whole image and a grid of tiles (for people too small for a whole-image pass) are
        scanned in turn, one region per detector pass, so the cost is spread over frames; all of
        them at once on the first frame and after a scene cut. A track lost on the last frame
        gets a look around where it was.
        """
        height, width = image_size
        if self._regions is None:
            self._tile_px = min(max(self.options.min_tile_px, max(height, width) // 2), height, width)
            whole = np.array([0, 0, width, height], dtype=np.int64)
            tiles: list[np.ndarray] = (
                list(tile_grid(width, height, self._tile_px)) if self._tile_px < max(height, width) else []
            )
            # The whole image every other pass (people walking in close up), tiles in between.
            self._regions = np.array([r for tile in tiles for r in (whole, tile)] or [whole], dtype=np.int64)
        if self.stats.frames == 0 or scene_cut or not self.options.propagate:
            return np.unique(self._regions, axis=0)
        regions = [self._lost_region(box, image_size) for box in self._lost_boxes]
        if self._needs_detection(num_propagated, scene_cut, time_s):
            regions.append(self._regions[self._scan_cursor % len(self._regions)])
            self._scan_cursor += 1
        return np.array(regions, dtype=np.int64).reshape(-1, 4) if regions else None

    def _followed_lost_tracks(self, time_s: float, image_size: tuple[int, int]) -> list[Track]:
        """Tracks lost less than ``follow_lost_s`` ago whose predicted box centre is in the image:
        their ROI keeps moving with them, so a person who walked behind someone is picked up the
        frame they reappear (while hidden, the ROI finds the person in front, who stays with
        their own track: see the pose NMS ranking)."""
        height, width = image_size
        followed = []
        for track in self.tracker.lost_tracks:
            if time_s - track.time_s > self.options.follow_lost_s:
                continue
            box = track.predicted(time_s)[1]
            centre_x, centre_y = (box[:2] + box[2:]) / 2
            if 0 <= centre_x < width and 0 <= centre_y < height:
                followed.append(track)
        return followed

    def _lost_region(self, box_xyxy: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
        """A square around where a track was lost: twice its size, at least a scan tile."""
        height, width = image_size
        side = int(min(max(2.0 * float(np.max(box_xyxy[2:] - box_xyxy[:2])), self._tile_px), width, height))
        centre = (box_xyxy[:2] + box_xyxy[2:]) / 2
        x0 = int(np.clip(centre[0] - side / 2, 0, width - side))
        y0 = int(np.clip(centre[1] - side / 2, 0, height - side))
        return np.array([x0, y0, x0 + side, y0 + side], dtype=np.int64)

    # --- MoveNet path ------------------------------------------------------------------------

    def _movenet_frame(self, image_rgb: np.ndarray, time_s: float, scene_cut: bool, clock: StageClock) -> Poses:
        options = self.options
        image_size = (int(image_rgb.shape[0]), int(image_rgb.shape[1]))
        boxes: list[np.ndarray] = []
        detector_scores: list[float] = []  # of the boxes the detector proposed this frame
        # What is known of each box before the keypoint model runs: the track's predicted pose for a
        # propagated box, the detector's reading for a new one.
        prior_points: list[tuple[np.ndarray, np.ndarray]] = []
        source_tracks: list[int] = []  # the track each propagated box follows
        # The size each person shows, which picks their keypoint model: a crop reaching down to
        # hidden legs is larger than the person it reads.
        sizing_boxes: list[np.ndarray] = []
        if options.propagate and not scene_cut:
            for track in self.tracker.live_tracks + self._followed_lost_tracks(time_s, image_size):
                xy, box = track.predicted(time_s)
                crop, shown = keypoint_boxes(xy, track.keypoints_confidence, box)
                sizing_boxes.append(shown)
                previous = self._crops.get(track.track_id)
                if previous is not None:
                    # Steady crops give steady keypoints (MediaPipe smooths its ROI points too):
                    # blend with last frame's crop, moved by the track's velocity.
                    last_crop, last_time_s = previous
                    moved = last_crop + np.tile(track.velocity_xy * (time_s - last_time_s), 2)
                    crop = (1 - options.roi_smoothing) * crop + options.roi_smoothing * moved
                boxes.append(crop.astype(np.float32))
                prior_points.append((xy, track.keypoints_confidence))
                source_tracks.append(track.track_id)
        propagated = len(boxes)
        regions = self._detection_regions(image_size, propagated, scene_cut, time_s)
        if regions is not None:
            candidates = self.estimator.detect_people(image_rgb, regions)
            self.stats.detector_runs += len(regions)
            self.stats.detector_frames += 1
            self._last_detect_s = time_s
            covered = np.zeros(len(candidates), dtype=bool)
            if propagated and len(candidates):
                covered = box_iou_xyxy(candidates.boxes_xyxy, np.array(boxes)).max(axis=1) >= options.new_person_iou
            for c in np.flatnonzero(~covered):
                boxes.append(candidates.boxes_xyxy[c])
                sizing_boxes.append(candidates.boxes_xyxy[c])
                detector_scores.append(float(candidates.scores[c]))
                prior_points.append((candidates.coco17_xy[c], candidates.coco17_confidence[c]))
        clock.lap("detect")
        n = len(boxes)
        boxes_xyxy = np.array(boxes, np.float32).reshape(n, 4)
        if self.estimator.has_keypoint_model:
            coco_xy, coco_conf = self.estimator.keypoints_in_boxes(
                image_rgb, boxes_xyxy, sizing_boxes_xyxy=np.array(sizing_boxes, np.float32).reshape(n, 4)
            )
        else:
            coco_xy, coco_conf = stack_readings(prior_points)
        clock.lap("keypoints")
        # A person's score is their mean keypoint confidence (over the points in the frame), the
        # same for a propagated ROI (which has no detector score) and a new detection.
        scores = in_frame_scores(coco_xy, coco_conf, image_size)
        # A newly detected person starts a track by a stricter rule (`_admits_new`) than a tracked
        # person needs to keep theirs (hysteresis, as ByteTrack does).
        detector = np.concatenate([np.ones(propagated, np.float32), np.array(detector_scores, np.float32)])
        # A detection where a track was just lost continues that track: the keep threshold applies.
        recently_lost = [
            t.box_xyxy for t in self.tracker.lost_tracks if time_s - t.time_s <= options.tracker.max_gap_for_motion_s
        ]
        continues = np.zeros(n, dtype=bool)
        if recently_lost and n > propagated:
            overlap = box_iou_xyxy(boxes_xyxy[propagated:], np.array(recently_lost, np.float32)).max(axis=1)
            continues[propagated:] = overlap >= options.new_person_iou
        admitted = np.where(
            (np.arange(n) < propagated) | continues,
            scores >= options.min_track_score,
            self._admits_new(scores, detector),
        )
        # Pose NMS among the admitted only, so a rejected box never suppresses a kept person. When
        # two tracks' ROIs land on one person (one walked in front of the other), the person stays
        # with the track whose predicted pose they match best; the other track is lost, not
        # handed this person's id. Tracked people rank before new detections.
        rank = scores.astype(np.float64)
        predicted_xy, predicted_conf = stack_readings(prior_points[:propagated])
        rank[:propagated] = 1.0 + _prediction_match(
            predicted_xy, predicted_conf, boxes_xyxy[:propagated], coco_xy[:propagated]
        )
        candidates_kept = np.flatnonzero(admitted)
        keep = candidates_kept[
            pose_nms(
                coco_xy[candidates_kept],
                coco_conf[candidates_kept],
                boxes_xyxy[candidates_kept],
                rank[candidates_kept],
                options.estimator.pose_nms_oks,
            )
        ]
        dropped = [int(i) for i in candidates_kept if i < propagated and i not in keep]
        if dropped and options.estimator.reread_hidden:
            # A tracked or lost person's ROI read the person in front of them: read it again with
            # the kept people painted over (as images do), and keep the reading only if it is the
            # person the ROI follows (it matches their predicted pose); any other reading would
            # hand their id on. Tracked people too (measured on 18 walker sequences: MOTA
            # +0.016, AP +0.011): a person half behind another is otherwise dropped every other
            # frame, read as the one in front while tracked and again once lost.
            found = reread_hidden_people(
                image_rgb,
                partial(self.estimator.keypoints_in_boxes, people_in_image=n),
                coco_xy,
                coco_conf,
                boxes_xyxy,
                keep,
                dropped,
                options.estimator.pose_nms_oks,
            )
            for index, xy, conf in found:
                still_them = _prediction_match(
                    predicted_xy[index : index + 1],
                    predicted_conf[index : index + 1],
                    boxes_xyxy[index : index + 1],
                    xy[None],
                )[0]
                if still_them >= 0.5 and conf.mean() >= options.min_track_score:
                    coco_xy[index], coco_conf[index], scores[index] = xy, conf, conf.mean()
                    keep = np.append(keep, index)
        read = PersonCandidates(boxes_xyxy, scores, coco_xy, coco_conf)
        if regions is not None and options.look_behind and len(keep):
            behind = self._people_behind(image_rgb, regions, read.select(keep), n)
            keep = np.concatenate([keep, np.arange(len(read), len(read) + len(behind))])
            read = PersonCandidates.concat([read, behind])
        keep = keep[np.argsort(-read.scores[keep], kind="stable")]  # people are reported best first
        people = read.select(keep)
        landmarks: list[BlazePoseLandmarks] | None = None
        clock.lap("post")
        if self.estimator.has_landmark_model:
            landmarks = [
                self.estimator.landmarks_in_roi(
                    image_rgb, roi_from_coco17(people.coco17_xy[i], people.coco17_confidence[i], people.boxes_xyxy[i])
                )
                for i in range(len(people))
            ]
            clock.lap("landmarks")
        tracks_of_kept = [source_tracks[i] if i < propagated else None for i in keep]
        self._crops = {track_id: (boxes_xyxy[i], time_s) for i, track_id in enumerate(source_tracks)}
        return self._assemble(image_rgb, people, landmarks, tracks_of_kept, image_size, clock)

    def _admits_new(self, scores: np.ndarray, detector_scores: np.ndarray) -> np.ndarray:
        """Whether newly detected people start a track: the detector is sure and the keypoints
        agree (detector score x keypoint confidence, as for images), or the keypoint model alone
        is sure (far-away people get low detector scores from a whole-image pass)."""
        options = self.options
        sure_pair = scores * np.minimum(2.0 * detector_scores, 1.0) >= options.min_track_score
        return sure_pair | (scores >= options.new_track_score)

    def _people_behind(
        self, image_rgb: np.ndarray, regions: np.ndarray, kept: PersonCandidates, people_in_image: int
    ) -> PersonCandidates:
        """New people the detector finds in ``regions`` once the ``kept`` people are painted over.

        MoveNet MultiPose returns one box for two people who overlap, and someone mostly hidden
        behind another stays unfound for as long as they walk in step. Measured on 30 walker
        sequences of ``bench/bench_video.py``: MOTA 0.759 -> 0.789, AP 0.575 -> 0.597, and 3.5 %
        more people per frame on vtest, each a real person when looked at; the cost is one
        detector pass per region that holds someone, on frames the detector runs."""
        options = self.options
        holding = box_iou_xyxy(regions.astype(np.float32), kept.boxes_xyxy).max(axis=1) > 0
        none = kept.select(np.zeros(0, dtype=np.int64))
        if not holding.any():
            return none
        painted = paint_over_people(image_rgb, kept.coco17_xy, kept.coco17_confidence, kept.boxes_xyxy)
        found = self.estimator.detect_people(painted, regions[holding])
        self.stats.detector_runs += int(holding.sum())
        found = found.select(
            np.flatnonzero(box_iou_xyxy(found.boxes_xyxy, kept.boxes_xyxy).max(axis=1) < options.new_person_iou)
        )
        if len(found) == 0:
            return none
        xy, conf = self.estimator.keypoints_in_boxes(painted, found.boxes_xyxy, people_in_image=people_in_image)
        scores = in_frame_scores(xy, conf, (int(image_rgb.shape[0]), int(image_rgb.shape[1])))
        new: list[int] = []
        for j in np.flatnonzero(self._admits_new(scores, found.scores)):
            others = np.array(new, dtype=np.int64)
            if not duplicates_kept(
                xy[j],
                np.concatenate([kept.coco17_xy, xy[others]]),
                np.concatenate([kept.coco17_confidence, conf[others]]),
                np.concatenate([kept.boxes_xyxy, found.boxes_xyxy[others]]),
                options.estimator.pose_nms_oks,
            ):
                new.append(int(j))
        return PersonCandidates(found.boxes_xyxy, scores, xy, conf).select(np.array(new, dtype=np.int64))

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
        if self._needs_detection(propagated, scene_cut, time_s):
            detected_rois, _ = self.estimator.detect_rois(image_rgb)
            self.stats.detector_runs += 1
            self.stats.detector_frames += 1
            self._last_detect_s = time_s
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

    # --- Smoothing ---------------------------------------------------------------------------

    def _smooth_online(self, poses: Poses, time_s: float) -> Poses:
        if poses.track_id is None or len(poses) == 0:
            return poses
        heights = poses.bbox_xywh[:, 3]
        velocity = {t.track_id: t.velocity_xy for t in self.tracker.tracks}  # of every track still kept
        body_speed = [
            float(np.linalg.norm(velocity.get(int(t), np.zeros(2)))) / max(float(h), 1.0)
            for t, h in zip(poses.track_id, heights, strict=True)
        ]
        smoothed: dict[str, Keypoints] = {}
        for name, points in poses.keypoints.items():
            xy = points.xy.copy()
            for person, track_id in enumerate(poses.track_id):
                key = (int(track_id), name)
                one_euro = self._filters.setdefault(key, OneEuroFilter(self.options.one_euro))
                xy[person] = one_euro(
                    points.xy[person], points.confidence[person], time_s, float(heights[person]), body_speed[person]
                )
            smoothed[name] = replace(points, xy=xy)
        self._filters = {key: f for key, f in self._filters.items() if key[0] in velocity}
        return replace(poses, keypoints=smoothed)


def in_frame_scores(
    coco_xy: np.ndarray, coco_conf: np.ndarray, image_size: tuple[int, int], min_points: int = 5
) -> np.ndarray:
    """``(n,)`` each person's score: their mean keypoint confidence over the points inside the
    image when at least ``min_points`` are, else over all 17 (and never below that).

    A person walking out of the frame is still a person: over all 17 points, the ones beyond the
    edge pulled a half-visible person under ``min_track_score`` (measured on the walkers of
    ``bench/bench_video.py``: MOTA 0.902 -> 0.917, keypoint AP 0.657 -> 0.668)."""
    height, width = image_size
    x, y = coco_xy[..., 0], coco_xy[..., 1]
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    all_points = coco_conf.mean(axis=1)
    counts = inside.sum(axis=1)
    inside_mean = np.where(inside, coco_conf, 0.0).sum(axis=1) / np.maximum(counts, 1)
    return np.where(counts >= min_points, np.maximum(inside_mean, all_points), all_points).astype(np.float32)


def _prediction_match(
    predicted_xy: np.ndarray, predicted_conf: np.ndarray, boxes_xyxy: np.ndarray, coco_xy: np.ndarray
) -> np.ndarray:
    """``(n,)`` OKS of each reading ``coco_xy[i]`` against the pose its track predicted,
    ``predicted_xy[i]`` (the track's ROI box sets the scale; its confident points count)."""
    if len(predicted_xy) == 0:
        return np.zeros(0)
    oks = pose_oks(predicted_xy, predicted_conf, boxes_xyxy, coco_xy, COCO17.oks_sigmas(), MIN_KEYPOINT_CONFIDENCE)
    return np.diag(oks)


def _next_roi_if_sure(part: HandLandmarks | FaceLandmarks | None, min_presence: float = 0.5) -> RotatedRect | None:
    return part.next_roi if part is not None and part.presence >= min_presence else None


def _roi_box(roi: RotatedRect) -> np.ndarray:
    half = max(roi.width, roi.height) / 2 / 1.25
    return np.array([roi.center_x - half, roi.center_y - half, roi.center_x + half, roi.center_y + half], np.float32)


def _roi_iou(a: RotatedRect, b: RotatedRect) -> float:
    return float(box_iou_xyxy(_roi_box(a)[None], _roi_box(b)[None])[0, 0])


def smooth_sequence(frames: Sequence[tuple[float, Poses]], options: RtsOptions | None = None) -> list[Poses]:
    """Zero-lag offline smoothing of a whole tracked sequence (``(timestamp_s, poses)`` per frame).

    Each track's points are smoothed with :func:`~posekit.track.smoothing.rts_smooth` over the
    frames it appears in; untracked people are left as they are.
    """
    track_frames: dict[int, list[tuple[int, int]]] = {}
    for frame_index, (_, poses) in enumerate(frames):
        if poses.track_id is None:
            continue
        for person, track_id in enumerate(poses.track_id):
            track_frames.setdefault(int(track_id), []).append((frame_index, person))
    new_xy: dict[tuple[int, str], np.ndarray] = {}
    for positions in track_frames.values():
        times = np.array([frames[f][0] for f, _ in positions])
        heights = np.array([frames[f][1].bbox_xywh[p, 3] for f, p in positions])
        for name in frames[positions[0][0]][1].keypoints:
            xy = np.array([frames[f][1].keypoints[name].xy[p] for f, p in positions])
            confidence = np.array([frames[f][1].keypoints[name].confidence[p] for f, p in positions])
            smoothed = rts_smooth(times, xy, confidence, heights, options)
            for row, (f, p) in enumerate(positions):
                new_xy.setdefault((f, name), frames[f][1].keypoints[name].xy.copy())[p] = smoothed[row]
    out = []
    for frame_index, (_, poses) in enumerate(frames):
        keypoints = {
            name: replace(points, xy=new_xy.get((frame_index, name), points.xy))
            for name, points in poses.keypoints.items()
        }
        out.append(replace(poses, keypoints=keypoints))
    return out
