"""Who is kept this frame: the admission rules for tracked and new people, and pose NMS.

A tracked person keeps their track while their score stays above ``min_track_score``; a newly
detected person starts one by a stricter rule (hysteresis, as ByteTrack does). When two ROIs land
on one person (one walked in front of the other), the person stays with the track whose
predicted pose they match best; the other track is lost, not handed this person's id.
"""

from __future__ import annotations

import numpy as np

from posekit.geometry import box_iou_xyxy, pose_oks
from posekit.image.people import pose_nms
from posekit.landmarks.movenet_single import stack_readings
from posekit.schemas import COCO17
from posekit.track.tracker import MIN_KEYPOINT_CONFIDENCE
from posekit.video.options import VideoOptions
from posekit.video.propagation import Proposals


def admits_new(scores: np.ndarray, detector_scores: np.ndarray, options: VideoOptions) -> np.ndarray:
    """Whether newly detected people start a track: the detector is sure and the keypoints agree
    (detector score x keypoint confidence, as for images), or the keypoint model alone is sure
    (far-away people get low detector scores from a whole-image pass)."""
    sure_pair = scores * np.minimum(2.0 * detector_scores, 1.0) >= options.min_track_score
    return sure_pair | (scores >= options.new_track_score)


def admitted(
    proposals: Proposals,
    boxes_xyxy: np.ndarray,
    scores: np.ndarray,
    recently_lost_xyxy: list[np.ndarray],
    options: VideoOptions,
) -> np.ndarray:
    """``(n,)`` which proposals may be kept: propagated ones, and detections where a track was
    just lost (they continue it), by the keep threshold; other detections by :func:`admits_new`."""
    n, propagated = len(boxes_xyxy), proposals.num_propagated
    detector = np.concatenate([np.ones(propagated, np.float32), np.array(proposals.detector_scores, np.float32)])
    continues = np.zeros(n, dtype=bool)
    if recently_lost_xyxy and n > propagated:
        overlap = box_iou_xyxy(boxes_xyxy[propagated:], np.array(recently_lost_xyxy, np.float32)).max(axis=1)
        continues[propagated:] = overlap >= options.new_person_iou
    return np.where(
        (np.arange(n) < propagated) | continues,
        scores >= options.min_track_score,
        admits_new(scores, detector, options),
    )


def predicted_poses(proposals: Proposals) -> tuple[np.ndarray, np.ndarray]:
    """The poses the propagated tracks predicted, ``xy (p, 17, 2)`` and ``confidence (p, 17)``."""
    return stack_readings(proposals.prior_points[: proposals.num_propagated])


def pose_nms_keep(
    proposals: Proposals,
    boxes_xyxy: np.ndarray,
    coco_xy: np.ndarray,
    coco_conf: np.ndarray,
    scores: np.ndarray,
    is_admitted: np.ndarray,
    oks_threshold: float,
) -> np.ndarray:
    """Indices kept by pose NMS among the admitted only (a rejected box never suppresses a kept
    person); tracked people rank before new detections, by how well they match their prediction."""
    propagated = proposals.num_propagated
    rank = scores.astype(np.float64)
    predicted_xy, predicted_conf = predicted_poses(proposals)
    rank[:propagated] = 1.0 + prediction_match(
        predicted_xy, predicted_conf, boxes_xyxy[:propagated], coco_xy[:propagated]
    )
    candidates = np.flatnonzero(is_admitted)
    return candidates[
        pose_nms(coco_xy[candidates], coco_conf[candidates], boxes_xyxy[candidates], rank[candidates], oks_threshold)
    ]


def prediction_match(
    predicted_xy: np.ndarray, predicted_conf: np.ndarray, boxes_xyxy: np.ndarray, coco_xy: np.ndarray
) -> np.ndarray:
    """``(n,)`` OKS of each reading ``coco_xy[i]`` against the pose its track predicted,
    ``predicted_xy[i]`` (the track's ROI box sets the scale; its confident points count)."""
    if len(predicted_xy) == 0:
        return np.zeros(0)
    oks = pose_oks(predicted_xy, predicted_conf, boxes_xyxy, coco_xy, COCO17.oks_sigmas(), MIN_KEYPOINT_CONFIDENCE)
    return np.diag(oks)
