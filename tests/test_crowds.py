"""Crowds: a picture of many small people is searched at several scales, and every person counts."""

import json

import numpy as np
import pytest

from posekit import EstimatorOptions, PoseEstimator
from posekit.detect.movenet import cut_by_region, multiscale_regions
from posekit.eval.oks import evaluate_keypoints
from posekit.io.formats import poses_to_coco
from posekit.schemas import COCO17
from tests.builders import crowd_mosaic
from tests.conftest import ANNOTATIONS, IMAGES


@pytest.fixture(scope="module")
def mosaic():
    sources = [(json.loads((ANNOTATIONS / f"{name}.json").read_text()), IMAGES) for name in ("coco", "crowdpose")]
    return crowd_mosaic(sources, grid=4, order_seed=3)


def _ap(options: EstimatorOptions, image: np.ndarray, labels: dict) -> tuple[float, int]:
    with PoseEstimator(options) as estimator:
        poses = estimator(image)
    return evaluate_keypoints(labels, poses_to_coco(poses, 1), COCO17.oks_sigmas())["AP"], len(poses)


def test_a_mosaic_of_small_people_is_found_by_tiling(mosaic):
    image, labels = mosaic
    people = len(labels["annotations"])
    tiled_ap, tiled_found = _ap(EstimatorOptions(landmark_model="none"), image, labels)
    whole_ap, whole_found = _ap(EstimatorOptions(landmark_model="none", min_tile_px=0), image, labels)
    assert people >= 30
    assert tiled_found >= 0.8 * people > 2 * whole_found, (tiled_found, whole_found, people)
    assert tiled_ap >= whole_ap + 0.2, (tiled_ap, whole_ap)


def test_max_people_keeps_the_best_scored(mosaic):
    image, _ = mosaic
    with PoseEstimator(EstimatorOptions(landmark_model="none", max_people=5)) as estimator:
        poses = estimator(image)
    assert len(poses) == 5 and np.all(np.diff(poses.score) <= 0)


def test_scores_are_expected_oks_between_zero_and_one(mosaic):
    image, _ = mosaic
    with PoseEstimator(EstimatorOptions(landmark_model="none")) as estimator:
        poses = estimator(image)
    assert np.all((poses.score > 0) & (poses.score < 1))
    assert np.median(poses.score) > 0.5  # the people of a labelled mosaic are mostly read right


def test_scales_halve_down_to_the_smallest_tile():
    regions = multiscale_regions(1920, 1080, 512)
    sides = sorted({int(r[2] - r[0]) for r in regions})
    assert sides == [540, 1080, 1920]
    assert (regions[:, 2] <= 1920).all() and (regions[:, 3] <= 1080).all()
    assert len(multiscale_regions(640, 480, 512)) == 1  # a small image: the whole of it only


def test_a_box_cut_by_an_inner_tile_edge_is_left_to_another_tile():
    boxes = np.array([[0, 10, 50, 90], [10, 10, 50, 90], [60, 10, 100, 90]], np.float32)  # region pixels
    cut = cut_by_region(boxes, (100, 0, 200, 100), width=300, height=100)
    assert cut.tolist() == [True, False, True]  # left edge at x=100 and right edge at x=200 are inner
    at_border = cut_by_region(boxes, (0, 0, 100, 100), width=300, height=100)
    assert at_border.tolist() == [False, False, True]  # the image's own left edge cuts nothing
