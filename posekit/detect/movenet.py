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
# Under this share of the image height a person is small for a whole-image pass: there may be more.
SMALL_PERSON_FRACTION = 0.25
# An image this many detector inputs long is always tiled: a whole-image pass sees people at a quarter
# of their size or less, and one junk box there must not decide that nobody is worth a closer look.
LARGE_IMAGE_INPUTS = 4


class MoveNetMultiPose:
    """Finds people with 17 COCO keypoints each: 6 per pass, more by tiling crowded images."""

    def __init__(
        self, runtime: Runtime, min_score: float = 0.1, tile_crowds: bool = True, min_tile_px: int = 0
    ) -> None:
        self._runtime = runtime
        self.min_tile_px = min_tile_px
        self.input_size = int(runtime.input_shapes[0][1])
        self.min_score = min_score
        self.tile_crowds = tile_crowds

    def __call__(self, image_rgb: np.ndarray) -> PersonCandidates:
        """Everyone in the image. Coarse to fine: a whole-image pass, then, on an image large
        enough to tile (``min_tile_px``), overlapping tiles at several scales when that pass
        suggests more people than it can show (it is full, empty, or found someone small), and
        always when the image is far larger than the detector's input."""
        height, width = image_rgb.shape[:2]
        whole = self._one_pass(image_rgb)
        if not self.tile_crowds:
            return whole
        if self.min_tile_px and min(height, width) >= self.min_tile_px and self._worth_tiling(whole, height, width):
            tiles = multiscale_regions(width, height, self.min_tile_px)[1:]
            merged = PersonCandidates.concat([whole, self.in_regions(image_rgb, tiles, drop_cut=True)])
            return merged.select(nms_xyxy(merged.boxes_xyxy, merged.scores, TILE_MERGE_IOU))
        if len(whole) < MAX_PEOPLE_PER_PASS:
            return whole
        height, width = image_rgb.shape[:2]
        axis_len = max(height, width)
        span = int(round(axis_len * TILE_FRACTION))
        halves = [
            [start, 0, start + span, height] if width >= height else [0, start, width, start + span]
            for start in (0, axis_len - span)
        ]
        merged = PersonCandidates.concat([whole, self.in_regions(image_rgb, np.array(halves))])
        return merged.select(nms_xyxy(merged.boxes_xyxy, merged.scores, TILE_MERGE_IOU))

    def in_regions(self, image_rgb: np.ndarray, regions_xyxy: np.ndarray, drop_cut: bool = False) -> PersonCandidates:
        """People found in each region (integer ``x0, y0, x1, y1`` pixels), merged by box NMS.

        Small people (under ~1/4 of the image height) are below what a 256-pixel pass of the
        whole image resolves; a region the size of a few people brings them into range.
        """
        parts = []
        height, width = image_rgb.shape[:2]
        for x0, y0, x1, y1 in np.asarray(regions_xyxy, dtype=np.int64).reshape(-1, 4):
            found = self._one_pass(np.ascontiguousarray(image_rgb[y0:y1, x0:x1]))
            if drop_cut:
                found = found.select(np.flatnonzero(~cut_by_region(found.boxes_xyxy, (x0, y0, x1, y1), width, height)))
            offset = np.array([x0, y0], np.float32)
            parts.append(
                PersonCandidates(
                    found.boxes_xyxy + np.tile(offset, 2),
                    found.scores,
                    found.coco17_xy + offset,
                    found.coco17_confidence,
                )
            )
        if not parts:
            return PersonCandidates.concat([self._empty()])
        merged = PersonCandidates.concat(parts)
        return merged.select(nms_xyxy(merged.boxes_xyxy, merged.scores, TILE_MERGE_IOU))

    def _worth_tiling(self, whole: PersonCandidates, height: int, width: int) -> bool:
        if max(height, width) >= LARGE_IMAGE_INPUTS * self.input_size:
            return True
        small = (whole.boxes_xyxy[:, 3] - whole.boxes_xyxy[:, 1]) < SMALL_PERSON_FRACTION * height
        return len(whole) == 0 or len(whole) >= MAX_PEOPLE_PER_PASS or bool(small.any())

    @staticmethod
    def _empty() -> PersonCandidates:
        return PersonCandidates(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros((0, 17, 2), np.float32),
            np.zeros((0, 17), np.float32),
        )

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


def tile_grid(width: int, height: int, tile_px: int, overlap: float = 0.25) -> np.ndarray:
    """``(n, 4)`` square tiles ``x0, y0, x1, y1`` covering a ``width x height`` image, each
    overlapping its neighbours by at least ``overlap`` of a tile so a person on a seam is whole
    in one of them. One tile (the whole image) when the image is no larger than a tile."""
    tile = int(min(tile_px, width, height))
    step = tile * (1.0 - overlap)

    def starts(length: int) -> np.ndarray:
        count = max(1, int(np.ceil((length - tile) / step)) + 1)
        return np.linspace(0, length - tile, count).round().astype(np.int64)

    xs, ys = starts(width), starts(height)
    return np.array([[x, y, x + tile, y + tile] for y in ys for x in xs], dtype=np.int64)


def multiscale_regions(width: int, height: int, min_tile_px: int) -> np.ndarray:
    """``(n, 4)`` the whole image first, then overlapping square tiles of the short side, half of
    it, and so on while a tile is at least ``min_tile_px``: each level brings people half the
    size of the last into the detector's range (SAHI's slicing, at several scales)."""
    regions = [np.array([[0, 0, width, height]], dtype=np.int64)]
    side = min(width, height)
    while side >= min_tile_px:
        tiles = tile_grid(width, height, side)
        regions.append(tiles[(tiles[:, 2] - tiles[:, 0]) < max(width, height)])  # not the whole image again
        side //= 2
    return np.concatenate(regions)


def cut_by_region(
    boxes_xyxy: np.ndarray, region_xyxy: tuple[int, int, int, int], width: int, height: int
) -> np.ndarray:
    """``(n,)`` which boxes (in region pixels) touch an edge of the region that is not an edge of
    the image: a person cut there is whole in an overlapping or larger region."""
    x0, y0, x1, y1 = region_xyxy
    margin = 0.01 * max(x1 - x0, y1 - y0)
    inner = np.array([x0 > 0, y0 > 0, x1 < width, y1 < height])
    near = np.stack(
        [
            boxes_xyxy[:, 0] <= margin,
            boxes_xyxy[:, 1] <= margin,
            boxes_xyxy[:, 2] >= (x1 - x0) - margin,
            boxes_xyxy[:, 3] >= (y1 - y0) - margin,
        ],
        axis=1,
    )
    return (near & inner).any(axis=1)
