"""MoveNet MultiPose Lightning as posekit's multi-person detector.

The model (converted from the TF.js graph, see ``tools/convert_tfjs_models.py``) takes a
256x256 int32 RGB image and returns ``[1, 6, 56]``: for up to 6 people, 17 x (y, x, score)
in COCO-17 order normalised to the input, then ymin, xmin, ymax, xmax and a person score.
We letterbox the image so normalised coordinates map back without distortion.

The model has 6 person slots. When all 6 are taken the image is a crowd, so it is read again
as two overlapping halves along its longer side and the people found are merged (box NMS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.geometry import letterbox, nms_xyxy
from posekit.runtime import Runtime


@dataclass(frozen=True)
class PersonCandidates:
    """Detected people in image pixels.

    ``boxes_xyxy (n, 4)``; ``scores (n,)``; ``coco17_xy (n, 17, 2)`` and
    ``coco17_confidence (n, 17)`` — the detector's own keypoints, used to place the landmark
    model's ROI and to fuse with its output.
    """

    boxes_xyxy: np.ndarray
    scores: np.ndarray
    coco17_xy: np.ndarray
    coco17_confidence: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def select(self, index: np.ndarray) -> PersonCandidates:
        return PersonCandidates(
            self.boxes_xyxy[index], self.scores[index], self.coco17_xy[index], self.coco17_confidence[index]
        )

    @staticmethod
    def concat(parts: list[PersonCandidates]) -> PersonCandidates:
        return PersonCandidates(
            np.concatenate([p.boxes_xyxy for p in parts]).reshape(-1, 4),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.coco17_xy for p in parts]).reshape(-1, 17, 2),
            np.concatenate([p.coco17_confidence for p in parts]).reshape(-1, 17),
        )


MAX_PEOPLE_PER_PASS = 6
TILE_FRACTION = 0.6  # each half covers 60% of the longer side, so people on the seam are whole in one
TILE_MERGE_IOU = 0.5


class MoveNetMultiPose:
    """Finds people with 17 COCO keypoints each: 6 per pass, more by tiling crowded images."""

    def __init__(self, runtime: Runtime, min_score: float = 0.1, tile_crowds: bool = True) -> None:
        self._runtime = runtime
        self.input_size = int(runtime.input_shapes[0][1])
        self.min_score = min_score
        self.tile_crowds = tile_crowds

    def __call__(self, image_rgb: np.ndarray) -> PersonCandidates:
        whole = self._one_pass(image_rgb)
        if not self.tile_crowds or len(whole) < MAX_PEOPLE_PER_PASS:
            return whole
        parts = [whole]
        height, width = image_rgb.shape[:2]
        axis_len = max(height, width)
        span = int(round(axis_len * TILE_FRACTION))
        for start in (0, axis_len - span):
            if width >= height:
                tile, offset = image_rgb[:, start : start + span], np.array([start, 0], np.float32)
            else:
                tile, offset = image_rgb[start : start + span], np.array([0, start], np.float32)
            found = self._one_pass(np.ascontiguousarray(tile))
            parts.append(
                PersonCandidates(
                    found.boxes_xyxy + np.tile(offset, 2),
                    found.scores,
                    found.coco17_xy + offset,
                    found.coco17_confidence,
                )
            )
        merged = PersonCandidates.concat(parts)
        return merged.select(nms_xyxy(merged.boxes_xyxy, merged.scores, TILE_MERGE_IOU))

    def _one_pass(self, image_rgb: np.ndarray) -> PersonCandidates:
        model_input, box = letterbox(image_rgb, self.input_size)
        (raw,) = self._runtime.run([model_input[None].astype(np.int32)])
        people = raw.reshape(-1, 56)
        people = people[people[:, 55] >= self.min_score]
        size = float(self.input_size)
        keypoints_yx = people[:, :51].reshape(-1, 17, 3)
        coco17_xy = box.to_image(keypoints_yx[:, :, [1, 0]] * size)
        boxes_xyxy = box.to_image(people[:, [52, 51, 54, 53]].reshape(-1, 2, 2) * size).reshape(-1, 4)
        return PersonCandidates(
            boxes_xyxy=boxes_xyxy.astype(np.float32),
            scores=people[:, 55].astype(np.float32),
            coco17_xy=coco17_xy.astype(np.float32),
            coco17_confidence=keypoints_yx[:, :, 2].astype(np.float32),
        )
