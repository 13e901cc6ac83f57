"""Intrinsic calibration from images (or video frames) of a checkerboard or a ChArUco board.

Corners are found by OpenCV (``findChessboardCorners`` + ``cornerSubPix``, or the aruco
module's ``CharucoDetector``), ``cv2.calibrateCamera`` fits the pinhole matrix and distortion,
and views whose reprojection error is far above the others' are dropped and the fit repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posekit.errors import InputError, UnreadableInputError, UsageError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class BoardSpec:
    """``kind`` ``checkerboard`` (``rows`` x ``cols`` inner corners) or ``charuco`` (``rows`` x
    ``cols`` squares, ``marker_mm`` marker side, ``dictionary`` an ``cv2.aruco`` name)."""

    kind: str
    rows: int
    cols: int
    square_mm: float
    marker_mm: float = 0.0
    dictionary: str = "DICT_4X4_50"

    def __post_init__(self) -> None:
        if self.kind not in ("checkerboard", "charuco"):
            raise UsageError(f"board must be checkerboard or charuco, got {self.kind!r}")
        if self.rows < 2 or self.cols < 2 or self.square_mm <= 0:
            raise UsageError("board rows and cols must be >= 2 and the square size > 0")
        if self.kind == "charuco" and not 0 < self.marker_mm < self.square_mm:
            raise UsageError("a ChArUco board needs --marker-mm, smaller than --square-mm")


@dataclass(frozen=True)
class IntrinsicsResult:
    """The fit: ``matrix (3, 3)``, ``distortion (5,)``, ``image_size (w, h)``, the RMS error,
    per-view errors (px) of the views kept, and the views dropped (with why)."""

    matrix: np.ndarray
    distortion: np.ndarray
    image_size: tuple[int, int]
    rms_px: float
    view_errors_px: dict[str, float]
    rejected: dict[str, str]


def iter_images(paths: list[Path], video_step: int = 15) -> Iterator[tuple[str, np.ndarray]]:
    """Grey images from image files, folders of images and videos (every ``video_step``-th frame)."""
    for path in paths:
        if path.is_dir():
            yield from iter_images(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), video_step)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None:
                logger.warning("%s: not a readable image, skipped", path)
                continue
            yield str(path), image
        else:
            capture = cv2.VideoCapture(str(path))
            if not capture.isOpened():
                logger.warning("%s: not a readable image or video, skipped", path)
                continue
            index = 0
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                if index % video_step == 0:
                    yield f"{path}#{index}", cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                index += 1
            capture.release()


def board_object_points(board: BoardSpec) -> np.ndarray:
    """``(rows * cols, 3)`` checkerboard inner corners in mm, row by row, z = 0."""
    grid = np.mgrid[0 : board.cols, 0 : board.rows].T.reshape(-1, 2)
    return np.hstack([grid * board.square_mm, np.zeros((len(grid), 1))]).astype(np.float32)


def find_checkerboard(image: np.ndarray, board: BoardSpec) -> np.ndarray | None:
    """``(n, 1, 2)`` sub-pixel corners or None; tries the board both ways round."""
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    for pattern in ((board.cols, board.rows), (board.rows, board.cols)):
        found, corners = cv2.findChessboardCorners(image, pattern, flags=flags)
        if found:
            criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-3)
            corners = cv2.cornerSubPix(image, corners, (11, 11), (-1, -1), criteria)
            if pattern != (board.cols, board.rows):
                corners = corners.reshape(board.cols, board.rows, 1, 2).transpose(1, 0, 2, 3).reshape(-1, 1, 2)
            return corners.reshape(-1, 1, 2)
    return None


def _charuco(board: BoardSpec) -> tuple[cv2.aruco.CharucoBoard, cv2.aruco.CharucoDetector]:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, board.dictionary))
    charuco = cv2.aruco.CharucoBoard((board.cols, board.rows), board.square_mm, board.marker_mm, dictionary)
    return charuco, cv2.aruco.CharucoDetector(charuco)


def detect_views(
    paths: list[Path], board: BoardSpec
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], tuple[int, int]]:
    """Per image: (object points (n, 3), image points (n, 1, 2)); and the image size."""
    views: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    size: tuple[int, int] | None = None
    charuco = _charuco(board) if board.kind == "charuco" else None
    for name, image in iter_images(paths):
        this_size = (image.shape[1], image.shape[0])
        if size is not None and this_size != size:
            logger.warning("%s: %dx%d, not %dx%d like the first image; skipped", name, *this_size, *size)
            continue
        if charuco is None:
            corners = find_checkerboard(image, board)
            if corners is not None:
                views[name] = (board_object_points(board), corners)
        else:
            corners, ids, _, _ = charuco[1].detectBoard(image)
            if ids is not None and len(ids) >= 6:
                objects, points = charuco[0].matchImagePoints(corners, ids)  # type: ignore[call-overload]
                views[name] = (objects.reshape(-1, 3).astype(np.float32), points.reshape(-1, 1, 2).astype(np.float32))
        size = size or this_size
        if name not in views:
            logger.warning("%s: no board found", name)
    if size is None:
        raise UnreadableInputError(", ".join(str(p) for p in paths), "no readable images")
    return views, size


def calibrate_intrinsics(
    paths: list[Path], board: BoardSpec, max_error_ratio: float = 3.0, min_views: int = 3
) -> IntrinsicsResult:
    """Finds the board, fits, drops views above ``max_error_ratio`` x the median error, refits."""
    views, size = detect_views(paths, board)
    rejected: dict[str, str] = {}
    while True:
        if len(views) < min_views:
            raise InputError(
                ", ".join(str(p) for p in paths), f"the board was found in {len(views)} images; need {min_views}"
            )
        names = sorted(views)
        objects = [views[n][0] for n in names]
        points = [views[n][1] for n in names]
        # k3 is fixed at 0: a few views of a small board cannot pin it, and it trades against k1, k2 and f.
        rms, matrix, distortion, rvecs, tvecs = cv2.calibrateCamera(
            objects, points, size, None, None, flags=cv2.CALIB_FIX_K3
        )
        errors = {}
        for name, obj, pts, rvec, tvec in zip(names, objects, points, rvecs, tvecs, strict=True):
            projected, _ = cv2.projectPoints(obj, rvec, tvec, matrix, distortion)
            errors[name] = float(
                np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - pts.reshape(-1, 2)) ** 2, axis=-1)))
            )
        median = float(np.median(list(errors.values())))
        worst = max(errors, key=lambda n: errors[n])
        if errors[worst] > max(max_error_ratio * median, 0.5) and len(views) > min_views:
            rejected[worst] = f"reprojection error {errors[worst]:.2f} px vs median {median:.2f} px"
            del views[worst]
            continue
        return IntrinsicsResult(matrix, distortion.reshape(-1)[:5], size, float(rms), errors, rejected)
