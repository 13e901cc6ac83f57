"""Test scenes: a second person made by moving a real 3D person and projecting them into each
view (with pixel noise, the views' own confidences and 2D id switches), added to real 2D views.

For tests and benchmarks of association and 3D tracking where only single-person footage exists.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from posekit.multiview.camera import CameraRig
from posekit.multiview.views import FramePeople, ViewTrack


def moved_person(xyz: np.ndarray, offset_m: tuple[float, float, float], turn_deg: float = 180.0) -> np.ndarray:
    """``xyz (T, k, 3)`` turned about the vertical (z) through its mean position, time-reversed
    (so the two people do not move in step) and shifted by ``offset_m``."""
    centre = np.nanmean(xyz.reshape(-1, 3), axis=0)
    angle = np.radians(turn_deg)
    turn = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    return ((xyz[::-1] - centre) @ turn.T) + centre + np.asarray(offset_m)


def add_person(
    rig: CameraRig,
    views: list[ViewTrack],
    xyz: np.ndarray,
    *,
    track_id_2d: int = 100,
    noise_px: float = 3.0,
    confidence: float = 0.85,
    hidden: dict[str, range] | None = None,
    seed: int = 0,
) -> list[ViewTrack]:
    """``views`` with the person ``xyz (T, k, 3)`` added to every frame it projects into;
    ``hidden`` maps a camera to frames it does not see them."""
    rng = np.random.default_rng(seed)
    out = []
    for camera, view in zip(rig, views, strict=True):
        frames = list(view.frames)
        pixels = camera.project(xyz)
        width, height = view.image_size
        for t in range(min(len(frames), len(xyz))):
            if hidden and t in hidden.get(camera.name, range(0)):
                continue
            xy = pixels[t] + rng.normal(0.0, noise_px, pixels[t].shape)
            inside = np.isfinite(xy).all(axis=1) & (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0)
            inside &= (xy[:, 1] < height) & (camera.depth(xyz[t]) > 0)
            if inside.sum() < 6:
                continue
            xy[~inside] = np.nan
            conf = np.where(inside, confidence, 0.0)
            low, high = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
            frames[t] = _with_person(frames[t], xy, conf, track_id_2d, np.concatenate([low, high - low]))
        out.append(replace(view, frames=tuple(frames)))
    return out


def _with_person(people: FramePeople, xy: np.ndarray, conf: np.ndarray, track_id: int, bbox: np.ndarray) -> FramePeople:
    return FramePeople(
        xy=np.concatenate([people.xy, xy[None]]),
        confidence=np.concatenate([people.confidence, conf[None]]),
        track_id=np.concatenate([people.track_id, [track_id]]).astype(int),
        bbox_xywh=np.concatenate([people.bbox_xywh, bbox[None]]),
    )


def swap_track_ids(view: ViewTrack, a: int, b: int, from_frame: int) -> ViewTrack:
    """The view with its 2D tracker's ids ``a`` and ``b`` exchanged from ``from_frame`` on (an
    id switch, as 2D trackers make when people cross)."""
    frames = list(view.frames)
    for t in range(from_frame, len(frames)):
        ids = frames[t].track_id.copy()
        ids[frames[t].track_id == a], ids[frames[t].track_id == b] = b, a
        frames[t] = replace(frames[t], track_id=ids)
    return replace(view, frames=tuple(frames))
