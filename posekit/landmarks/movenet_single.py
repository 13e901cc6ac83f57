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


class SizeSwitchedSinglePose:
    """Lightning for people whose crop fits its 192 px input, Thunder for larger ones.

    A cost rule, not a free lunch: Thunder reads people of every size better (measured on the
    dev images at 1, 0.5 and 0.3 scale: about +0.1 AP each time), at 4x Lightning's time. Large
    people are usually few in a frame (someone near the camera), small ones many (a street, a
    crowd), so spending Thunder on the large ones raises accuracy where a frame can afford it
    and keeps a crowd of far people at Lightning's speed (``bench/bench_video.py``).
    """

    def __init__(self, small: MoveNetSinglePose, large: MoveNetSinglePose) -> None:
        self._small, self._large = small, large
        self.input_size = small.input_size

    def __call__(self, image_rgb: np.ndarray, box_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`MoveNetSinglePose.__call__`, with the model the crop's size picks."""
        crop_side = square_around_box(box_xyxy).width
        model = self._large if crop_side > self._small.input_size else self._small
        return model(image_rgb, box_xyxy)
