"""Camera poses from the people moving in the scene: no board, no clicking.

1. Which 2D track is which person across two views: for each pair of tracks, an essential
   matrix (``cv2.findEssentialMat``, RANSAC) on their confident keypoints over all frames; the
   pair with the most inliers is one person (the first camera's busiest track is the anchor).
2. The second camera's pose from that essential matrix (``cv2.recoverPose``); the person's
   points triangulated; every other camera by ``cv2.solvePnPRansac`` on them.
3. Bundle adjustment of all cameras (the first fixed) and points with
   ``scipy.optimize.least_squares`` (soft-L1, sparse Jacobian).
4. Scale from a stated person height; the world made z-up from the person's feet-to-head axis,
   origin on the floor under them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix

from posekit.errors import InputError
from posekit.multiview.camera import Camera, CameraRig
from posekit.multiview.skeleton import SKELETON
from posekit.multiview.triangulation import RigArrays, TriangulationOptions, triangulate
from posekit.multiview.views import ViewTrack

logger = logging.getLogger(__name__)
MIN_CONFIDENCE = 0.6


@dataclass(frozen=True)
class ExtrinsicsResult:
    rig: CameraRig
    rms_px: float
    points: int


def _track_points(view: ViewTrack, camera: Camera, track_id: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """``(T, k, 2)`` undistorted normalised points of one 2D track, ``(T, k)`` confidence."""
    xy = np.full((frames, SKELETON.num_points, 2), np.nan)
    conf = np.zeros((frames, SKELETON.num_points))
    for t in range(min(frames, len(view))):
        people = view.frames[t]
        hit = np.flatnonzero(people.track_id == track_id)
        if hit.size:
            xy[t], conf[t] = people.xy[hit[0]], people.confidence[hit[0]]
    normal = camera.undistort(xy.reshape(-1, 2)).reshape(xy.shape)
    return normal, conf


def _track_ids(view: ViewTrack) -> list[int]:
    counts: dict[int, int] = {}
    for people in view.frames:
        for track_id in people.track_id:
            counts[int(track_id)] = counts.get(int(track_id), 0) + 1
    return sorted(counts, key=lambda t: -counts[t])


def _essential(a: np.ndarray, b: np.ndarray, focal: float) -> tuple[int, np.ndarray, np.ndarray, np.ndarray] | None:
    if len(a) < 30:
        return None
    matrix, mask = cv2.findEssentialMat(a, b, np.eye(3), method=cv2.RANSAC, prob=0.999, threshold=3.0 / focal)
    if matrix is None or matrix.shape != (3, 3):
        return None
    inliers, rotation, translation, mask = cv2.recoverPose(matrix, a, b, np.eye(3), mask=mask)
    return int(inliers), rotation, translation.reshape(3), mask.reshape(-1) > 0


def _pair_points(pa: tuple, pb: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    both = (pa[1] >= MIN_CONFIDENCE) & (pb[1] >= MIN_CONFIDENCE)
    return pa[0][both], pb[0][both], both


def estimate_extrinsics(
    intrinsics: CameraRig, views: list[ViewTrack], person_height_m: float | None = None
) -> ExtrinsicsResult:
    """Poses for ``intrinsics``' cameras (``views[i]`` is camera ``i``'s), metres if a height is given."""
    cameras = list(intrinsics.cameras)
    frames = min(len(v) for v in views)
    focal = float(np.mean([c.matrix[0, 0] for c in cameras]))
    anchor_id = _track_ids(views[0])[0]
    anchor = _track_points(views[0], cameras[0], anchor_id, frames)
    tracks = [anchor]
    best = None
    for track_id in _track_ids(views[1])[:6]:
        candidate = _track_points(views[1], cameras[1], track_id, frames)
        a, b, _ = _pair_points(anchor, candidate)
        found = _essential(a, b, focal)
        if found is not None and (best is None or found[0] > best[0][0]):
            best = (found, candidate)
    if best is None:
        raise InputError(views[1].source, "no person shared with the first camera (too few confident keypoints)")
    (_, rotation, translation, _), second = best
    tracks.append(second)
    poses = [(np.eye(3), np.zeros(3)), (rotation, translation)]
    points = _triangulate_tracks(cameras[:2], poses, tracks)
    for index in range(2, len(cameras)):
        pose, track = _pnp_camera(views[index], cameras[index], points, frames)
        poses.append(pose)
        tracks.append(track)
    poses, points, rms = bundle_adjust(cameras, poses, tracks)
    placed = [c.with_pose(r, t) for c, (r, t) in zip(cameras, poses, strict=True)]
    rig = _to_world(intrinsics.replaced(placed), points, person_height_m)
    return ExtrinsicsResult(rig, rms, int(np.isfinite(points).all(axis=-1).sum()))


def _triangulate_tracks(cameras: list[Camera], poses: list, tracks: list) -> np.ndarray:
    placed = [c.with_pose(r, t) for c, (r, t) in zip(cameras, poses, strict=True)]
    arrays = RigArrays.of(placed)
    normal = np.stack([t[0].reshape(-1, 2) for t in tracks])
    conf = np.stack([np.where(t[1] >= MIN_CONFIDENCE, t[1], 0.0).reshape(-1) for t in tracks])
    # The scale is still unknown here: a generous inlier distance in pixels.
    result = triangulate(arrays, normal, conf, TriangulationOptions(min_confidence=MIN_CONFIDENCE, inlier_px=50.0))
    return result.xyz.reshape(tracks[0][0].shape[0], SKELETON.num_points, 3)


def _pnp_camera(view: ViewTrack, camera: Camera, points: np.ndarray, frames: int) -> tuple[tuple, tuple]:
    best = None
    for track_id in _track_ids(view)[:6]:
        track = _track_points(view, camera, track_id, frames)
        ok = (track[1] >= MIN_CONFIDENCE) & np.isfinite(points).all(axis=-1)
        if ok.sum() < 30:
            continue
        found, rvec, tvec, inliers = cv2.solvePnPRansac(
            points[ok].astype(np.float64),
            track[0][ok].astype(np.float64),
            np.eye(3),
            None,
            reprojectionError=5.0 / camera.matrix[0, 0],
            iterationsCount=500,
        )
        count = 0 if inliers is None else len(inliers)
        if found and (best is None or count > best[0]):
            best = (count, (cv2.Rodrigues(rvec)[0], tvec.reshape(3)), track)
    if best is None:
        raise InputError(view.source, f"camera {camera.name}: no person shared with the first two cameras")
    return best[1], best[2]


def bundle_adjust(cameras: list[Camera], poses: list, tracks: list) -> tuple[list, np.ndarray, float]:
    """All cameras but the first and all points, on the pixel reprojection error (soft L1)."""
    shape = tracks[0][0].shape[:2]
    initial = _triangulate_tracks(cameras, poses, tracks).reshape(-1, 3)
    observed = [(v, p) for v, t in enumerate(tracks) for p in np.flatnonzero(t[1].reshape(-1) >= MIN_CONFIDENCE)]
    point_ok = np.isfinite(initial).all(axis=1)
    observed = [(v, p) for v, p in observed if point_ok[p]]
    point_index = {p: i for i, p in enumerate(np.flatnonzero(point_ok))}
    view_of = np.array([v for v, _ in observed])
    point_of = np.array([point_index[p] for _, p in observed])
    target = np.array([tracks[v][0].reshape(-1, 2)[p] for v, p in observed])
    focal = np.array([cameras[v].matrix[0, 0] for v in view_of])
    n_cams = len(cameras) - 1
    start = np.concatenate(
        [np.concatenate([cv2.Rodrigues(r)[0].reshape(3), t]) for r, t in poses[1:]] + [initial[point_ok].reshape(-1)]
    )

    def residuals(params: np.ndarray) -> np.ndarray:
        rotations = [np.eye(3)] + [cv2.Rodrigues(params[6 * i : 6 * i + 3])[0] for i in range(n_cams)]
        translations = [np.zeros(3)] + [params[6 * i + 3 : 6 * i + 6] for i in range(n_cams)]
        xyz = params[6 * n_cams :].reshape(-1, 3)[point_of]
        r = np.stack(rotations)[view_of]
        camera_xyz = np.einsum("nij,nj->ni", r, xyz) + np.stack(translations)[view_of]
        projected = camera_xyz[:, :2] / camera_xyz[:, 2:3]
        return ((projected - target) * focal[:, None]).reshape(-1)

    sparsity = lil_matrix((2 * len(observed), len(start)), dtype=int)
    rows = np.arange(len(observed))
    for axis in range(2):
        for k in range(3):
            sparsity[2 * rows + axis, 6 * n_cams + 3 * point_of + k] = 1
        for k in range(6):
            moving = view_of > 0
            sparsity[2 * rows[moving] + axis, 6 * (view_of[moving] - 1) + k] = 1
    fit = least_squares(
        residuals, start, jac_sparsity=sparsity, loss="soft_l1", f_scale=3.0, x_scale="jac", max_nfev=60
    )
    params = fit.x
    poses = [poses[0]] + [
        (cv2.Rodrigues(params[6 * i : 6 * i + 3])[0], params[6 * i + 3 : 6 * i + 6]) for i in range(n_cams)
    ]
    points = np.full((shape[0] * shape[1], 3), np.nan)
    points[np.flatnonzero(point_ok)] = params[6 * n_cams :].reshape(-1, 3)
    final = residuals(params).reshape(-1, 2)
    rms = float(np.sqrt(np.median(np.sum(final**2, axis=1))))
    return poses, points.reshape(shape[0], shape[1], 3), rms


def person_height_proxy(points: np.ndarray) -> float:
    """Median over frames of ankle-knee-hip (mean of sides) + mid-hip to mid-shoulder + mid-shoulder
    to nose: the standing height without the foot and the top of the head (see
    :data:`HEIGHT_PER_PROXY`)."""
    i = SKELETON.index

    def side(s: str) -> np.ndarray:
        return np.linalg.norm(points[:, i(f"{s}_ankle")] - points[:, i(f"{s}_knee")], axis=1) + np.linalg.norm(
            points[:, i(f"{s}_knee")] - points[:, i(f"{s}_hip")], axis=1
        )

    legs = 0.5 * (side("left") + side("right"))
    hips = 0.5 * (points[:, i("left_hip")] + points[:, i("right_hip")])
    shoulders = 0.5 * (points[:, i("left_shoulder")] + points[:, i("right_shoulder")])
    trunk = np.linalg.norm(shoulders - hips, axis=1) + np.linalg.norm(points[:, i("nose")] - shoulders, axis=1)
    return float(np.nanmedian(legs + trunk))


# Standing height over the proxy above; anthropometric tables put ankle height near 0.04 H and
# nose to vertex near 0.11 H (and COCO's hip points sit high), so about 1/0.85.
HEIGHT_PER_PROXY = 1.0 / 0.85


def _to_world(rig: CameraRig, points: np.ndarray, person_height_m: float | None) -> CameraRig:
    """Scales to metres (when the person's height is known) and turns the world z-up, origin on
    the floor under the person."""
    scale = 1.0
    if person_height_m:
        scale = person_height_m / (HEIGHT_PER_PROXY * person_height_proxy(points))
    i = SKELETON.index
    feet = points[:, [i("left_ankle"), i("right_ankle"), i("left_heel"), i("right_heel")]].reshape(-1, 3)
    heads = points[:, [i("left_shoulder"), i("right_shoulder"), i("nose")]].reshape(-1, 3)
    up = np.nanmean(heads, axis=0) - np.nanmean(feet, axis=0)
    up /= np.linalg.norm(up)
    forward = rig.cameras[0].rotation[2]  # the first camera's viewing direction, made horizontal
    x_axis = forward - up * (forward @ up)
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.cross(up, x_axis)
    world_from_old = np.stack([x_axis, y_axis, up])  # rows: new axes in old coordinates
    ground = np.nanpercentile(feet @ up, 5)
    centre = np.nanmedian(feet, axis=0)
    origin = centre - up * (centre @ up - ground)
    cameras = []
    for camera in rig:
        rotation = camera.rotation @ world_from_old.T
        translation = scale * (camera.translation + camera.rotation @ origin)
        cameras.append(camera.with_pose(rotation, translation))
    return rig.replaced(cameras)


def umeyama(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity ``target ~ s R source + t`` (least squares; Umeyama 1991)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    a, b = source - mu_s, target - mu_t
    u, d, vt = np.linalg.svd(b.T @ a / len(source))
    sign = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / (a**2).sum(axis=1).mean())
    return scale, rotation, mu_t - scale * rotation @ mu_s


def compare_rigs(estimated: CameraRig, reference: CameraRig) -> dict[str, tuple[float, float]]:
    """Per camera (rotation error deg, position error m) after aligning the camera centres."""
    source = np.array([c.centre for c in estimated])
    target = np.array([reference[c.name].centre for c in estimated])
    scale, rotation, shift = umeyama(source, target)
    out = {}
    for camera in estimated:
        ref = reference[camera.name]
        aligned_rotation = camera.rotation @ rotation.T
        angle = np.degrees(np.arccos(np.clip((np.trace(aligned_rotation @ ref.rotation.T) - 1) / 2, -1, 1)))
        position = scale * rotation @ camera.centre + shift
        out[camera.name] = (float(angle), float(np.linalg.norm(position - ref.centre)))
    return out
