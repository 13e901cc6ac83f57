"""From calibrated cameras and each camera's 2D people to 3D tracks: the whole 3D step."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from posekit.errors import InputError
from posekit.multiview.association import AssociationOptions, MultiViewTracker, ViewPeople
from posekit.multiview.camera import Camera, CameraRig
from posekit.multiview.filtering import FilterOptions, filter_track
from posekit.multiview.skeleton import SKELETON
from posekit.multiview.triangulation import RigArrays, reprojection_px
from posekit.multiview.views import ViewTrack

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconstructOptions:
    association: AssociationOptions = field(default_factory=AssociationOptions)
    filtering: FilterOptions = field(default_factory=FilterOptions)
    min_track_frames: int = 5


@dataclass
class Track3D:
    """One 3D person over the session: ``xyz (T, k, 3)`` metres (NaN missing), ``score (T, k)``,
    ``error_px (T,)`` mean reprojection error, ``views`` per frame (camera names)."""

    track_id: int
    xyz: np.ndarray
    score: np.ndarray
    error_px: np.ndarray
    views: list[list[str]]

    @property
    def present(self) -> np.ndarray:
        return np.isfinite(self.xyz).all(axis=-1).any(axis=-1)


@dataclass
class Reconstruction:
    camera_names: tuple[str, ...]
    fps: float
    frame_count: int
    tracks: list[Track3D]
    single_view: list[list[tuple[str, int]]]  # per frame: (camera, 2D track id) seen by one view
    seconds_per_frame: float = 0.0


def undistorted_views(rig: CameraRig, views: list[ViewTrack]) -> list[list[ViewPeople]]:
    """Per view, per frame: the people in undistorted normalised coordinates (one cv2 call per view)."""
    out = []
    for camera, view in zip(rig, views, strict=True):
        xy = [frame.xy for frame in view.frames]
        counts = [len(frame) for frame in view.frames]
        flat = np.concatenate([a.reshape(-1, 2) for a in xy]) if sum(counts) else np.zeros((0, 2))
        normal = camera.undistort(flat).reshape(-1, SKELETON.num_points, 2) if len(flat) else flat.reshape(0, 0, 2)
        split = np.split(normal, np.cumsum(counts)[:-1]) if counts else []
        out.append(
            [
                ViewPeople(part, frame.confidence, frame.track_id, frame.bbox_xywh[:, 3] if len(frame) else np.zeros(0))
                for part, frame in zip(split, view.frames, strict=True)
            ]
        )
    return out


def check_views(rig: CameraRig, views: list[ViewTrack]) -> None:
    """Frame counts and rates must agree; a camera that sees nobody is an error."""
    rates = {view.name: round(view.fps, 2) for view in views}
    if len(set(rates.values())) > 1:
        raise InputError("videos", f"frame rates differ: {rates}; re-encode to one rate or pass --sync")
    for camera, view in zip(rig, views, strict=True):
        if not any(len(frame) for frame in view.frames):
            raise InputError(view.source, f"camera {view.name} sees nobody in any frame; leave it out")
        width, height = view.image_size
        cw, ch = camera.image_size
        if width and cw and (abs(width - cw) > 0.02 * cw or abs(height - ch) > 0.02 * ch):
            raise InputError(view.source, f"frames are {width}x{height} but camera {camera.name} is {cw}x{ch}")


def reconstruct(rig: CameraRig, views: list[ViewTrack], options: ReconstructOptions | None = None) -> Reconstruction:
    """Associates, triangulates, tracks and filters; ``views[i]`` is ``rig.cameras[i]``'s."""
    options = options or ReconstructOptions()
    if len(views) < 2:
        raise InputError("cameras", f"3D needs at least two cameras, got {len(views)}")
    counts = {view.name: len(view) for view in views}
    frame_count = min(counts.values())
    if len(set(counts.values())) > 1:
        logger.warning("frame counts differ %s: using the first %d frames of each", counts, frame_count)
    arrays = RigArrays.of(rig.cameras)
    undistorted = undistorted_views(rig, views)
    tracker = MultiViewTracker(arrays, options.association)
    rows: dict[int, dict[int, object]] = {}
    single: list[list[tuple[str, int]]] = []
    started = time.perf_counter()
    for frame in range(frame_count):
        result = tracker.update([undistorted[v][frame] for v in range(len(views))])
        for person in result.people:
            rows.setdefault(person.track_id, {})[frame] = person
        single.append([(rig.cameras[v].name, int(undistorted[v][frame].track_id[i])) for v, i in result.single_view])
    elapsed = (time.perf_counter() - started) / max(frame_count, 1)
    tracks = []
    for track_id, by_frame in sorted(rows.items()):
        if len(by_frame) < options.min_track_frames:
            continue
        tracks.append(_track_series(track_id, by_frame, frame_count, rig.cameras, views[0].fps, options))
    return Reconstruction(rig.names, views[0].fps, frame_count, tracks, single, elapsed)


def _track_series(
    track_id: int,
    by_frame: dict,
    frame_count: int,
    cameras: tuple[Camera, ...],
    fps: float,
    options: ReconstructOptions,
) -> Track3D:
    k = SKELETON.num_points
    xyz = np.full((frame_count, k, 3), np.nan)
    score = np.zeros((frame_count, k))
    error = np.full(frame_count, np.nan)
    views: list[list[str]] = [[] for _ in range(frame_count)]
    for frame, person in by_frame.items():
        xyz[frame], score[frame], error[frame] = person.xyz, person.score, person.mean_error_px
        views[frame] = [cameras[v].name for v in person.views]
    filtered, score = filter_track(xyz, score, fps, options.filtering)
    present = np.isfinite(xyz).all(axis=-1).any(axis=-1)
    filtered[~present] = np.nan  # a frame without the person stays without them
    score[~np.isfinite(filtered).all(axis=-1)] = 0.0
    return Track3D(track_id, filtered, score, error, views)


def reprojection_errors(rig: CameraRig, track: Track3D, observed: list[np.ndarray]) -> np.ndarray:
    """Helper for quality: ``(V, T, k)`` pixel distances between ``observed[v] (T, k, 2)``
    undistorted normalised points and the track's projection."""
    arrays = RigArrays.of(rig.cameras)
    t, k = track.xyz.shape[:2]
    stacked = np.stack([o.reshape(-1, 2) for o in observed])
    return reprojection_px(arrays, track.xyz.reshape(-1, 3), stacked).reshape(len(rig), t, k)
