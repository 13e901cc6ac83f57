import json
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
IMAGES = DATA / "images"
ANNOTATIONS = DATA / "annotations"


@pytest.fixture(scope="session")
def estimator():
    from posekit import PoseEstimator

    with PoseEstimator() as est:
        yield est


@pytest.fixture(scope="session")
def coco_annotations() -> dict:
    return json.loads((ANNOTATIONS / "coco.json").read_text())


def gt_keypoints(annotations: dict, image_id: int) -> list[np.ndarray]:
    return [
        np.array(a["keypoints"], float).reshape(17, 3)
        for a in annotations["annotations"]
        if a["image_id"] == image_id and a.get("num_keypoints", 1) > 0
    ]
