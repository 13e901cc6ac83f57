"""``--render``: the video again, skeletons drawn by :mod:`posekit.draw`, angle values at the
joints and a live rep counter per person."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from posekit import COCO17, Keypoints, Poses, ReadOptions, open_source
from posekit.draw import draw_poses
from posekit.errors import InputError

if TYPE_CHECKING:
    from posekit.analysis.run import TrackAnalysis

logger = logging.getLogger(__name__)
_LABELLED = {"knee_flexion": "knee", "hip_flexion": "hip", "elbow_flexion": "elbow", "shoulder_flexion": "shoulder"}


def _frame_poses(record: dict, image_size: tuple[int, int]) -> Poses:
    people = record.get("people", [])
    if not people:
        return Poses.empty(image_size, (COCO17,))
    coco = np.array([p["keypoints"].get("coco17", [[None, None, 0.0]] * 17) for p in people], dtype=np.float64)
    return Poses(
        bbox_xywh=np.array([p["bbox"] for p in people], np.float32),
        score=np.array([p.get("score", 1.0) for p in people], np.float32),
        keypoints={"coco17": Keypoints(COCO17, coco[..., :2], np.nan_to_num(coco[..., 2]))},
        image_size=image_size,
        track_id=np.array([p.get("track_id", i) for i, p in enumerate(people)], np.int64),
    )


def _annotate(canvas: np.ndarray, analysis: TrackAnalysis, row: int, poses: Poses, person: int) -> None:
    scale = max(canvas.shape[:2]) / 900
    points = poses.keypoints["coco17"].xy[person]
    for name, values in analysis.angles.items():
        side, _, joint = name.partition("_")
        if joint not in _LABELLED or not np.isfinite(values[row]):
            continue
        xy = points[COCO17.index(f"{side}_{_LABELLED[joint]}")]
        if np.isfinite(xy).all():
            cv2.putText(
                canvas,
                f"{values[row]:.0f}",
                (int(xy[0]) + 4, int(xy[1])),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.45 * scale,
                (255, 255, 255),
                max(1, int(scale)),
                cv2.LINE_AA,
            )
    done = sum(1 for rep in analysis.reps if rep.end <= row)
    x, y = (int(v) for v in poses.bbox_xywh[person][:2])
    label = f"reps {done}" if analysis.exercise else ""
    if analysis.gait:
        label += f" steps {sum(1 for r, _ in analysis.gait['heel_strikes'] if r <= row)}"
    if label:
        cv2.putText(
            canvas,
            label.strip(),
            (x, max(12, y - int(22 * scale))),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.55 * scale,
            (60, 255, 60),
            max(1, int(2 * scale)),
            cv2.LINE_AA,
        )


def render_analysis(video: str, track_jsonl: Path, out_dir: Path, analyses: list[TrackAnalysis]) -> Path | None:
    """Writes ``<stem>_analysis.mp4`` (through a temporary name); None when the video cannot be read."""
    by_id = {a.track.track_id: a for a in analyses}
    records = {}
    with Path(track_jsonl).open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                records[int(record["frame_index"])] = record
            except (json.JSONDecodeError, KeyError, ValueError):
                continue
    try:
        source = open_source(video, ReadOptions())
    except InputError as exc:
        logger.warning("cannot render: %s", exc)
        return None
    final = Path(out_dir) / f"{source.stem}_analysis.mp4"
    temporary = final.with_name(f".{final.name}.tmp.mp4")
    writer = None
    try:
        with source:
            for frame in source:
                record = records.get(frame.index)
                if record is None:
                    continue
                poses = _frame_poses(record, frame.image_bgr.shape[:2])
                canvas = draw_poses(frame.image_bgr, poses)
                for person, track_id in enumerate(poses.track_id if poses.track_id is not None else []):
                    analysis = by_id.get(int(track_id))
                    if analysis is not None:
                        rows = np.flatnonzero(analysis.track.frame_index == frame.index)
                        if rows.size:
                            _annotate(canvas, analysis, int(rows[0]), poses, person)
                if writer is None:
                    height, width = canvas.shape[:2]
                    writer = cv2.VideoWriter(
                        str(temporary), cv2.VideoWriter.fourcc(*"mp4v"), source.fps, (width, height)
                    )
                writer.write(canvas)
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        return None
    os.replace(temporary, final)
    return final
