import json

import numpy as np
import pytest

from posekit.io.formats import poses_to_coco, poses_to_openpose, poses_to_record
from posekit.io.writers import CocoResultsWriter, JsonlWriter, OpenPoseWriter
from posekit.results import Keypoints, Poses
from posekit.schemas import BODY25, COCO17


def make_poses(n: int = 2) -> Poses:
    rng = np.random.default_rng(0)
    xy = rng.uniform(10, 300, (n, 17, 2)).astype(np.float32)
    conf = rng.uniform(0.3, 1.0, (n, 17)).astype(np.float32)
    conf[0, 3] = 0.0  # a missing point
    return Poses(
        np.tile([[5, 6, 100, 200]], (n, 1)),
        np.linspace(0.9, 0.5, n),
        {"coco17": Keypoints(COCO17, xy, conf)},
        image_size=(480, 640),
    )


def test_coco_entries_and_missing_points():
    poses = make_poses()
    entries = poses_to_coco(poses, image_id=7)
    assert [e["image_id"] for e in entries] == [7, 7]
    assert entries[0]["keypoints"][9:12] == [0.0, 0.0, 0.0]
    assert entries[1]["keypoints"][0] == pytest.approx(poses.keypoints["coco17"].xy[1, 0, 0], abs=0.01)


def test_openpose_body25_neck_is_mid_shoulder():
    poses = make_poses()
    person = poses_to_openpose(poses)["people"][1]
    flat = np.array(person["pose_keypoints_2d"]).reshape(25, 3)
    xy = poses.keypoints["coco17"].xy[1]
    np.testing.assert_allclose(flat[BODY25.index("neck"), :2], xy[[5, 6]].mean(axis=0), atol=0.01)
    np.testing.assert_array_equal(flat[BODY25.index("left_big_toe")], [0, 0, 0])  # no feet in COCO-17


def test_record_uses_null_for_missing_points():
    record = poses_to_record(make_poses(), source="a.jpg", frame_index=3, timestamp_s=0.1)
    assert record["frame_index"] == 3 and record["people"][0]["keypoints"]["coco17"][3] == [None, None, 0.0]
    json.dumps(record, allow_nan=False)


def test_coco_writer_keeps_results_when_interrupted(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with CocoResultsWriter(tmp_path) as writer:
            writer.write(make_poses(), source="dir/000123.jpg")
            raise KeyboardInterrupt
    entries = json.loads((tmp_path / "coco_results.json").read_text())
    assert len(entries) == 2 and entries[0]["image_id"] == 123
    assert [p.name for p in tmp_path.iterdir()] == ["coco_results.json"]


def test_openpose_writer_never_overwrites_same_stem(tmp_path):
    with OpenPoseWriter(tmp_path) as writer:
        writer.write(make_poses(1), source="a/img.jpg")
        writer.write(make_poses(2), source="b/img.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img_2_keypoints.json", "img_keypoints.json"]


def test_jsonl_lines_are_complete_after_each_write(tmp_path):
    writer = JsonlWriter(tmp_path)
    writer.write(make_poses(), source="x.jpg")
    # Before close, what is on disk is already whole lines of valid JSON.
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["source"] == "x.jpg"
    writer.close()
