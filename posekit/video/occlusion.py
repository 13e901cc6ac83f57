"""People hidden behind others, in video: tracked people whose ROI read the person in front, and
the detector's second look with the people found painted over (``look_behind``).

The painting and the re-read itself are the image path's (:mod:`posekit.image.occlusion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from posekit.detect.movenet import PersonCandidates
from posekit.geometry import box_iou_xyxy
from posekit.image.estimator import PoseEstimator
from posekit.image.occlusion import paint_over_people, reread_hidden_people
from posekit.image.people import duplicates_kept
from posekit.video.options import VideoOptions
from posekit.video.propagation import in_frame_scores
from posekit.video.selection import admits_new, prediction_match


def reread_tracked(
    estimator: PoseEstimator,
    image_rgb: np.ndarray,
    read: PersonCandidates,
    predicted: tuple[np.ndarray, np.ndarray],
    keep: np.ndarray,
    dropped: Sequence[int],
    options: VideoOptions,
) -> np.ndarray:
    """``keep`` plus the tracked or lost people whose ROI read the person in front, read again
    with the kept people painted over; ``read``'s arrays take the new readings in place.

    A re-read is kept only if it is the person the ROI follows (it matches their predicted pose):
    any other reading would hand their id on. Tracked people too, not only lost ones: a person
    half behind another is otherwise dropped every other frame (docs/benchmarks.md#tracking).
    """
    predicted_xy, predicted_conf = predicted
    found = reread_hidden_people(
        image_rgb,
        partial(estimator.keypoints_in_boxes, people_in_image=len(read)),
        read.coco17_xy,
        read.coco17_confidence,
        read.boxes_xyxy,
        keep,
        dropped,
        options.estimator.pose_nms_oks,
    )
    for index, xy, conf in found:
        still_them = prediction_match(
            predicted_xy[index : index + 1],
            predicted_conf[index : index + 1],
            read.boxes_xyxy[index : index + 1],
            xy[None],
        )[0]
        if still_them >= 0.5 and conf.mean() >= options.min_track_score:
            read.coco17_xy[index], read.coco17_confidence[index], read.scores[index] = xy, conf, conf.mean()
            keep = np.append(keep, index)
    return keep


def people_behind(
    estimator: PoseEstimator,
    image_rgb: np.ndarray,
    regions: np.ndarray,
    kept: PersonCandidates,
    people_in_image: int,
    options: VideoOptions,
) -> tuple[PersonCandidates, int]:
    """New people the detector finds in ``regions`` once the ``kept`` people are painted over,
    and the number of detector passes it took.

    MoveNet MultiPose returns one box for two people who overlap, and someone mostly hidden
    behind another stays unfound for as long as they walk in step (docs/benchmarks.md#tracking).
    The cost is one detector pass per region that holds someone, on frames the detector runs.
    """
    holding = box_iou_xyxy(regions.astype(np.float32), kept.boxes_xyxy).max(axis=1) > 0
    none = kept.select(np.zeros(0, dtype=np.int64))
    if not holding.any():
        return none, 0
    painted = paint_over_people(image_rgb, kept.coco17_xy, kept.coco17_confidence, kept.boxes_xyxy)
    found = estimator.detect_people(painted, regions[holding])
    found = found.select(
        np.flatnonzero(box_iou_xyxy(found.boxes_xyxy, kept.boxes_xyxy).max(axis=1) < options.new_person_iou)
    )
    if len(found) == 0:
        return none, int(holding.sum())
    xy, conf = estimator.keypoints_in_boxes(painted, found.boxes_xyxy, people_in_image=people_in_image)
    scores = in_frame_scores(xy, conf, (int(image_rgb.shape[0]), int(image_rgb.shape[1])))
    new: list[int] = []
    for j in np.flatnonzero(admits_new(scores, found.scores, options)):
        others = np.array(new, dtype=np.int64)
        if not duplicates_kept(
            xy[j],
            np.concatenate([kept.coco17_xy, xy[others]]),
            np.concatenate([kept.coco17_confidence, conf[others]]),
            np.concatenate([kept.boxes_xyxy, found.boxes_xyxy[others]]),
            options.estimator.pose_nms_oks,
        ):
            new.append(int(j))
    return PersonCandidates(found.boxes_xyxy, scores, xy, conf).select(np.array(new, dtype=np.int64)), int(
        holding.sum()
    )
