import json
import os
import stat

import numpy as np
import pytest

from posekit.errors import UsageError
from posekit.io import writers as writers_module
from posekit.io.writers import (
    WRITER_FACTORIES,
    CocoResultsWriter,
    JsonlWriter,
    OpenPoseWriter,
    UniqueStems,
    atomic_write_json,
    atomic_write_text,
    coco_image_id,
    make_writer,
)
from posekit.schemas import BLAZEPOSE33, COCO17
from tests.builders import make_poses

BOXES = [(100.0, 50.0, 200.0, 400.0), (400.0, 60.0, 150.0, 300.0)]


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- atomic files --------------------------------------------------------------------------------


def test_atomic_write_text_and_json(tmp_path):
    atomic_write_text(tmp_path / "sub" / "a.txt", "héllo\n")
    atomic_write_json(tmp_path / "b.json", {"x": [1, 2.5, None]})
    assert (tmp_path / "sub" / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    assert json.loads((tmp_path / "b.json").read_text()) == {"x": [1, 2.5, None]}
    assert files_in(tmp_path) == ["b.json", "sub"]


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    atomic_write_json(target, ["old"])

    def interrupted_replace(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writers_module.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(target, ["new"])
    assert json.loads(target.read_text()) == ["old"]
    assert files_in(tmp_path) == ["results.json"]  # no temp file left behind


def test_atomic_write_refuses_nan_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "x.json", [float("nan")])
    assert files_in(tmp_path) == []


def test_atomic_files_get_the_usual_permissions(tmp_path):
    old_umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644  # not mkstemp's 0600


# --- COCO ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected", [("dir/000000196141.jpg", 196141), ("frame_12.png", "frame_12"), ("x/²³.jpg", "²³")]
)
def test_coco_image_id_from_file_name(source, expected):
    assert coco_image_id(source) == expected


def test_coco_writer_collects_and_writes_on_close(tmp_path):
    path = tmp_path / "coco_results.json"
    with CocoResultsWriter(path) as writer:
        writer.write(make_poses(BOXES), source="images/000000000785.jpg")
        writer.write(make_poses(BOXES[:1]), source="images/street.jpg")
        writer.write(make_poses(BOXES[:1]), source="images/whatever.jpg", image_id=42)
        assert not path.exists()  # one atomic write, at the end
    entries = json.loads(path.read_text())
    assert [e["image_id"] for e in entries] == [785, 785, "street", 42]
    assert all(len(e["keypoints"]) == 51 for e in entries)


def test_coco_writer_keeps_everything_done_when_interrupted(tmp_path):
    path = tmp_path / "coco_results.json"
    with pytest.raises(KeyboardInterrupt):
        with CocoResultsWriter(path) as writer:
            writer.write(make_poses(BOXES), source="dir/000123.jpg")
            writer.write(make_poses(BOXES[:1]), source="dir/000124.jpg")
            raise KeyboardInterrupt
    entries = json.loads(path.read_text())
    assert [e["image_id"] for e in entries] == [123, 123, 124]
    assert files_in(tmp_path) == ["coco_results.json"]


def test_coco_writer_with_nobody_writes_an_empty_list_and_refuses_writes_after_close(tmp_path):
    writer = CocoResultsWriter(tmp_path / "coco_results.json")
    writer.close()
    writer.close()  # closing twice is harmless
    assert json.loads((tmp_path / "coco_results.json").read_text()) == []
    with pytest.raises(UsageError, match="closed"):
        writer.write(make_poses(BOXES), source="a.jpg")


# --- OpenPose ------------------------------------------------------------------------------------


def test_openpose_writer_one_file_per_image(tmp_path):
    with OpenPoseWriter(tmp_path) as writer:
        writer.write(make_poses(BOXES, schemas=(BLAZEPOSE33,)), source="in/walk_001.jpg")
    document = json.loads((tmp_path / "walk_001_keypoints.json").read_text())
    assert document["version"] == 1.3 and len(document["people"]) == 2
    assert len(document["people"][0]["pose_keypoints_2d"]) == 75
    assert files_in(tmp_path) == ["walk_001_keypoints.json"]


def test_openpose_writer_never_overwrites_same_stems(tmp_path):
    with OpenPoseWriter(tmp_path) as writer:
        writer.write(make_poses(BOXES[:1]), source="a/img.jpg")
        writer.write(make_poses(BOXES), source="b/img.png")
        writer.write(make_poses(BOXES), source="c/IMG.jpg")  # case-insensitive disks would clash
        writer.write(make_poses(BOXES), source="d/img_2.jpg")  # a real stem equal to a made-up one
        writer.write(make_poses(BOXES[:1]), source="a/img.jpg")  # the same file again: same name
    assert files_in(tmp_path) == [
        "IMG_3_keypoints.json",
        "img_2_2_keypoints.json",
        "img_2_keypoints.json",
        "img_keypoints.json",
    ]
    assert len(json.loads((tmp_path / "img_keypoints.json").read_text())["people"]) == 1


def test_unique_stems_are_deterministic():
    sources = ["a/x.jpg", "b/x.jpg", "a/y.jpg", "c/x.jpg"]
    first, second = UniqueStems(), UniqueStems()
    assert [first(s) for s in sources] == [second(s) for s in sources] == ["x", "x_2", "y", "x_3"]


# --- JSON lines ----------------------------------------------------------------------------------


def test_jsonl_lines_are_whole_after_each_write(tmp_path):
    path = tmp_path / "predictions.jsonl"
    writer = JsonlWriter(path)
    writer.write(make_poses(BOXES), source="x.jpg")
    lines = path.read_text().splitlines()  # before close: already a whole, valid line
    assert len(lines) == 1 and json.loads(lines[0])["source"] == "x.jpg"
    writer.write(make_poses(BOXES[:1], track_ids=[3]), source="clip.mp4", frame_index=1, timestamp_s=0.04)
    record = json.loads(path.read_text().splitlines()[1])
    assert record["frame_index"] == 1 and record["timestamp_s"] == 0.04 and record["people"][0]["track_id"] == 3
    writer.close()


def test_jsonl_crash_leaves_every_finished_line_valid(tmp_path):
    path = tmp_path / "predictions.jsonl"
    with pytest.raises(RuntimeError):
        with JsonlWriter(path) as writer:
            for index in range(3):
                writer.write(make_poses(BOXES), source=f"{index}.jpg")
            raise RuntimeError("model crashed")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["source"] for r in records] == ["0.jpg", "1.jpg", "2.jpg"]
    assert path.read_text().endswith("\n")


# --- registry ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "format_name, expected_files",
    [("coco", ["coco_results.json"]), ("jsonl", ["predictions.jsonl"]), ("openpose", ["000785_keypoints.json"])],
)
def test_make_writer_file_names(tmp_path, format_name, expected_files):
    with make_writer(format_name, tmp_path) as writer:
        writer.write(make_poses(BOXES, schemas=(COCO17,)), source="images/000785.jpg")
    assert files_in(tmp_path) == expected_files


def test_make_writer_unknown_format(tmp_path):
    with pytest.raises(UsageError, match="coco, jsonl, openpose"):
        make_writer("csv", tmp_path)


def test_openpose_writer_shares_stems_with_other_outputs(tmp_path):
    stems = UniqueStems()
    stems("a/img.jpg")
    with make_writer("openpose", tmp_path, stems) as writer:
        writer.write(make_poses(BOXES), source="b/img.jpg")
    assert files_in(tmp_path) == ["img_2_keypoints.json"]


def test_cli_registry_matches(tmp_path):
    assert sorted(WRITER_FACTORIES) == ["coco", "jsonl", "openpose"]
    with make_writer("coco", tmp_path) as writer:
        writer.write(make_poses(BOXES), source="1.jpg")
    assert np.array(json.loads((tmp_path / "coco_results.json").read_text())[0]["keypoints"]).shape == (51,)
