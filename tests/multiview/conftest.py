from __future__ import annotations

from pathlib import Path

import pytest

from posekit.multiview.calibration_io import read_calibration
from posekit.multiview.camera import CameraRig
from posekit.multiview.views import ViewTrack, read_track_jsonl

DATA = Path(__file__).parents[1] / "data" / "multiview"
CAMERAS = ("cam01", "cam02", "cam03", "cam04")


@pytest.fixture(scope="session")
def rig() -> CameraRig:
    return read_calibration(DATA / "Calib.qca.txt")


@pytest.fixture(scope="session")
def views() -> list[ViewTrack]:
    return [read_track_jsonl(DATA / f"{name}.jsonl", name) for name in CAMERAS]
