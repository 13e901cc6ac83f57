"""Rendering skeleton overlays, readable on small and large images.

Body limbs are coloured by side (left orange, right blue, centre white); body points by
confidence, from red (just above ``min_confidence``) through yellow to green (sure), with a dark
rim so they show on any background. Faces and hands are small, so they are drawn finer and in
one colour per part (face light yellow, left hand green, right hand magenta): thin lines, small
dots (the face's smallest). The part of each point comes from the schema (its ``parts``, or the
schema itself for a face or hand layout), never from a point count. Line width, point size and
text scale with the image, so a 200 px thumbnail and a 4000 px photo both read well. Drawing is
anti-aliased at sub-pixel precision.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posekit.errors import UsageError
from posekit.results import Keypoints, Poses
from posekit.schemas import KeypointSchema

logger = logging.getLogger(__name__)

Colour = tuple[int, int, int]

LEFT_COLOUR: Colour = (0, 140, 255)  # orange (BGR)
RIGHT_COLOUR: Colour = (255, 160, 0)  # blue
CENTRE_COLOUR: Colour = (230, 230, 230)  # near white
FACE_COLOUR: Colour = (170, 255, 255)  # light yellow
LEFT_HAND_COLOUR: Colour = (80, 230, 80)  # green
RIGHT_HAND_COLOUR: Colour = (230, 80, 230)  # magenta
_RIM_COLOUR: Colour = (20, 20, 20)
_BOX_COLOUR: Colour = (200, 200, 200)
_SHIFT = 4  # cv2 sub-pixel bits: coordinates are passed as fixed point, x * 16
_REFERENCE_SIZE = 640.0  # sizes below are tuned for an image whose longer side is this
_PERSON_REFERENCE_PX = 200.0  # a person this tall (in points) is drawn at full stroke width


def _edge_colour(schema: KeypointSchema, a: int, b: int) -> Colour:
    names = schema.keypoint_names[a] + schema.keypoint_names[b]
    if "left" in names and "right" not in names:
        return LEFT_COLOUR
    if "right" in names and "left" not in names:
        return RIGHT_COLOUR
    return CENTRE_COLOUR


def confidence_colour(confidence: float) -> Colour:
    """Red at 0 through yellow at 0.5 to green at 1 (BGR)."""
    c = float(np.clip(confidence, 0.0, 1.0))
    return (0, int(255 * min(1.0, 2 * c)), int(255 * min(1.0, 2 * (1 - c))))


def _scale(image: np.ndarray) -> float:
    return max(image.shape[:2]) / _REFERENCE_SIZE


def _fixed_point(xy: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Pixel coordinates as cv2 fixed point; far-off points are clamped so int32 cannot overflow."""
    limit = 8 * max(image.shape[:2])
    return (np.clip(np.nan_to_num(xy), -limit, limit) * (1 << _SHIFT)).round().astype(np.int32)


def _point(fixed_xy: np.ndarray) -> tuple[int, int]:
    return int(fixed_xy[0]), int(fixed_xy[1])


def _as_canvas(image_bgr: np.ndarray) -> np.ndarray:
    """A writable 8-bit BGR copy of the input (gray is expanded); the input is never touched."""
    image = np.asarray(image_bgr)
    if image.dtype != np.uint8:
        raise UsageError(f"draw needs an 8-bit image, got {image.dtype}; use posekit.io.images.to_bgr8 first")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(np.ascontiguousarray(image.reshape(image.shape[:2])), cv2.COLOR_GRAY2BGR)
    if image.ndim != 3 or image.shape[2] != 3:
        raise UsageError(f"draw needs an HxWx3 BGR image, got shape {image.shape}")
    return np.array(image, copy=True, order="C")


@dataclass(frozen=True)
class PartStyle:
    """How one part is drawn: ``colour`` None means body colouring (limbs by side, points by
    confidence); widths are at the 640 px reference size and scale with the image."""

    colour: Colour | None
    line_width: float
    point_radius: float
    rim: bool


BODY_STYLE = PartStyle(None, 2.0, 3.0, True)
FACE_STYLE = PartStyle(FACE_COLOUR, 0.6, 1.0, False)
LEFT_HAND_STYLE = PartStyle(LEFT_HAND_COLOUR, 1.0, 1.5, True)
RIGHT_HAND_STYLE = PartStyle(RIGHT_HAND_COLOUR, 1.0, 1.5, True)
HAND_STYLE = PartStyle(LEFT_HAND_COLOUR, 1.0, 1.5, True)

# Part names (of a schema's ``parts``, or a one-part schema's own name) -> style.
PART_STYLES: dict[str, PartStyle] = {
    "face": FACE_STYLE,
    "face68": FACE_STYLE,
    "face468": FACE_STYLE,
    "wflw98": FACE_STYLE,
    "left_hand": LEFT_HAND_STYLE,
    "hand_left21": LEFT_HAND_STYLE,
    "right_hand": RIGHT_HAND_STYLE,
    "hand_right21": RIGHT_HAND_STYLE,
    "hand21": HAND_STYLE,
}


def point_styles(schema: KeypointSchema) -> tuple[PartStyle, ...]:
    """``(k,)`` the style of each point of ``schema``."""
    return tuple(PART_STYLES.get(part, BODY_STYLE) for part in schema.part_of_each())


def _pixels(size: float, scale: float, minimum: int) -> int:
    return max(minimum, round(size * scale))


def _draw_person(canvas: np.ndarray, points: Keypoints, person: int, min_confidence: float) -> None:
    xy = points.xy[person]
    confidence = points.confidence[person]
    shown = (confidence >= min_confidence) & np.isfinite(xy).all(axis=1)
    fixed = _fixed_point(xy, canvas)
    scale = _scale(canvas)
    if shown.sum() >= 2:
        # A small person far away gets finer strokes, so their skeleton does not become a blob.
        scale = _person_scale(canvas, float(np.ptp(xy[shown], axis=0).max()))
    styles = point_styles(points.schema)
    for a, b in points.schema.edges:
        if shown[a] and shown[b]:
            style = styles[a]
            colour = style.colour or _edge_colour(points.schema, a, b)
            thickness = _pixels(style.line_width, scale, 1)
            cv2.line(canvas, _point(fixed[a]), _point(fixed[b]), colour, thickness, cv2.LINE_AA, _SHIFT)
    for i in np.flatnonzero(shown):
        style = styles[i]
        centre = _point(fixed[i])
        radius = _pixels(style.point_radius, scale, 2 if style is BODY_STYLE else 1)
        if style.rim:
            rim = max(1, round(radius / 3))
            cv2.circle(canvas, centre, (radius + rim) << _SHIFT, _RIM_COLOUR, -1, cv2.LINE_AA, _SHIFT)
        colour = style.colour or confidence_colour(confidence[i])
        cv2.circle(canvas, centre, radius << _SHIFT, colour, -1, cv2.LINE_AA, _SHIFT)


def draw_keypoints(image_bgr: np.ndarray, points: Keypoints, *, min_confidence: float = 0.3) -> np.ndarray:
    """A new image with one schema's skeletons drawn; the input is untouched.

    Points below ``min_confidence`` or without a location are not drawn; an edge is drawn only
    where both its ends are.
    """
    canvas = _as_canvas(image_bgr)
    for person in range(len(points)):
        _draw_person(canvas, points, person, min_confidence)
    return canvas


def _person_scale(canvas: np.ndarray, height_px: float) -> float:
    """Stroke and text scale for one person: the image's, but smaller for a small person, so a
    crowd of far people stays legible."""
    return min(_scale(canvas), max(height_px / _PERSON_REFERENCE_PX, 0.4))


def _label(
    canvas: np.ndarray,
    text: str,
    box_xyxy: tuple[float, float, float, float],
    scale: float,
    placed: list[tuple[int, int, int, int]],
) -> None:
    """The label above the box, else inside its top, else below it: wherever it does not cover
    a label already drawn (``placed``, which it joins); left out when every place is taken."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    font_scale = max(0.35, 0.5 * scale)
    thickness = max(1, round(scale))
    (text_w, text_h), baseline = cv2.getTextSize(text, font, font_scale, thickness + 2)
    x0, y0, _, y1 = box_xyxy
    x = int(np.clip(x0, 0, max(canvas.shape[1] - text_w, 0)))
    for bottom in (y0 - 4, y0 + text_h + 4, y1 + text_h + 4):
        y = int(np.clip(bottom, text_h, canvas.shape[0] - baseline - 1))
        rect = (x, y - text_h, x + text_w, y + baseline)
        if not any(rect[0] < r[2] and r[0] < rect[2] and rect[1] < r[3] and r[1] < rect[3] for r in placed):
            placed.append(rect)
            # White on a black outline reads on light and dark backgrounds alike.
            cv2.putText(canvas, text, (x, y), font, font_scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
            cv2.putText(canvas, text, (x, y), font, font_scale, (255, 255, 255), thickness, cv2.LINE_AA)
            return


def _draw_box_and_label(
    canvas: np.ndarray, poses: Poses, person: int, draw_boxes: bool, placed: list[tuple[int, int, int, int]]
) -> None:
    bbox = poses.bbox_xywh[person]
    if not np.isfinite(bbox).all():
        return
    x, y, w, h = (float(v) for v in bbox)
    scale = _person_scale(canvas, h)
    if draw_boxes:
        top_left, bottom_right = _fixed_point(np.array([[x, y], [x + w, y + h]]), canvas)
        thickness = max(1, round(scale))
        cv2.rectangle(canvas, _point(top_left), _point(bottom_right), _BOX_COLOUR, thickness, cv2.LINE_AA, _SHIFT)
    parts = []
    if poses.track_id is not None:
        parts.append(f"#{int(poses.track_id[person])}")
    if draw_boxes:
        parts.append(f"{float(poses.score[person]):.2f}")
    if parts:
        _label(canvas, " ".join(parts), (x, y, x + w, y + h), scale, placed)


def _default_points(poses: Poses) -> list[Keypoints]:
    """The body (BlazePose, else COCO-17, else the first held layout) and, on top, any held
    face and hands."""
    layers: list[Keypoints] = []
    for name in ("blazepose33", "coco17"):
        if name in poses.keypoints:
            layers.append(poses.keypoints[name])
            break
    else:
        layers += list(poses.keypoints.values())[:1]
    face = next((poses.keypoints[n] for n in ("face468", "face68") if n in poses.keypoints), None)
    hands = [poses.keypoints[n] for n in ("hand_left21", "hand_right21") if n in poses.keypoints]
    return layers + [p for p in [face, *hands] if p is not None and all(p is not q for q in layers)]


def draw_poses(
    image_bgr: np.ndarray,
    poses: Poses,
    schema: KeypointSchema | None = None,
    *,
    min_confidence: float = 0.3,
    draw_boxes: bool = True,
) -> np.ndarray:
    """A new image with every person's skeleton (and box, score and track id); the input is untouched.

    ``schema`` defaults to ``blazepose33`` when held, else ``coco17``, else the first held schema,
    with any held face (``face468``, else ``face68``) and hands drawn on top; a schema the poses
    do not hold is converted (or assembled, for whole-body layouts) when :mod:`posekit.schemas`
    knows how. With
    ``draw_boxes`` each person gets a box and a score label; a track id label (``#7``) is drawn
    whenever the poses carry track ids.
    """
    canvas = _as_canvas(image_bgr)
    if tuple(poses.image_size) != canvas.shape[:2]:
        logger.warning("poses are for a %s image, drawing on %s", poses.image_size, canvas.shape[:2])
    layers = _default_points(poses) if schema is None else [poses.keypoints_in(schema)]
    for points in layers:
        for person in range(len(points)):
            _draw_person(canvas, points, person, min_confidence)
    placed: list[tuple[int, int, int, int]] = []
    for person in range(len(poses)):  # best scored first, so they keep their labels
        _draw_box_and_label(canvas, poses, person, draw_boxes, placed)
    return canvas


def _trail_colour(track_id: int) -> Colour:
    # A fixed, well-spread hue per id (golden-ratio steps), so a person keeps their colour.
    hue = int((track_id * 0.618034 % 1.0) * 180)
    hsv = np.array([[[hue, 200, 255]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


class VideoRenderer:
    """Writes an MP4 (``mp4v``) with each frame's skeletons, track ids and motion trails.

    A context manager: ``close()`` finishes the file, also after an error or Ctrl-C, so the
    video holds every frame written so far. Trails follow each track's box centre over the last
    ``trail_s`` seconds.
    """

    def __init__(self, path: str | Path, fps: float, *, trail_s: float = 1.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.trail_s = trail_s
        self._writer: cv2.VideoWriter | None = None
        self._trails: dict[int, deque[tuple[float, float, float]]] = {}

    def __enter__(self) -> VideoRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, image_bgr: np.ndarray, poses: Poses, timestamp_s: float) -> None:
        canvas = draw_poses(image_bgr, poses)
        if poses.track_id is not None:
            self._draw_trails(canvas, poses, timestamp_s)
        if self._writer is None:
            height, width = canvas.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, (width, height))
            if not self._writer.isOpened():
                raise UsageError(f"{self.path}: cannot write an MP4 video here (OpenCV has no mp4v encoder?)")
        self._writer.write(canvas)

    def _draw_trails(self, canvas: np.ndarray, poses: Poses, timestamp_s: float) -> None:
        assert poses.track_id is not None
        for person, track_id in enumerate(poses.track_id):
            x, y, w, h = (float(v) for v in poses.bbox_xywh[person])
            trail = self._trails.setdefault(int(track_id), deque())
            trail.append((timestamp_s, x + w / 2, y + h))  # feet: where the person walks
        thickness = max(1, round(2 * _scale(canvas)))
        for track_id, trail in list(self._trails.items()):
            while trail and trail[0][0] < timestamp_s - self.trail_s:
                trail.popleft()
            if not trail:
                del self._trails[track_id]
                continue
            points = _fixed_point(np.array([[px, py] for _, px, py in trail]), canvas)
            cv2.polylines(
                canvas, [points.reshape(-1, 1, 2)], False, _trail_colour(track_id), thickness, cv2.LINE_AA, _SHIFT
            )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
