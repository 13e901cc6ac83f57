"""Calibration files in and out: one reader per format, all giving a :class:`CameraRig`.

* Qualisys ``.qca.txt`` (XML): ``transform`` holds the camera's position (mm) and a rotation
  whose rows are the camera axes in a y-up, z-backward camera frame (checked by reprojecting
  2D keypoints: this reading puts every triangulated point in front of all four cameras; the
  transposed or unflipped readings do not). Focal lengths and centre points are in sub-pixel
  units (``sensorMaxU / (fov right + 1)``, 64 on the dev session); the distortion coefficients are
  already normalised (OpenCV's k1, k2, p1, p2, k3) and are not scaled.
* Pose2Sim / anipose TOML: ``[cam_01] name, size [w, h], matrix, distortions, rotation
  (Rodrigues), translation (m), fisheye`` plus ``[metadata]``; :func:`write_toml` writes it.
* OpenCV XML/YAML (``cv2.FileStorage``): EasyMocap's ``names`` + ``K_<cam>``, ``dist_<cam>``,
  ``Rot_<cam>``/``R_<cam>``, ``T_<cam>`` (extrinsics may sit in a second file, ``extri.yml`` beside
  ``intri.yml``), or a single camera from ``cv2`` calibration samples (``camera_matrix``,
  ``distortion_coefficients``, ``image_width``, ``image_height``).
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from posekit.errors import InputError, UnreadableInputError
from posekit.io.writers import atomic_write_text
from posekit.multiview.camera import Camera, CameraRig

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

# Flips a y-up, z-backward camera frame (Qualisys) into OpenCV's y-down, z-forward one.
_QUALISYS_TO_OPENCV = np.diag([1.0, -1.0, -1.0])
# Cameras farther apart than this are not a motion-capture room: the units are wrong.
MAX_RIG_SPAN_M = 100.0
MIN_RIG_SPAN_M = 0.02


def read_qualisys(path: Path) -> CameraRig:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise UnreadableInputError(str(path), f"not a readable Qualisys XML calibration ({exc})") from exc
    cameras = []
    for node in root.iter("camera"):
        cameras.append(_qualisys_camera(path, node))
    if not cameras:
        raise UnreadableInputError(str(path), "no <camera> in this Qualisys calibration")
    return CameraRig(tuple(cameras), source=str(path), metadata={"format": "qualisys"})


def _qualisys_camera(path: Path, node: ET.Element) -> Camera:
    transform, intrinsic, fov = node.find("transform"), node.find("intrinsic"), node.find("fov_video")
    if transform is None or intrinsic is None:
        raise UnreadableInputError(str(path), f"camera {node.get('serial')}: no transform or intrinsic")
    t, i = transform.attrib, intrinsic.attrib
    try:
        rows = np.array([[float(t[f"r{a}{b}"]) for b in "123"] for a in "123"])
        position_mm = np.array([float(t[axis]) for axis in "xyz"])
        if fov is not None:
            width = int(fov.attrib["right"]) - int(fov.attrib["left"]) + 1
            height = int(fov.attrib["bottom"]) - int(fov.attrib["top"]) + 1
        else:
            width, height = 0, 0
        max_u = float(i.get("sensorMaxU", 0.0))
        subpixel = 2.0 ** round(math.log2(max_u / width)) if width and max_u > width else 1.0
        matrix = np.array(
            [
                [float(i["focalLengthU"]) / subpixel, float(i.get("skew", 0.0)), float(i["centerPointU"]) / subpixel],
                [0.0, float(i["focalLengthV"]) / subpixel, float(i["centerPointV"]) / subpixel],
                [0.0, 0.0, 1.0],
            ]
        )
        keys = ("radialDistortion1", "radialDistortion2", "tangentalDistortion1", "tangentalDistortion2")
        distortion = np.array([float(i.get(key, 0.0)) for key in keys] + [float(i.get("radialDistortion3", 0.0))])
    except (KeyError, ValueError) as exc:
        raise UnreadableInputError(str(path), f"camera {node.get('serial')}: bad value ({exc})") from exc
    rotation = _QUALISYS_TO_OPENCV @ rows
    name = node.get("serial") or f"cam{len(position_mm)}"
    return Camera(name, (width, height), matrix, distortion, rotation, -rotation @ position_mm, world_unit="mm")


def read_toml(path: Path) -> CameraRig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UnreadableInputError(str(path), f"not a readable TOML calibration ({exc})") from exc
    metadata = data.get("metadata", {})
    unit = str(metadata.get("world_unit", "m")) if isinstance(metadata, dict) else "m"
    cameras = []
    for key, section in data.items():
        if key == "metadata" or not isinstance(section, dict):
            continue
        try:
            cameras.append(
                Camera(
                    name=str(section.get("name", key)),
                    image_size=(int(section["size"][0]), int(section["size"][1])),
                    matrix=np.array(section["matrix"], dtype=np.float64),
                    distortion=np.array(section.get("distortions", [0.0] * 4), dtype=np.float64),
                    rotation=np.array(section["rotation"], dtype=np.float64),
                    translation=np.array(section["translation"], dtype=np.float64),
                    world_unit=unit,
                    fisheye=bool(section.get("fisheye", False)),
                )
            )
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise UnreadableInputError(str(path), f"[{key}]: missing or bad field ({exc})") from exc
    if not cameras:
        raise UnreadableInputError(str(path), "no camera sections in this TOML calibration")
    return CameraRig(tuple(cameras), source=str(path), metadata={"format": "toml"})


def _node_matrix(storage: cv2.FileStorage, key: str) -> np.ndarray | None:
    node = storage.getNode(key)
    if node.empty():
        return None
    matrix = node.mat()
    return None if matrix is None else np.asarray(matrix, dtype=np.float64)


def _node_names(storage: cv2.FileStorage) -> list[str]:
    node = storage.getNode("names")
    if node.empty():
        return []
    return [node.at(index).string() for index in range(node.size())]


def read_opencv(path: Path) -> CameraRig:
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    if not storage.isOpened():
        raise UnreadableInputError(str(path), "not a readable OpenCV XML/YAML file")
    try:
        names = _node_names(storage)
        if not names:
            return CameraRig((_opencv_single(path, storage),), source=str(path), metadata={"format": "opencv"})
        extrinsics = storage
        extri_path = path.with_name(path.name.replace("intri", "extri"))
        if "intri" in path.name and extri_path.exists():
            extrinsics = cv2.FileStorage(str(extri_path), cv2.FILE_STORAGE_READ)
        cameras = [_opencv_named(path, storage, extrinsics, name) for name in names]
        return CameraRig(tuple(cameras), source=str(path), metadata={"format": "opencv"})
    finally:
        storage.release()


def _opencv_named(path: Path, intri: cv2.FileStorage, extri: cv2.FileStorage, name: str) -> Camera:
    matrix = _node_matrix(intri, f"K_{name}")
    if matrix is None:
        raise UnreadableInputError(str(path), f"camera {name}: no K_{name}")
    distortion = _node_matrix(intri, f"dist_{name}")
    rotation = _node_matrix(extri, f"Rot_{name}")
    if rotation is None:
        rotation = _node_matrix(extri, f"R_{name}")
    translation = _node_matrix(extri, f"T_{name}")
    if rotation is None or translation is None:
        raise UnreadableInputError(str(path), f"camera {name}: no R_{name}/Rot_{name} or T_{name} (extrinsics)")
    size = _node_matrix(intri, f"size_{name}")
    width, height = (int(size.reshape(-1)[0]), int(size.reshape(-1)[1])) if size is not None else (0, 0)
    if not width:
        width, height = int(round(2 * matrix[0, 2])), int(round(2 * matrix[1, 2]))
    return Camera(
        name, (width, height), matrix, np.zeros(5) if distortion is None else distortion, rotation, translation
    )


def _opencv_single(path: Path, storage: cv2.FileStorage) -> Camera:
    matrix = _node_matrix(storage, "camera_matrix")
    if matrix is None:
        raise UnreadableInputError(str(path), "neither 'names' (multi-camera) nor 'camera_matrix' (one camera)")
    distortion = _node_matrix(storage, "distortion_coefficients")
    rotation = _node_matrix(storage, "rvec")
    translation = _node_matrix(storage, "tvec")
    width = int(storage.getNode("image_width").real() or round(2 * matrix[0, 2]))
    height = int(storage.getNode("image_height").real() or round(2 * matrix[1, 2]))
    return Camera(
        path.stem,
        (width, height),
        matrix,
        np.zeros(5) if distortion is None else distortion,
        np.eye(3) if rotation is None else rotation,
        np.zeros(3) if translation is None else translation,
    )


READERS: dict[str, Callable[[Path], CameraRig]] = {
    "qualisys": read_qualisys,
    "toml": read_toml,
    "opencv": read_opencv,
}


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".qca.txt") or name.endswith(".qca"):
        return "qualisys"
    if name.endswith(".toml"):
        return "toml"
    if name.endswith((".yml", ".yaml", ".xml")):
        head = path.read_bytes()[:400].decode("latin-1", "replace") if path.is_file() else ""
        return "qualisys" if "<calibration" in head else "opencv"
    raise InputError(str(path), "unknown calibration format: expected .qca.txt, .toml, .xml, .yml or .yaml")


def read_calibration(path: str | Path) -> CameraRig:
    """Any calibration :data:`READERS` knows, converted to metres and checked for plausible units."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableInputError(str(path), "no such calibration file")
    rig = READERS[detect_format(path)](path).in_metres()
    check_units(rig)
    return rig


def check_units(rig: CameraRig) -> None:
    """Raises when the cameras' spread says the translations are not in the stated unit."""
    if len(rig) < 2:
        return
    centres = np.array([camera.centre for camera in rig])
    span = float(np.max(np.linalg.norm(centres[:, None] - centres[None], axis=-1)))
    if span > MAX_RIG_SPAN_M:
        raise InputError(
            rig.source,
            f"cameras are {span:.0f} m apart: the translations look like millimetres; "
            'set [metadata] world_unit = "mm" (or convert the file with `posekit calibrate convert`)',
        )
    if span < MIN_RIG_SPAN_M:
        raise InputError(rig.source, f"cameras are {span * 1000:.1f} mm apart: the translations' unit looks wrong")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float | np.floating | np.integer):
        return repr(float(value)) if isinstance(value, float | np.floating) else str(int(value))
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def toml_text(rig: CameraRig, error_px: float | None = None) -> str:
    """The Pose2Sim/anipose layout, metres; section names are the camera names made TOML-safe."""
    lines = []
    for camera in rig.in_metres():
        section = re.sub(r"[^A-Za-z0-9_-]", "_", camera.name)
        fields = {
            "name": camera.name,
            "size": [float(camera.image_size[0]), float(camera.image_size[1])],
            "matrix": camera.matrix.tolist(),
            "distortions": (camera.distortion if camera.distortion[4] else camera.distortion[:4]).tolist(),
            "rotation": camera.rotation_vector.tolist(),
            "translation": camera.translation.tolist(),
            "fisheye": camera.fisheye,
        }
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in fields.items()]
        lines.append("")
    lines += ["[metadata]", "adjusted = false", f"error = {float(error_px or 0.0)!r}", 'world_unit = "m"', ""]
    return "\n".join(lines)


def write_toml(rig: CameraRig, path: str | Path, error_px: float | None = None) -> None:
    atomic_write_text(path, toml_text(rig, error_px))
