"""Per-camera 2D people, frame by frame: read from track JSONL or computed with posekit's tracker.

A :class:`ViewTrack` holds one camera's whole sequence as arrays in the triangulated skeleton's
layout (:data:`~posekit.multiview.skeleton.SKELETON`: COCO-17 then the feet from BlazePose).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from posekit.errors import UnreadableInputError
from posekit.multiview.skeleton import COCO17_COUNT, FEET_BLAZEPOSE_INDICES, SKELETON

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FramePeople:
    """The people one camera saw in one frame: ``xy (n, k, 2)`` pixels (NaN missing),
    ``confidence (n, k)``, ``track_id (n,)`` (the 2D tracker's, -1 if none), ``bbox_xywh (n, 4)``."""

    xy: np.ndarray
    confidence: np.ndarray
    track_id: np.ndarray
    bbox_xywh: np.ndarray

    @classmethod
    def empty(cls) -> FramePeople:
        k = SKELETON.num_points
        return cls(np.zeros((0, k, 2)), np.zeros((0, k)), np.zeros(0, int), np.zeros((0, 4)))

    def __len__(self) -> int:
        return int(self.xy.shape[0])


@dataclass(frozen=True)
class ViewTrack:
    """One camera's sequence. ``image_size`` is ``(width, height)``; ``frames[i]`` is frame ``i``."""

    name: str
    source: str
    fps: float
    image_size: tuple[int, int]
    frames: tuple[FramePeople, ...]

    def __len__(self) -> int:
        return len(self.frames)

    def shifted(self, offset: int) -> ViewTrack:
        """The sequence with frame ``i`` holding what was frame ``i + offset`` (pads with nobody)."""
        if offset == 0:
            return self
        empty = FramePeople.empty()
        frames = [self.frames[i + offset] if 0 <= i + offset < len(self) else empty for i in range(len(self))]
        return ViewTrack(self.name, self.source, self.fps, self.image_size, tuple(frames))


def _points(values: list | None, count: int) -> tuple[np.ndarray, np.ndarray]:
    xy = np.full((count, 2), np.nan)
    confidence = np.zeros(count)
    if not values:
        return xy, confidence
    array = np.array([[np.nan if v is None else float(v) for v in point[:3]] for point in values[:count]])
    xy[: len(array)] = array[:, :2]
    confidence[: len(array)] = np.nan_to_num(array[:, 2])
    confidence[~np.isfinite(xy).all(axis=1)] = 0.0
    return xy, confidence


def person_from_record(person: dict) -> tuple[np.ndarray, np.ndarray]:
    """``xy (k, 2)`` and ``confidence (k,)`` of one track-JSONL person in :data:`SKELETON`'s layout."""
    keypoints = person.get("keypoints", {})
    body_xy, body_conf = _points(keypoints.get("coco17"), COCO17_COUNT)
    xy = np.full((SKELETON.num_points, 2), np.nan)
    confidence = np.zeros(SKELETON.num_points)
    xy[:COCO17_COUNT], confidence[:COCO17_COUNT] = body_xy, body_conf
    blaze = keypoints.get("blazepose33")
    if blaze:
        blaze_xy, blaze_conf = _points(blaze, 33)
        feet = list(FEET_BLAZEPOSE_INDICES)
        xy[COCO17_COUNT:], confidence[COCO17_COUNT:] = blaze_xy[feet], blaze_conf[feet]
    return xy, confidence


def frame_from_record(record: dict) -> FramePeople:
    people = record.get("people") or []
    if not people:
        return FramePeople.empty()
    points = [person_from_record(person) for person in people]
    return FramePeople(
        xy=np.array([p[0] for p in points]),
        confidence=np.array([p[1] for p in points]),
        track_id=np.array([int(p.get("track_id") if p.get("track_id") is not None else -1) for p in people]),
        bbox_xywh=np.array([[float(v) for v in p.get("bbox", [0, 0, 0, 0])] for p in people]),
    )


def read_track_jsonl(path: Path, name: str, fps: float | None = None) -> ViewTrack:
    """A ``posekit track --format jsonl`` file as a :class:`ViewTrack`; frames missing from the
    file (skipped lines, a stride) are empty."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableInputError(str(path), f"cannot read track JSONL ({exc})") from exc
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UnreadableInputError(str(path), f"line {number} is not JSON ({exc.msg})") from exc
    if not records:
        raise UnreadableInputError(str(path), "no frames in this track JSONL")
    by_index = {int(r.get("frame_index", i)): r for i, r in enumerate(records)}
    count = max(by_index) + 1
    frames = tuple(frame_from_record(by_index[i]) if i in by_index else FramePeople.empty() for i in range(count))
    height, width = records[0].get("image_size", [0, 0])
    if fps is None:
        fps = _fps_from_timestamps(records)
    return ViewTrack(name, str(path), fps, (int(width), int(height)), frames)


def _fps_from_timestamps(records: list[dict]) -> float:
    pairs = [(int(r["frame_index"]), float(r["timestamp_s"])) for r in records if "timestamp_s" in r]
    if len(pairs) < 2 or pairs[-1][1] <= pairs[0][1]:
        return 30.0
    return (pairs[-1][0] - pairs[0][0]) / (pairs[-1][1] - pairs[0][1])


def track_video(
    path: Path, name: str, max_frames: int | None = None, on_frame: Callable[[int, int | None], None] | None = None
) -> tuple[ViewTrack, list[dict]]:
    """Runs posekit's 2D tracker (with BlazePose, for the feet) over one video.

    Returns the view and the track-JSONL records (to save beside the 3D output)."""
    import posekit
    from posekit.io.formats import poses_to_record

    defaults = posekit.VideoOptions()
    # BlazePose full for the feet; no 2D smoothing (the 3D tracks are filtered instead).
    video_options = replace(defaults, estimator=replace(defaults.estimator, landmark_model="full"), smoothing="none")
    records = []
    source = posekit.open_source(str(path), posekit.ReadOptions(max_frames=max_frames))
    with source, posekit.VideoPoseEstimator(video_options) as video:
        fps = float(source.fps)
        total = source.frames_to_read
        for frame in source:
            poses = video(frame.image_bgr, frame.timestamp_s)
            records.append(poses_to_record(poses, frame_index=frame.index, timestamp_s=frame.timestamp_s))
            if on_frame is not None:
                on_frame(len(records), total)
    if not records:
        raise UnreadableInputError(str(path), "no frames decoded")
    by_index = {int(r["frame_index"]): r for r in records}
    count = max(by_index) + 1
    frames = tuple(frame_from_record(by_index[i]) if i in by_index else FramePeople.empty() for i in range(count))
    height, width = records[0]["image_size"]
    return ViewTrack(name, str(path), fps, (int(width), int(height)), frames), records
