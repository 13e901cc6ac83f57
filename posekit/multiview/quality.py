"""How good a 3D reconstruction is without ground truth: reprojection, leave-one-camera-out,
bone-length spread and coverage, all as arrays and small dataclasses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.multiview.camera import Camera, CameraRig
from posekit.multiview.filtering import bone_lengths
from posekit.multiview.reconstruct import Reconstruction, Track3D
from posekit.multiview.skeleton import SKELETON
from posekit.multiview.views import ViewTrack

MIN_2D_CONFIDENCE = 0.5  # 2D points graded against (below this the 2D itself is a guess)
MATCH_SHARE = 0.3  # a projected person farther than this share of the 2D box height is not them
PCK_SHARE = 0.05


@dataclass(frozen=True)
class ViewErrors:
    """Per-point pixel errors of projected 3D people against one view's 2D (all frames, all
    matched people): ``error_px (m, k)`` NaN where not graded, ``height_px (m,)`` box heights."""

    camera: str
    error_px: np.ndarray
    height_px: np.ndarray

    @property
    def median_px(self) -> float:
        values = self.error_px[np.isfinite(self.error_px)]
        return float(np.median(values)) if values.size else float("nan")

    @property
    def pck(self) -> float:
        finite = np.isfinite(self.error_px)
        if not finite.any():
            return float("nan")
        hits = self.error_px < PCK_SHARE * self.height_px[:, None]
        return float(hits[finite].mean())

    def per_point_median(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan for c in self.error_px.T])


def view_errors(camera: Camera, tracks: list[Track3D], view: ViewTrack, frame_count: int) -> ViewErrors:
    """Projects every track into ``camera`` and grades it against the 2D person it falls on."""
    errors, heights = [], []
    projected = [camera.project(track.xyz) for track in tracks]  # (T, k, 2) each
    for frame in range(min(frame_count, len(view))):
        people = view.frames[frame]
        present = [i for i, track in enumerate(tracks) if track.present[frame]]
        if not len(people) or not present:
            continue
        heights_px = np.maximum(people.bbox_xywh[:, 3], 1.0)
        cost = np.full((len(present), len(people)), np.inf)
        graded = np.where(people.confidence >= MIN_2D_CONFIDENCE, 1.0, np.nan)
        distances = []
        for row, i in enumerate(present):
            distance = np.linalg.norm(projected[i][frame][None] - people.xy, axis=-1) * graded  # (n, k)
            distances.append(distance)
            with np.errstate(all="ignore"):
                share = np.nanmedian(distance, axis=1) / heights_px
            cost[row] = np.where(np.isfinite(share), share, np.inf)
        rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
        for row, col in zip(rows, cols, strict=True):
            if cost[row, col] < MATCH_SHARE:
                errors.append(distances[row][col])
                heights.append(heights_px[col])
    k = SKELETON.num_points
    return ViewErrors(camera.name, np.array(errors).reshape(-1, k), np.array(heights, dtype=float).reshape(-1))


def leave_one_out(
    rig: CameraRig, views: list[ViewTrack], build: Callable[[CameraRig, list[ViewTrack]], Reconstruction]
) -> list[ViewErrors]:
    """For each camera: reconstruct from the others, project into it, grade against its own 2D."""
    out = []
    for left_out in range(len(rig)):
        keep = [i for i in range(len(rig)) if i != left_out]
        reconstruction = build(rig.subset([rig.cameras[i].name for i in keep]), [views[i] for i in keep])
        out.append(
            view_errors(rig.cameras[left_out], reconstruction.tracks, views[left_out], reconstruction.frame_count)
        )
    return out


@dataclass(frozen=True)
class TrackQuality:
    track_id: int
    frames: int
    bone_spread_mm: float  # median over bones of the SD over frames
    bone_spread_by_bone_mm: dict[str, float]
    share_triangulated: float  # of the skeleton's points, in the frames the track is present
    share_feet: float


def track_quality(track: Track3D) -> TrackQuality:
    lengths = bone_lengths(track.xyz) * 1000.0
    spread = {}
    for b, (name, _, _) in enumerate(SKELETON.bones):
        column = lengths[:, b][np.isfinite(lengths[:, b])]
        spread[name] = float(np.std(column)) if column.size >= 3 else float("nan")
    values = np.array([v for v in spread.values() if np.isfinite(v)])
    present = track.present
    finite = np.isfinite(track.xyz[present]).all(axis=-1)
    return TrackQuality(
        track_id=track.track_id,
        frames=int(present.sum()),
        bone_spread_mm=float(np.median(values)) if values.size else float("nan"),
        bone_spread_by_bone_mm=spread,
        share_triangulated=float(finite.mean()) if finite.size else 0.0,
        share_feet=float(finite[:, 17:].mean()) if finite.size else 0.0,
    )
