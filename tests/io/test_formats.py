import json

import numpy as np
import pytest

from posekit.io.formats import poses_to_coco, poses_to_openpose, poses_to_record
from posekit.results import Poses
from posekit.schemas import BLAZEPOSE33, BODY25, COCO17
from tests.builders import make_poses, with_points

BOXES = [(100.0, 50.0, 200.0, 400.0), (400.0, 60.0, 150.0, 300.0)]


def coco_with_gaps() -> Poses:
    """Two COCO-17 people; person 0 has left_ear missing (confidence 0) and right_ear with NaN xy."""
    poses = make_poses(BOXES)
    xy = np.array(poses.keypoints["coco17"].xy)
    confidence = np.array(poses.keypoints["coco17"].confidence)
    confidence[0, COCO17.index("left_ear")] = 0.0
    xy[0, COCO17.index("right_ear")] = np.nan
    xy[1, 0] = [123.456789, 98.7654321]
    confidence[1, 0] = 0.123456
    return with_points(poses, COCO17, xy, confidence)


def triplets(flat: list[float]) -> np.ndarray:
    return np.array(flat, dtype=np.float64).reshape(-1, 3)


# --- COCO ----------------------------------------------------------------------------------------


def test_coco_entries():
    poses = coco_with_gaps()
    entries = poses_to_coco(poses, image_id=785)
    assert len(entries) == 2
    assert set(entries[0]) == {"image_id", "category_id", "keypoints", "score", "bbox"}
    assert [e["image_id"] for e in entries] == [785, 785] and entries[0]["category_id"] == 1
    assert entries[0]["bbox"] == [100.0, 50.0, 200.0, 400.0]
    assert entries[0]["score"] == pytest.approx(0.9) and entries[1]["score"] == pytest.approx(0.8)
    points = triplets(entries[0]["keypoints"])
    assert points.shape == (17, 3)
    np.testing.assert_allclose(points[:, :2][points[:, 2] > 0], poses.keypoints["coco17"].xy[0][points[:, 2] > 0])


def test_coco_missing_points_are_zeros_and_values_are_rounded():
    entries = poses_to_coco(coco_with_gaps(), image_id="frame_a", category_id=3)
    person0 = triplets(entries[0]["keypoints"])
    np.testing.assert_array_equal(person0[COCO17.index("left_ear")], [0, 0, 0])
    np.testing.assert_array_equal(person0[COCO17.index("right_ear")], [0, 0, 0])
    assert entries[1]["keypoints"][:3] == [123.46, 98.77, 0.1235]  # 2 decimals for pixels, 4 for scores
    assert entries[0]["image_id"] == "frame_a" and entries[0]["category_id"] == 3
    json.dumps(entries, allow_nan=False)


def test_coco_from_blazepose_only():
    poses = make_poses(BOXES, schemas=(BLAZEPOSE33,))
    entries = poses_to_coco(poses, image_id=1)
    left_wrist = triplets(entries[0]["keypoints"])[COCO17.index("left_wrist")]
    np.testing.assert_allclose(left_wrist[:2], poses.keypoints["blazepose33"].xy[0, BLAZEPOSE33.index("left_wrist")])


def test_coco_nobody_is_an_empty_list():
    assert poses_to_coco(Poses.empty((480, 640), (COCO17,)), image_id=1) == []


# --- OpenPose ------------------------------------------------------------------------------------

OPENPOSE_PERSON_KEYS = [
    "person_id",
    "pose_keypoints_2d",
    "face_keypoints_2d",
    "hand_left_keypoints_2d",
    "hand_right_keypoints_2d",
    "pose_keypoints_3d",
    "face_keypoints_3d",
    "hand_left_keypoints_3d",
    "hand_right_keypoints_3d",
]


def body25(document: dict, person: int) -> np.ndarray:
    return triplets(document["people"][person]["pose_keypoints_2d"])


def test_openpose_document_shape():
    document = poses_to_openpose(make_poses(BOXES))
    assert document["version"] == 1.3 and len(document["people"]) == 2
    person = document["people"][0]
    assert list(person) == OPENPOSE_PERSON_KEYS
    assert person["person_id"] == [-1] and len(person["pose_keypoints_2d"]) == 75
    assert all(person[key] == [] for key in OPENPOSE_PERSON_KEYS[2:])
    json.loads(json.dumps(document, allow_nan=False))


def test_openpose_person_id_is_the_track_id():
    document = poses_to_openpose(make_poses(BOXES, track_ids=[7, 12]))
    assert [p["person_id"] for p in document["people"]] == [[7], [12]]


def test_openpose_neck_and_mid_hip_from_coco():
    poses = coco_with_gaps()
    points = body25(poses_to_openpose(poses), 1)
    xy = poses.keypoints["coco17"].xy[1].astype(np.float64)
    shoulders = xy[[COCO17.index("left_shoulder"), COCO17.index("right_shoulder")]]
    hips = xy[[COCO17.index("left_hip"), COCO17.index("right_hip")]]
    np.testing.assert_allclose(points[BODY25.index("neck"), :2], shoulders.mean(axis=0), atol=0.006)
    np.testing.assert_allclose(points[BODY25.index("mid_hip"), :2], hips.mean(axis=0), atol=0.006)
    # e.g. box (400, 60, 150, 300): shoulders at x 497.5 and 452.5, y 135 -> neck (475, 135)
    np.testing.assert_allclose(points[BODY25.index("neck")], [475.0, 135.0, 0.9], atol=0.006)
    np.testing.assert_allclose(points[BODY25.index("right_wrist"), :2], xy[COCO17.index("right_wrist")], atol=0.006)
    for foot in ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"):
        np.testing.assert_array_equal(points[BODY25.index(foot)], [0, 0, 0])  # COCO-17 has no feet


def test_openpose_neck_is_as_sure_as_the_less_sure_shoulder_and_missing_with_it():
    poses = make_poses(BOXES)
    confidence = np.array(poses.keypoints["coco17"].confidence)
    confidence[0, COCO17.index("left_shoulder")] = 0.4
    confidence[1, COCO17.index("right_shoulder")] = 0.0
    points = poses_to_openpose(with_points(poses, COCO17, poses.keypoints["coco17"].xy, confidence))
    assert body25(points, 0)[BODY25.index("neck"), 2] == pytest.approx(0.4)
    np.testing.assert_array_equal(body25(points, 1)[BODY25.index("neck")], [0, 0, 0])


def test_openpose_feet_from_blazepose():
    poses = make_poses(BOXES, schemas=(BLAZEPOSE33, COCO17))
    points = body25(poses_to_openpose(poses), 0)
    blaze = poses.keypoints["blazepose33"].xy[0].astype(np.float64)
    heel, toe = blaze[BLAZEPOSE33.index("left_heel")], blaze[BLAZEPOSE33.index("left_foot_index")]
    np.testing.assert_allclose(points[BODY25.index("left_heel"), :2], heel, atol=0.006)
    np.testing.assert_allclose(points[BODY25.index("left_big_toe"), :2], toe, atol=0.006)
    np.testing.assert_allclose(points[BODY25.index("left_small_toe"), :2], heel / 3 + 2 * toe / 3, atol=0.006)
    shoulders = blaze[[BLAZEPOSE33.index("left_shoulder"), BLAZEPOSE33.index("right_shoulder")]]
    np.testing.assert_allclose(points[BODY25.index("neck"), :2], shoulders.mean(axis=0), atol=0.006)
    assert (points[:, 2] > 0).all()


def test_openpose_nobody():
    assert poses_to_openpose(Poses.empty((480, 640), (COCO17,))) == {"version": 1.3, "people": []}


# --- JSON lines record ---------------------------------------------------------------------------


def test_record_fields_and_nulls_for_missing_points():
    record = poses_to_record(coco_with_gaps(), frame_index=3, timestamp_s=0.1, source="clip.mp4")
    assert list(record) == ["source", "frame_index", "timestamp_s", "image_size", "people"]
    assert record["source"] == "clip.mp4" and record["frame_index"] == 3 and record["timestamp_s"] == 0.1
    assert record["image_size"] == [480, 640]
    person = record["people"][0]
    assert list(person) == ["track_id", "score", "bbox", "keypoints"]  # no world_xyz held
    assert person["track_id"] is None and person["bbox"] == [100.0, 50.0, 200.0, 400.0]
    assert list(person["keypoints"]) == ["coco17"] and len(person["keypoints"]["coco17"]) == 17
    assert person["keypoints"]["coco17"][COCO17.index("left_ear")] == [None, None, 0.0]
    assert person["keypoints"]["coco17"][COCO17.index("right_ear")] == [None, None, 0.0]
    assert record["people"][1]["keypoints"]["coco17"][0] == [123.46, 98.77, 0.1235]
    line = json.dumps(record, allow_nan=False)
    assert json.loads(line) == record


def test_record_omits_unknown_frame_and_time_and_keeps_every_schema():
    poses = make_poses(BOXES, schemas=(BLAZEPOSE33, COCO17), track_ids=[4, 5], world=True)
    record = poses_to_record(poses)
    assert list(record) == ["image_size", "people"]
    person = record["people"][1]
    assert person["track_id"] == 5
    assert sorted(person["keypoints"]) == ["blazepose33", "coco17"]
    assert len(person["keypoints"]["blazepose33"]) == 33
    assert np.array(person["world_xyz"]).shape == (33, 3)
    np.testing.assert_allclose(person["world_xyz"], poses.world_xyz[1], atol=5e-5)


def test_record_non_finite_world_points_become_null():
    poses = make_poses(BOXES[:1], schemas=(BLAZEPOSE33,), world=True)
    world = np.array(poses.world_xyz)
    world[0, 5] = [np.nan, 0.1, 0.2]
    poses = Poses(poses.bbox_xywh, poses.score, poses.keypoints, poses.image_size, world_xyz=world)
    record = poses_to_record(poses, source="a.jpg")
    assert record["people"][0]["world_xyz"][5] == [None, None, None]
    json.dumps(record, allow_nan=False)


def test_record_nobody():
    record = poses_to_record(Poses.empty((10, 20)), frame_index=0, timestamp_s=0.0)
    assert record == {"frame_index": 0, "timestamp_s": 0.0, "image_size": [10, 20], "people": []}


# --- Results in evaluation files' layouts -------------------------------------------------------


def test_wholebody_results_use_the_annotation_files_fields():
    from posekit.io.formats import poses_to_wholebody_results

    poses = make_poses([(10, 20, 100, 200)], schemas=(COCO17, BLAZEPOSE33))
    (result,) = poses_to_wholebody_results(poses, image_id=7)
    sizes = {f: len(result[f]) // 3 for f in ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")}
    assert sizes == {"keypoints": 17, "foot_kpts": 6, "face_kpts": 68, "lefthand_kpts": 21, "righthand_kpts": 21}
    assert result["keypoints"] == poses_to_coco(poses, 7)[0]["keypoints"]
    assert all(v > 0 for v in result["foot_kpts"][2::3])  # feet from BlazePose
    assert set(result["face_kpts"]) == {0.0}  # no face estimated: 0, 0, 0, never a guessed place
    assert result["image_id"] == 7 and result["bbox"] == [10.0, 20.0, 100.0, 200.0]


def test_hand_and_face_results():
    from posekit.io.formats import keypoints_to_results, poses_to_face_results, poses_to_hand_results
    from posekit.results import Keypoints, Poses
    from posekit.schemas import FACE68, HAND21, HAND_LEFT21

    xy = np.random.default_rng(0).uniform(50, 60, (2, 21, 2))
    conf = np.full((2, 21), 0.5)
    conf[1] = 0.0  # second hand not found
    hands = Keypoints(HAND21, xy, conf)
    results = keypoints_to_results(hands, 3, annotation_ids=[11, 12], boxes_xywh=np.array([[1, 2, 3, 4], [5, 6, 7, 8]]))
    assert len(results) == 1 and results[0]["annotation_id"] == 11 and results[0]["bbox"] == [1.0, 2.0, 3.0, 4.0]
    assert len(results[0]["keypoints"]) == 63 and results[0]["score"] == 0.5
    poses = Poses(np.zeros((2, 4)), np.ones(2), {"hand_left21": Keypoints(HAND_LEFT21, xy, conf)}, image_size=(99, 99))
    (left,) = poses_to_hand_results(poses, 3)
    x, y, w, h = left["bbox"]
    assert x == pytest.approx(xy[0, :, 0].min(), abs=0.01) and w == pytest.approx(np.ptp(xy[0, :, 0]), abs=0.02)
    assert poses_to_face_results(poses, 3) == []  # no face held
    faces = Poses(
        np.zeros((1, 4)), np.ones(1), {"face68": Keypoints(FACE68, np.ones((1, 68, 2)), np.ones((1, 68)))}, (9, 9)
    )
    assert len(poses_to_face_results(faces, 3)[0]["keypoints"]) == 204


def test_openpose_face_and_hands_are_filled_when_estimated():
    from posekit.results import Keypoints, Poses
    from posekit.schemas import FACE68, HAND_RIGHT21

    poses = make_poses([(10, 20, 100, 200)], schemas=(COCO17, BLAZEPOSE33))
    assert poses_to_openpose(poses)["people"][0]["face_keypoints_2d"] == []  # nothing estimated: empty
    face_xy = np.random.default_rng(1).uniform(40, 60, (1, 68, 2))
    hand_xy = np.random.default_rng(2).uniform(80, 90, (1, 21, 2))
    with_parts = Poses(
        poses.bbox_xywh,
        poses.score,
        {
            **poses.keypoints,
            "face68": Keypoints(FACE68, face_xy, np.ones((1, 68))),
            "hand_right21": Keypoints(HAND_RIGHT21, hand_xy, np.ones((1, 21))),
        },
        image_size=poses.image_size,
    )
    person = poses_to_openpose(with_parts)["people"][0]
    assert person["pose_keypoints_2d"] == poses_to_openpose(poses)["people"][0]["pose_keypoints_2d"]
    face = np.array(person["face_keypoints_2d"]).reshape(70, 3)
    np.testing.assert_allclose(face[:68, :2], face_xy[0], atol=0.006)
    np.testing.assert_allclose(face[68, :2], face_xy[0, 36:42].mean(axis=0), atol=0.006)  # right pupil
    np.testing.assert_allclose(
        np.array(person["hand_right_keypoints_2d"]).reshape(21, 3)[:, :2], hand_xy[0], atol=0.006
    )
    assert set(person["hand_left_keypoints_2d"]) == {0.0}  # left hand not estimated: 0, 0, 0
