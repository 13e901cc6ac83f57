import numpy as np
import pytest

from posekit.results import Keypoints, Poses
from posekit.schemas import (
    BLAZEPOSE33,
    BODY25,
    COCO17,
    CONVERSIONS,
    SCHEMAS,
    BlazePoseLandmark,
    Coco17Keypoint,
    convert,
)


@pytest.mark.parametrize("schema", list(SCHEMAS.values()), ids=lambda s: s.name)
def test_schema_is_consistent(schema):
    assert len(set(schema.keypoint_names)) == schema.num_keypoints
    assert all(a != b for a, b in schema.edges)
    assert len(set(schema.edges)) == len(schema.edges)


def test_enums_match_names():
    assert [m.name.lower() for m in Coco17Keypoint] == list(COCO17.keypoint_names)
    assert [m.name.lower() for m in BlazePoseLandmark] == list(BLAZEPOSE33.keypoint_names)


def test_coco_sigmas_are_the_published_ones():
    assert COCO17.sigmas[0] == pytest.approx(0.026)
    assert COCO17.sigmas[Coco17Keypoint.LEFT_HIP] == pytest.approx(0.107)
    assert COCO17.sigmas.shape == (17,)


def test_blazepose_to_coco_picks_same_named_points():
    xy = np.arange(33 * 2, dtype=np.float32).reshape(1, 33, 2)
    conf = np.linspace(0.1, 0.9, 33, dtype=np.float32)[None]
    out_xy, out_conf = convert(xy, conf, CONVERSIONS[("blazepose33", "coco17")])
    for coco in Coco17Keypoint:
        blaze = BlazePoseLandmark[coco.name]
        np.testing.assert_array_equal(out_xy[0, coco], xy[0, blaze])
        assert out_conf[0, coco] == conf[0, blaze]


def test_body25_neck_and_midhip_are_midpoints_and_feet_are_missing_from_coco():
    xy = np.random.default_rng(0).uniform(0, 100, (2, 17, 2)).astype(np.float32)
    conf = np.full((2, 17), 0.8, np.float32)
    conf[1, Coco17Keypoint.LEFT_SHOULDER] = 0.2
    b25 = Keypoints(COCO17, xy, conf).to(BODY25)
    neck = BODY25.index("neck")
    np.testing.assert_allclose(b25.xy[:, neck], xy[:, [5, 6]].mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(b25.xy[:, BODY25.index("mid_hip")], xy[:, [11, 12]].mean(axis=1), rtol=1e-6)
    assert b25.confidence[1, neck] == pytest.approx(0.2)  # only as sure as its least sure input
    toe = BODY25.index("left_big_toe")
    assert b25.confidence[0, toe] == 0 and np.isnan(b25.xy[0, toe]).all()


def test_body25_feet_from_blazepose():
    xy = np.zeros((1, 33, 2), np.float32)
    xy[0, BlazePoseLandmark.LEFT_HEEL] = (10, 100)
    xy[0, BlazePoseLandmark.LEFT_FOOT_INDEX] = (40, 100)
    b25 = Keypoints(BLAZEPOSE33, xy, np.ones((1, 33), np.float32)).to(BODY25)
    np.testing.assert_allclose(b25.xy[0, BODY25.index("left_big_toe")], (40, 100))
    np.testing.assert_allclose(b25.xy[0, BODY25.index("left_heel")], (10, 100))
    np.testing.assert_allclose(b25.xy[0, BODY25.index("left_small_toe")], (30, 100), atol=1e-4)


def test_poses_validate_shapes_and_are_immutable():
    kp = Keypoints(COCO17, np.zeros((2, 17, 2)), np.ones((2, 17)))
    poses = Poses(np.zeros((2, 4)), np.array([0.9, 0.5]), {"coco17": kp}, image_size=(10, 10))
    assert len(poses) == 2 and len(poses[poses.score > 0.6]) == 1
    with pytest.raises(ValueError):
        poses.score[0] = 1.0
    with pytest.raises(ValueError):
        Poses(np.zeros((3, 4)), np.zeros(3), {"coco17": kp}, image_size=(10, 10))
    with pytest.raises(ValueError):
        Keypoints(COCO17, np.zeros((2, 16, 2)), np.ones((2, 16)))
    assert len(Poses.empty((5, 5), (COCO17,))) == 0
