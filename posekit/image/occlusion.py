"""People hidden behind others: paint the people found over, and read again (images and video)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from posekit.geometry import box_iou_xyxy
from posekit.image.people import duplicates_kept
from posekit.schemas import COCO17, Coco17Keypoint


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
