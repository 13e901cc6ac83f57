"""Which calibrated camera a video (or track file) belongs to, from its file stem."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from posekit.errors import InputError

logger = logging.getLogger(__name__)


def normalised_name(name: str) -> str:
    """``cam_01``, ``Cam-1``, ``cam01`` -> ``cam1``: lower case, no separators, no leading zeros."""
    text = re.sub(r"[^a-z0-9]", "", name.lower())
    return re.sub(r"0+(?=\d)", "", text)


def _trailing_number(name: str) -> int | None:
    match = re.search(r"(\d+)\D*$", name)
    return int(match.group(1)) if match else None


def match_camera(stem: str, camera_names: Sequence[str]) -> str:
    """The camera name for ``stem``: exact, then normalised, then the same trailing number
    (``cam01`` = ``cam_1``), then the trailing number as a 1-based position when the
    calibration's names are serial numbers (Qualisys). Raises InputError naming the stem."""
    if stem in camera_names:
        return stem
    wanted = normalised_name(stem)
    exact = [name for name in camera_names if normalised_name(name) == wanted]
    if len(exact) == 1:
        return exact[0]
    # Stems like "cam01_pose" or "session_cam01": the camera's name inside the stem.
    inside = [name for name in camera_names if normalised_name(name) and normalised_name(name) in wanted]
    if len(inside) == 1:
        return inside[0]
    number = _trailing_number(stem)
    if number is not None:
        same_number = [name for name in camera_names if _trailing_number(name) == number]
        if len(same_number) == 1 and not all(name.isdigit() for name in camera_names):
            return same_number[0]
        if all(name.isdigit() for name in camera_names) and 1 <= number <= len(camera_names):
            chosen = camera_names[number - 1]
            logger.warning("%s: no camera of that name; taking camera %d of the calibration (%s)", stem, number, chosen)
            return chosen
    raise InputError(stem, f"no camera of this name in the calibration (it has {', '.join(camera_names)})")
