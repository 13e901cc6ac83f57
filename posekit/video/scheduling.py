"""When and where the detector runs in video.

The per-person model follows each tracked person from frame to frame, so the detector is only
needed to find people who are not tracked yet: on the first frame, when nobody is tracked, when a
track was lost on the previous frame, every ``redetect_interval_s`` seconds (people walking in),
and on a scene cut. Each pass looks at one region in turn (the whole image, then tiles for people
too small for a whole-image pass), so the cost is spread over frames.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from posekit.detect.movenet import tile_grid
from posekit.video.options import VideoOptions

logger = logging.getLogger(__name__)


class DetectionScheduler:
    """Decides, frame by frame, whether the detector runs and on which regions of the image.

    ``lost_boxes`` are the boxes of tracks lost on the previous frame (set by the pipeline after
    the tracker's update); each gets a look around where it was.
    """

    def __init__(self, options: VideoOptions) -> None:
        self.options = options
        self.reset()

    def reset(self) -> None:
        self.last_detect_s = -np.inf
        self.lost_boxes: list[np.ndarray] = []
        self.tile_px = 0
        self._regions: np.ndarray | None = None
        self._scan_cursor = 0
        self._previous_thumb: np.ndarray | None = None

    def is_scene_cut(self, image_bgr: np.ndarray) -> bool:
        """Whether this frame differs from the last so much that ROIs must not be carried over."""
        thumb = cv2.resize(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY), (32, 24), interpolation=cv2.INTER_AREA)
        previous, self._previous_thumb = self._previous_thumb, thumb
        if previous is None:
            return False
        return float(np.mean(cv2.absdiff(thumb, previous))) > self.options.scene_cut_threshold

    def needs_detection(self, num_propagated: int, scene_cut: bool, time_s: float) -> bool:
        interval_s = self.options.redetect_interval_s
        return (
            not self.options.propagate
            or num_propagated == 0
            or scene_cut
            or bool(self.lost_boxes)
            # A millisecond of slack: container timestamps such as 0.1 * k are not exact.
            or (interval_s > 0 and time_s - self.last_detect_s >= interval_s - 1e-3)
        )

    def regions(
        self, image_size: tuple[int, int], num_propagated: int, scene_cut: bool, time_s: float, first_frame: bool
    ) -> np.ndarray | None:
        """Where the detector looks this frame (``None``: nowhere), ``(r, 4)`` x0, y0, x1, y1.

        All scan regions at once on the first frame and after a scene cut; otherwise a look
        around each track lost on the last frame, plus the next scan region when a pass is due.
        """
        scan = self._scan_regions(image_size)
        if first_frame or scene_cut or not self.options.propagate:
            return np.unique(scan, axis=0)
        regions = [self.lost_region(box, image_size) for box in self.lost_boxes]
        if self.needs_detection(num_propagated, scene_cut, time_s):
            regions.append(scan[self._scan_cursor % len(scan)])
            self._scan_cursor += 1
        return np.array(regions, dtype=np.int64).reshape(-1, 4) if regions else None

    def _scan_regions(self, image_size: tuple[int, int]) -> np.ndarray:
        if self._regions is None:
            height, width = image_size
            self.tile_px = min(max(self.options.min_tile_px, max(height, width) // 2), height, width)
            whole = np.array([0, 0, width, height], dtype=np.int64)
            tiles: list[np.ndarray] = (
                list(tile_grid(width, height, self.tile_px)) if self.tile_px < max(height, width) else []
            )
            # The whole image every other pass (people walking in close up), tiles in between.
            self._regions = np.array([r for tile in tiles for r in (whole, tile)] or [whole], dtype=np.int64)
        return self._regions

    def lost_region(self, box_xyxy: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
        """A square around where a track was lost: twice its size, at least a scan tile."""
        height, width = image_size
        side = int(min(max(2.0 * float(np.max(box_xyxy[2:] - box_xyxy[:2])), self.tile_px), width, height))
        centre = (box_xyxy[:2] + box_xyxy[2:]) / 2
        x0 = int(np.clip(centre[0] - side / 2, 0, width - side))
        y0 = int(np.clip(centre[1] - side / 2, 0, height - side))
        return np.array([x0, y0, x0 + side, y0 + side], dtype=np.int64)
