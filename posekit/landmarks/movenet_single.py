"""MoveNet SinglePose (Thunder 256 / Lightning 192) as a per-person COCO-17 keypoint model.

Run on a square crop around each detected person, it places COCO-17 points more precisely than
the multi-person detector, in COCO's own labelling convention (which BlazePose's hips and
shoulders do not follow), so it is what posekit's COCO-17 output comes from. The model takes
int32 RGB 0..255 and returns ``[1, 1, 17, 3]``: (y, x, score) normalised to the crop.
"""

from __future__ import annotations

import numpy as np

from posekit.geometry import RotatedRect, apply_affine, crop_rect
from posekit.runtime import Runtime

# How much larger than the person box the crop is: MoveNet expects some context around the body.
CROP_EXPAND = 1.25


def square_around_box(box_xyxy: np.ndarray, expand: float = CROP_EXPAND) -> RotatedRect:
    center_x, center_y = (box_xyxy[0] + box_xyxy[2]) / 2, (box_xyxy[1] + box_xyxy[3]) / 2
    side = max(box_xyxy[2] - box_xyxy[0], box_xyxy[3] - box_xyxy[1], 1.0) * expand
    return RotatedRect(float(center_x), float(center_y), float(side), float(side), 0.0)


class MoveNetSinglePose:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.input_size = int(runtime.input_shapes[0][1])

    def __call__(self, image_rgb: np.ndarray, box_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 ``xy (17, 2)`` image pixels and ``confidence (17,)`` for the person in the box."""
        crop, crop_to_image = crop_rect(image_rgb, square_around_box(box_xyxy), self.input_size)
        (raw,) = self._runtime.run([crop[None].astype(np.int32)])
        keypoints_yx = raw.reshape(17, 3)
        xy = apply_affine(keypoints_yx[:, [1, 0]] * self.input_size, crop_to_image)
        return xy.astype(np.float32), keypoints_yx[:, 2].astype(np.float32)

    def in_boxes(self, image_rgb: np.ndarray, boxes_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 ``xy (n, 17, 2)`` and ``confidence (n, 17)`` for the person in each box."""
        return stack_readings([self(image_rgb, box) for box in np.asarray(boxes_xyxy).reshape(-1, 4)])


def stack_readings(readings: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """One ``(xy (17, 2), confidence (17,))`` reading per person -> ``xy (n, 17, 2)``, ``confidence (n, 17)``."""
    xy = np.array([r[0] for r in readings], np.float32).reshape(len(readings), 17, 2)
    confidence = np.array([r[1] for r in readings], np.float32).reshape(len(readings), 17)
    return xy, confidence


class SizeSwitchedSinglePose:
    """Lightning for people whose crop fits its 192 px input, Thunder for larger ones, at most
    ``max_large`` of them per image (the largest); a person alone in the image gets ``alone``
    (Thunder at a 192 px input) whatever their size.

    A cost rule, not a free lunch: Thunder reads people of every size better, at several times
    Lightning's time (docs/benchmarks.md#keypoint-model-by-size). Large
    people are usually few in a frame (someone near the camera), small ones many (a street, a
    crowd), so spending Thunder on the large ones raises accuracy where a frame can afford it
    and keeps a crowd of far people at Lightning's speed; the cap bounds a frame's cost when many
    people are near. The cap of 4 was the best of 2, 3, 4 and 6 on ``bench/bench_video.py``'s
    walker and 10-fps sequences (docs/benchmarks.md#keypoint-model-by-size).

    One person alone is the real-time single-user case (a webcam, a fitness or physio video),
    where the frame's cost is that one call: Thunder at 192 px is faster than Thunder and reads
    a lone person almost as well. It is not used with others around, where people 240-260 px
    tall lose detail at 192 (docs/benchmarks.md#keypoint-model-by-size).
    """

    def __init__(
        self,
        small: MoveNetSinglePose,
        large: MoveNetSinglePose,
        alone: MoveNetSinglePose | None = None,
        max_large: int = 4,
    ) -> None:
        self._small, self._large, self._alone = small, large, alone
        self.max_large = max_large

    def uses_large(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: which boxes get the large model (when not alone)."""
        boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
        sides = np.array([square_around_box(box).width for box in boxes])
        large = sides > self._small.input_size
        large[np.argsort(-sides, kind="stable")[self.max_large :]] = False
        return large

    def in_boxes(
        self,
        image_rgb: np.ndarray,
        boxes_xyxy: np.ndarray,
        people_in_image: int | None = None,
        sizing_boxes_xyxy: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`MoveNetSinglePose.in_boxes`, each box with the model its size picks.

        ``people_in_image``: how many people the image holds when the boxes are only some of
        them (a re-read of one box among several); by default the boxes are all of them.
        ``sizing_boxes_xyxy``: the boxes whose size picks each model, when the crop boxes were
        enlarged beyond what the person shows (by default the crop boxes).
        """
        boxes = np.asarray(boxes_xyxy).reshape(-1, 4)
        people = len(boxes) if people_in_image is None else people_in_image
        if self._alone is not None and people == 1 and len(boxes) == 1:
            return self._alone.in_boxes(image_rgb, boxes)
        large_model = self.uses_large(boxes if sizing_boxes_xyxy is None else sizing_boxes_xyxy)
        return stack_readings(
            [
                (self._large if large else self._small)(image_rgb, box)
                for box, large in zip(boxes, large_model, strict=True)
            ]
        )
