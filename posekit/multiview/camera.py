"""The camera model: one :class:`Camera` dataclass and the geometry on it (no file I/O here).

Conventions (OpenCV's): ``rotation (3, 3)`` and ``translation (3,)`` map world points into the
camera frame, ``x_cam = R @ x_world + t``; the camera looks along +z, x right, y down.
``matrix (3, 3)`` is the pinhole matrix in pixels and ``distortion (5,)`` OpenCV's
``k1, k2, p1, p2, k3``. ``translation`` is in ``world_unit`` (``"m"`` or ``"mm"``); the
triangulation works in metres (:meth:`Camera.in_metres`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from posekit.errors import UsageError

UNIT_TO_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001}


def _frozen(array: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.array(array, dtype=np.float64).reshape(-1) if len(shape) == 1 else np.array(array, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must be {shape}, got {array.shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Camera:
    """One calibrated camera. ``image_size`` is ``(width, height)`` in pixels."""

    name: str
    image_size: tuple[int, int]
    matrix: np.ndarray
    distortion: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    world_unit: str = "m"
    fisheye: bool = False

    def __post_init__(self) -> None:
        distortion = np.zeros(5)
        given = np.asarray(self.distortion, dtype=np.float64).reshape(-1)[:5]
        distortion[: given.size] = given
        rotation = np.asarray(self.rotation, dtype=np.float64)
        if rotation.shape in ((3,), (3, 1), (1, 3)):
            rotation = np.asarray(cv2.Rodrigues(rotation.reshape(3, 1))[0], dtype=np.float64)
        object.__setattr__(self, "matrix", _frozen(self.matrix, (3, 3), "matrix"))
        object.__setattr__(self, "distortion", _frozen(distortion, (5,), "distortion"))
        object.__setattr__(self, "rotation", _frozen(rotation, (3, 3), "rotation"))
        object.__setattr__(self, "translation", _frozen(self.translation, (3,), "translation"))
        object.__setattr__(self, "image_size", (int(self.image_size[0]), int(self.image_size[1])))
        if self.world_unit not in UNIT_TO_METRES:
            raise UsageError(f"camera {self.name}: world_unit must be one of {sorted(UNIT_TO_METRES)}")
        if abs(np.linalg.det(self.rotation) - 1.0) > 1e-3:
            raise UsageError(f"camera {self.name}: rotation is not a rotation matrix (det {np.linalg.det(rotation)})")

    @property
    def rotation_vector(self) -> np.ndarray:
        """Rodrigues vector (3,) of :attr:`rotation`."""
        return cv2.Rodrigues(np.asarray(self.rotation))[0].reshape(3)

    @property
    def centre(self) -> np.ndarray:
        """The camera's position in world coordinates (``world_unit``)."""
        return -self.rotation.T @ self.translation

    @property
    def projection(self) -> np.ndarray:
        """``(3, 4)`` world-to-normalised-image matrix ``[R | t]`` (undistorted, no K)."""
        return np.hstack([self.rotation, self.translation[:, None]])

    def in_metres(self) -> Camera:
        scale = UNIT_TO_METRES[self.world_unit]
        return replace(self, translation=self.translation * scale, world_unit="m")

    def with_pose(self, rotation: np.ndarray, translation: np.ndarray) -> Camera:
        return replace(self, rotation=rotation, translation=translation)

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """Pixels ``(..., 2)`` of world points ``(..., 3)``, with distortion; NaN stays NaN."""
        points = np.asarray(points_world, dtype=np.float64)
        flat = points.reshape(-1, 3)
        out = np.full((flat.shape[0], 2), np.nan)
        ok = np.isfinite(flat).all(axis=1)
        if ok.any():
            projected, _ = cv2.projectPoints(
                flat[ok].reshape(-1, 1, 3), self.rotation_vector, self.translation, self.matrix, self.distortion
            )
            out[ok] = projected.reshape(-1, 2)
        return out.reshape(*points.shape[:-1], 2)

    def depth(self, points_world: np.ndarray) -> np.ndarray:
        """Distance along the optical axis (``(...,)``, ``world_unit``); negative behind the camera."""
        points = np.asarray(points_world, dtype=np.float64)
        return points @ self.rotation[2] + self.translation[2]

    def undistort(self, pixels: np.ndarray) -> np.ndarray:
        """Normalised undistorted image coordinates ``(..., 2)`` of pixels ``(..., 2)``."""
        pixels = np.asarray(pixels, dtype=np.float64)
        flat = pixels.reshape(-1, 2)
        out = np.full_like(flat, np.nan)
        ok = np.isfinite(flat).all(axis=1)
        if ok.any():
            normal = cv2.undistortPoints(
                flat[ok].reshape(-1, 1, 2),
                self.matrix,
                self.distortion,
                criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-9),
            )
            out[ok] = normal.reshape(-1, 2)
        return out.reshape(pixels.shape)


@dataclass(frozen=True)
class CameraRig:
    """The calibrated cameras of one session, in a fixed order."""

    cameras: tuple[Camera, ...]
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [camera.name for camera in self.cameras]
        if len(set(names)) != len(names):
            raise UsageError(f"{self.source or 'calibration'}: camera names repeat: {names}")

    def __len__(self) -> int:
        return len(self.cameras)

    def __iter__(self) -> Iterator[Camera]:
        return iter(self.cameras)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(camera.name for camera in self.cameras)

    def __getitem__(self, name: str) -> Camera:
        for camera in self.cameras:
            if camera.name == name:
                return camera
        raise KeyError(name)

    def subset(self, names: Sequence[str]) -> CameraRig:
        return replace(self, cameras=tuple(self[name] for name in names))

    def in_metres(self) -> CameraRig:
        return replace(self, cameras=tuple(camera.in_metres() for camera in self.cameras))

    def replaced(self, cameras: Sequence[Camera]) -> CameraRig:
        return replace(self, cameras=tuple(cameras))
