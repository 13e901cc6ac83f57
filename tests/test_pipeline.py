"""The estimator on real images: people found where the labels say, schemas, misuse."""

import json

import cv2
import numpy as np
import pytest

from posekit import COCO17, EstimatorOptions, PoseEstimator, UsageError
from posekit.geometry import compute_oks
from posekit.io.formats import poses_to_coco, poses_to_openpose
from tests.conftest import ANNOTATIONS, IMAGES, gt_keypoints


def best_oks(poses, gt: np.ndarray, area: float) -> float:
    points = poses.keypoints["coco17"]
    dt = np.concatenate([points.xy, points.confidence[..., None]], axis=2)
    return float(compute_oks(gt[None], np.array([area]), np.zeros((1, 4)), dt, COCO17.sigmas).max())


def test_finds_each_labelled_person_in_a_multi_person_image(estimator, coco_annotations):
    image = cv2.imread(str(IMAGES / "000000197388.jpg"))
    poses = estimator(image)
    assert 4 <= len(poses) <= 6
    anns = [a for a in coco_annotations["annotations"] if a["image_id"] == 197388]
    found = [best_oks(poses, np.array(a["keypoints"], float).reshape(17, 3), a["area"]) for a in anns]
    assert sum(o > 0.5 for o in found) >= 4, found


def test_single_person_keypoints_match_labels_and_all_outputs_present(estimator, coco_annotations):
    poses = estimator.predict(IMAGES / "000000000785.jpg")
    (gt,) = gt_keypoints(coco_annotations, 785)
    assert best_oks(poses, gt, 27789.11) > 0.85
    best = int(np.argmax(poses.score))
    assert poses.keypoints["blazepose33"].xy.shape == (len(poses), 33, 2)
    presence = poses.keypoints["blazepose33"].presence
    assert presence is not None and presence[best].mean() > 0.8  # a whole person in view
    assert poses.world_xyz is not None and poses.world_xyz.shape == (len(poses), 33, 3)
    # World coordinates are metres around the hips: a person is 1-2.5 m tall, not pixels.
    height_m = np.ptp(poses.world_xyz[best][:, 1])
    assert 0.8 < height_m < 2.5
    x, y, w, h = poses.bbox_xywh[best]
    assert np.all(poses.keypoints["coco17"].xy[best][:, 0] >= x - 1)
    assert 0 < poses.score[best] <= 1


def test_bgr_and_rgb_entry_points_agree(estimator):
    image = cv2.imread(str(IMAGES / "000000000785.jpg"))
    from_bgr = estimator(image)
    from_rgb = estimator.estimate_rgb(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    np.testing.assert_allclose(from_bgr.keypoints["coco17"].xy, from_rgb.keypoints["coco17"].xy)


def test_image_with_nobody_gives_empty_result(estimator):
    blank = np.full((480, 640, 3), 127, np.uint8)
    poses = estimator(blank)
    assert len(poses) == 0
    assert poses_to_coco(poses, 1) == [] and poses_to_openpose(poses)["people"] == []


def test_flipped_image_mirrors_the_pose(estimator):
    image = cv2.imread(str(IMAGES / "000000000785.jpg"))
    poses = estimator(image)
    mirrored = estimator(image[:, ::-1].copy())
    a, b = poses[int(np.argmax(poses.score))], mirrored[int(np.argmax(mirrored.score))]
    nose_a = a.keypoints["coco17"].xy[0, 0]
    nose_b = b.keypoints["coco17"].xy[0, 0]
    assert abs((image.shape[1] - nose_b[0]) - nose_a[0]) < 10 and abs(nose_b[1] - nose_a[1]) < 10


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), "x.jpg"])
def test_misuse_says_what_to_do(estimator, bad):
    with pytest.raises(UsageError):
        estimator(bad)


def test_bad_options_are_refused():
    with pytest.raises(UsageError, match="landmark_model"):
        EstimatorOptions(landmark_model="huge")


def test_keypoints_only_mode_skips_blazepose():
    with PoseEstimator(EstimatorOptions(landmark_model="none", keypoint_model="lightning")) as est:
        poses = est.predict(IMAGES / "000000000785.jpg")
    assert set(poses.keypoints) == {"coco17"} and poses.world_xyz is None and len(poses) >= 1


def test_closed_estimator_refuses_work():
    est = PoseEstimator(EstimatorOptions(landmark_model="none", keypoint_model="none"))
    est.close()
    with pytest.raises(UsageError, match="closed"):
        est(np.zeros((64, 64, 3), np.uint8))


def test_crowd_beyond_six_people_is_found_by_tiling(estimator):
    """Two real group photos side by side hold 9+ people; one MultiPose pass has only 6 slots."""
    left = cv2.imread(str(IMAGES / "000000197388.jpg"))
    right = cv2.imread(str(IMAGES / "000000196141.jpg"))
    right = cv2.resize(right, (round(right.shape[1] * left.shape[0] / right.shape[0]), left.shape[0]))
    crowd = np.concatenate([left, right], axis=1)
    poses = estimator(crowd)
    assert len(poses) > 6
    centres = poses.bbox_xywh[:, 0] + poses.bbox_xywh[:, 2] / 2
    assert (centres < left.shape[1]).sum() >= 3 and (centres > left.shape[1]).sum() >= 3


def test_rendering_draws_people_and_leaves_input_alone(estimator):
    from posekit.draw import draw_poses

    image = cv2.imread(str(IMAGES / "000000196141.jpg"))
    before = image.copy()
    poses = estimator(image)
    rendered = draw_poses(image, poses)
    np.testing.assert_array_equal(image, before)
    changed = np.any(rendered != image, axis=2)
    x, y, w, h = poses.bbox_xywh[int(np.argmax(poses.score))].astype(int)
    assert changed[y : y + h, x : x + w].mean() > 0.02  # skeleton drawn on the best person
    assert changed.mean() < 0.3  # not painted over


def test_a_person_half_hidden_behind_another_is_read_again_and_found():
    # OCHuman 003896: a player behind the one in front. Thunder, cropped on the player behind,
    # reads the one in front and pose NMS drops it as a duplicate; read again with the front
    # player painted over, the crop shows the player behind.
    annotations = json.loads((ANNOTATIONS / "ochuman.json").read_text())
    image_id = next(i["id"] for i in annotations["images"] if i["file_name"] == "003896.jpg")
    labelled = [a for a in annotations["annotations"] if a["image_id"] == image_id]
    image = cv2.imread(str(IMAGES / "003896.jpg"))
    found = {}
    for reread in (False, True):
        with PoseEstimator(EstimatorOptions(landmark_model="none", reread_hidden=reread)) as estimator:
            poses = estimator(image)
        found[reread] = [best_oks(poses, np.array(a["keypoints"], float).reshape(17, 3), a["area"]) for a in labelled]
    assert all(oks > 0.5 for oks in found[True]), found
    assert sum(oks > 0.5 for oks in found[False]) == len(labelled) - 1, found
