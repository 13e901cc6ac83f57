from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posekit.errors import InputError
from posekit.multiview.calibration_io import read_calibration, read_toml, toml_text, write_toml
from posekit.multiview.camera import Camera, CameraRig
from posekit.multiview.names import match_camera
from posekit.multiview.triangulation import RigArrays, TriangulationOptions, triangulate
from tests.multiview.conftest import DATA


def test_qualisys_reading_units_and_subpixels(rig: CameraRig) -> None:
    assert rig.names == ("cam01", "cam02", "cam03", "cam04")
    for camera in rig:
        assert camera.world_unit == "m"
        assert camera.image_size == (1088, 1920)
        assert 1600 < camera.matrix[0, 0] < 1750  # 107599 / 64 sub-pixels
        assert 2.0 < np.linalg.norm(camera.centre) < 6.0  # mm converted to metres
        assert -0.06 < camera.distortion[0] < -0.03  # k1 as written: not divided by 64
    np.testing.assert_allclose(rig["cam01"].centre, [1.4602, -1.9092, 1.8965], atol=1e-3)


def _main_person_points(views, frame: int) -> tuple[np.ndarray, np.ndarray]:
    xy, conf = [], []
    for view in views:
        people = view.frames[frame]
        biggest = int(np.argmax(people.bbox_xywh[:, 2] * people.bbox_xywh[:, 3]))
        xy.append(people.xy[biggest])
        conf.append(people.confidence[biggest])
    return np.array(xy), np.array(conf)


def test_qualisys_reading_checked_by_reprojection(rig: CameraRig, views) -> None:
    """The person's keypoints from four views meet in front of every camera, within pixels."""
    errors = []
    for frame in range(0, 30, 5):
        xy, conf = _main_person_points(views, frame)
        normalised = np.stack([camera.undistort(points) for camera, points in zip(rig, xy, strict=True)])
        result = triangulate(RigArrays.of(rig.cameras), normalised, conf, TriangulationOptions(inlier_px=1e9))
        ok = np.isfinite(result.xyz).all(axis=1)
        assert ok.sum() >= 15
        for camera in rig:
            assert (camera.depth(result.xyz[ok]) > 1.0).all()
        errors.append(np.nanmedian(result.error_px))
    assert np.median(errors) < 20.0


def test_toml_round_trip_in_pose2sim_layout(rig: CameraRig, tmp_path: Path) -> None:
    path = tmp_path / "cams.toml"
    write_toml(rig, path)
    text = path.read_text()
    for key in ("[cam01]", "name = ", "size = ", "matrix = ", "distortions = ", "rotation = ", "translation = "):
        assert key in text
    assert "fisheye = false" in text and "[metadata]" in text
    again = read_toml(path)
    for a, b in zip(rig, again, strict=True):
        assert a.name == b.name and a.image_size == b.image_size
        np.testing.assert_allclose(a.matrix, b.matrix)
        np.testing.assert_allclose(a.rotation, b.rotation, atol=1e-9)
        np.testing.assert_allclose(a.translation, b.translation, atol=1e-9)
        np.testing.assert_allclose(a.distortion, b.distortion)


def test_opencv_yaml_easymocap_layout(rig: CameraRig, tmp_path: Path) -> None:
    intri, extri = tmp_path / "intri.yml", tmp_path / "extri.yml"
    storage = cv2.FileStorage(str(intri), cv2.FILE_STORAGE_WRITE)
    storage.write("names", list(rig.names))
    for camera in rig:
        storage.write(f"K_{camera.name}", camera.matrix)
        storage.write(f"dist_{camera.name}", camera.distortion.reshape(1, 5))
    storage.release()
    storage = cv2.FileStorage(str(extri), cv2.FILE_STORAGE_WRITE)
    storage.write("names", list(rig.names))
    for camera in rig:
        storage.write(f"R_{camera.name}", camera.rotation_vector.reshape(3, 1))
        storage.write(f"T_{camera.name}", camera.translation.reshape(3, 1))
    storage.release()
    again = read_calibration(intri)
    for a, b in zip(rig, again, strict=True):
        np.testing.assert_allclose(a.rotation, b.rotation, atol=1e-9)
        np.testing.assert_allclose(a.centre, b.centre, atol=1e-9)


def test_millimetres_labelled_metres_is_refused(rig: CameraRig, tmp_path: Path) -> None:
    in_mm = CameraRig(
        tuple(Camera(c.name, c.image_size, c.matrix, c.distortion, c.rotation, c.translation * 1000) for c in rig)
    )
    path = tmp_path / "mm.toml"
    path.write_text(toml_text(in_mm))
    with pytest.raises(InputError, match="millimetres"):
        read_calibration(path)


def test_unreadable_calibration_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.qca.txt"
    path.write_text("<calibration><cameras>")
    with pytest.raises(InputError, match="broken.qca.txt"):
        read_calibration(path)


@pytest.mark.parametrize(
    ("stem", "names", "expected"),
    [
        ("cam01", ("cam01", "cam02"), "cam01"),
        ("cam01", ("cam_01", "cam_02"), "cam_01"),
        ("cam_2", ("cam01", "cam02"), "cam02"),
        ("session_cam02_pose", ("cam01", "cam02"), "cam02"),
        ("cam02", ("28712", "28713", "28714"), "28713"),  # Qualisys serial numbers: by position
    ],
)
def test_camera_names_match_robustly(stem: str, names: tuple[str, ...], expected: str) -> None:
    assert match_camera(stem, names) == expected


def test_a_stem_with_no_camera_is_an_error() -> None:
    with pytest.raises(InputError, match="no camera of this name"):
        match_camera("overview", ("cam01", "cam02"))
    with pytest.raises(InputError):
        match_camera("cam07", ("cam01", "cam02"))


def test_data_files_present() -> None:
    assert (DATA / "Calib.qca.txt").is_file()
