"""ROIs from tracks: where each tracked person's next crop goes, before the detector is asked.

Every live track's next crop comes from its own keypoints in the previous frame, moved by its
velocity (MediaPipe's pose tracking works the same way), so the per-person model runs without a
detector pass. A lost person's ROI keeps moving with them for ``follow_lost_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posekit.detect.movenet import PersonCandidates
from posekit.geometry import box_iou_xyxy, torso_axis
from posekit.schemas import Coco17Keypoint
from posekit.track.tracker import PoseTracker, Track

_LEGS = [Coco17Keypoint.LEFT_KNEE, Coco17Keypoint.RIGHT_KNEE, Coco17Keypoint.LEFT_ANKLE, Coco17Keypoint.RIGHT_ANKLE]


@dataclass
class Proposals:
    """The boxes the per-person model reads this frame: propagated ones first, then new detections.

    ``sizing_boxes`` are the size each person shows, which picks their keypoint model (a crop
    reaching down to hidden legs is larger than the person it reads); ``prior_points`` what is
    known of each box before the model runs (the track's predicted pose, or the detector's
    reading); ``source_tracks`` the track each propagated box follows; ``detector_scores`` the
    detector's score of each new detection; ``regions`` where the detector looked (``None``: it
    did not run).
    """

    boxes: list[np.ndarray] = field(default_factory=list)
    sizing_boxes: list[np.ndarray] = field(default_factory=list)
    prior_points: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    source_tracks: list[int] = field(default_factory=list)
    detector_scores: list[float] = field(default_factory=list)
    regions: np.ndarray | None = None

    @property
    def num_propagated(self) -> int:
        return len(self.source_tracks)

    def boxes_xyxy(self) -> np.ndarray:
        return np.array(self.boxes, np.float32).reshape(len(self.boxes), 4)

    def sizing_boxes_xyxy(self) -> np.ndarray:
        return np.array(self.sizing_boxes, np.float32).reshape(len(self.sizing_boxes), 4)

    def add_detections(self, candidates: PersonCandidates, new_person_iou: float) -> None:
        """The detected people no propagated box already covers."""
        covered = np.zeros(len(candidates), dtype=bool)
        if self.num_propagated and len(candidates):
            covered = box_iou_xyxy(candidates.boxes_xyxy, np.array(self.boxes)).max(axis=1) >= new_person_iou
        for c in np.flatnonzero(~covered):
            self.boxes.append(candidates.boxes_xyxy[c])
            self.sizing_boxes.append(candidates.boxes_xyxy[c])
            self.detector_scores.append(float(candidates.scores[c]))
            self.prior_points.append((candidates.coco17_xy[c], candidates.coco17_confidence[c]))


def propagate(
    tracks: list[Track], last_crops: dict[int, tuple[np.ndarray, float]], time_s: float, roi_smoothing: float
) -> Proposals:
    """Each track's crop for this frame, from its predicted keypoints (see :func:`keypoint_boxes`)."""
    proposals = Proposals()
    for track in tracks:
        xy, box = track.predicted(time_s)
        crop, shown = keypoint_boxes(xy, track.keypoints_confidence, box)
        previous = last_crops.get(track.track_id)
        if previous is not None:
            # Steady crops give steady keypoints (MediaPipe smooths its ROI points too): blend
            # with last frame's crop, moved by the track's velocity.
            last_crop, last_time_s = previous
            moved = last_crop + np.tile(track.velocity_xy * (time_s - last_time_s), 2)
            crop = (1 - roi_smoothing) * crop + roi_smoothing * moved
        proposals.boxes.append(crop.astype(np.float32))
        proposals.sizing_boxes.append(shown)
        proposals.prior_points.append((xy, track.keypoints_confidence))
        proposals.source_tracks.append(track.track_id)
    return proposals


def followed_lost_tracks(
    tracker: PoseTracker, time_s: float, image_size: tuple[int, int], follow_lost_s: float
) -> list[Track]:
    """Tracks lost less than ``follow_lost_s`` ago whose predicted box centre is in the image:
    their ROI keeps moving with them, so a person who walked behind someone is picked up the
    frame they reappear (while hidden, the ROI finds the person in front, who stays with their
    own track: see the pose NMS ranking in :mod:`posekit.video.selection`)."""
    height, width = image_size
    followed = []
    for track in tracker.lost_tracks:
        if time_s - track.time_s > follow_lost_s:
            continue
        box = track.predicted(time_s)[1]
        centre_x, centre_y = (box[:2] + box[2:]) / 2
        if 0 <= centre_x < width and 0 <= centre_y < height:
            followed.append(track)
    return followed


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
    detector box (chosen by measurement: docs/benchmarks.md#tracking).

    When no knee or ankle is sure (legs hidden behind someone, or lost in the background), the
    crop also reaches ``torso_reach`` torso lengths around the hips: a crop of the visible upper
    body alone would crop the next frame on the upper body only, and the person's crop would
    shrink frame by frame until their reading fails (docs/benchmarks.md#tracking). With fewer
    than 4 sure points both are ``fallback_xyxy``."""
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


def in_frame_scores(
    coco_xy: np.ndarray, coco_conf: np.ndarray, image_size: tuple[int, int], min_points: int = 5
) -> np.ndarray:
    """``(n,)`` each person's score: their mean keypoint confidence over the points inside the
    image when at least ``min_points`` are, else over all 17 (and never below that).

    A person walking out of the frame is still a person: over all 17 points, the ones beyond the
    edge pulled a half-visible person under ``min_track_score`` (docs/benchmarks.md#tracking)."""
    height, width = image_size
    x, y = coco_xy[..., 0], coco_xy[..., 1]
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    all_points = coco_conf.mean(axis=1)
    counts = inside.sum(axis=1)
    inside_mean = np.where(inside, coco_conf, 0.0).sum(axis=1) / np.maximum(counts, 1)
    return np.where(counts >= min_points, np.maximum(inside_mean, all_points), all_points).astype(np.float32)
