"""``posekit track`` and ``posekit eval-track`` end to end on real footage, with bad inputs."""

import csv
import json
import shutil

import cv2
import pytest

from posekit.cli import main
from posekit.cli.demo import demo_video
from tests.builders import moving_camera_sequence
from tests.conftest import ANNOTATIONS, IMAGES

CLIP = demo_video()


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_track_jsonl_contract(tmp_path, capsys):
    code = main(["track", str(CLIP), "--out", str(tmp_path), "--format", "jsonl", "--quiet"])
    assert code == 0
    assert "24 frames" in capsys.readouterr().err
    records = _lines(tmp_path / "demo_walk.jsonl")
    assert [r["frame_index"] for r in records] == list(range(24))
    assert records[1]["timestamp_s"] == pytest.approx(0.1, abs=1e-3)
    people = [p for r in records for p in r["people"]]
    assert people, "pedestrians walk through the clip"
    for person in people:
        assert isinstance(person["track_id"], int)
        assert len(person["bbox"]) == 4 and person["bbox"][2] > 0 and person["bbox"][3] > 0
        assert len(person["keypoints"]["coco17"]) == 17
        assert 0 <= person["score"] <= 1


def test_track_openpose_csv_render_and_frame_options(tmp_path):
    out = tmp_path / "op"
    args = ["track", str(CLIP), "--out", str(out), "--format", "openpose", "--render", "--quiet"]
    assert main(args + ["--start", "0.5", "--max-frames", "5", "--stride", "2"]) == 0
    names = sorted(p.name for p in out.glob("*_keypoints.json"))
    assert names == [f"demo_walk_{i:012d}_keypoints.json" for i in (5, 7, 9, 11, 13)]
    people = json.loads((out / names[0]).read_text())["people"]
    assert people and all(p["person_id"][0] >= 1 and len(p["pose_keypoints_2d"]) == 75 for p in people)
    video = cv2.VideoCapture(str(out / "demo_walk_pose.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 5

    out = tmp_path / "csv"
    assert (
        main(
            [
                "track",
                str(CLIP),
                "--out",
                str(out),
                "--format",
                "csv",
                "--smooth",
                "offline",
                "--quiet",
                "--max-frames",
                "6",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((out / "demo_walk.csv").open()))
    assert {r["frame"] for r in rows} == {str(i) for i in range(6)}
    assert set(rows[0]) == {"frame", "time_s", "track_id", "schema", "keypoint", "x", "y", "score"}
    assert not list(out.glob(".smoothing-*"))  # the scratch folder is gone


def test_track_folder_of_frames_with_a_corrupt_frame(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    image = cv2.imread(str(IMAGES / "000000196141.jpg"))
    for i in range(4):
        cv2.imwrite(str(frames / f"{i}.png"), image)
    (frames / "10.png").write_bytes(b"not a png")  # natural order: after 3.png
    (frames / "11.png").write_bytes(b"")
    cv2.imwrite(str(frames / "12.png"), image)
    code = main(["track", str(frames), "--out", str(tmp_path / "out"), "--quiet", "--fps", "5"])
    err = capsys.readouterr().err
    assert code == 1 and "2 frames failed" in err
    records = _lines(tmp_path / "out" / "frames.jsonl")
    assert [r["frame_index"] for r in records] == [0, 1, 2, 3, 6]  # indices keep their place
    assert records[-1]["timestamp_s"] == pytest.approx(6 / 5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"this is not a video at all" * 100), "cannot open"),
        (lambda p: None, "no such"),
    ],
)
def test_track_bad_sources_say_what_is_wrong(tmp_path, capsys, make, message):
    source = tmp_path / "clip.mp4"
    make(source)
    assert main(["track", str(source), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "clip.mp4" in err and message in err


def test_track_truncated_video_keeps_what_it_read(tmp_path, capsys):
    truncated = tmp_path / "cut.mp4"
    data = CLIP.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    code = main(["track", str(truncated), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert "cut.mp4" in err
    if code == 0:  # some demuxers read a cut MP4 as a shorter, valid one
        assert (tmp_path / "out" / "cut.jsonl").exists()
    else:
        out_file = tmp_path / "out" / "cut.jsonl"
        assert not out_file.exists() or all(json.loads(line) for line in out_file.read_text().splitlines())


def test_track_unreachable_stream_fails_cleanly(tmp_path, capsys):
    code = main(["track", "rtsp://127.0.0.1:9/none", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 1
    assert "127.0.0.1" in capsys.readouterr().err


def test_eval_track_on_a_labelled_sequence(tmp_path, capsys):
    annotations = json.loads((ANNOTATIONS / "coco.json").read_text())
    image = next(i for i in annotations["images"] if i["file_name"] == "000000196141.jpg")
    people = [a for a in annotations["annotations"] if a["image_id"] == image["id"] and a["num_keypoints"] > 0]
    frames, labels = moving_camera_sequence(cv2.imread(str(IMAGES / image["file_name"])), people, n_frames=8)
    folder = tmp_path / "frames"
    folder.mkdir()
    for entry, frame in zip(labels["images"], frames, strict=True):
        cv2.imwrite(str(folder / entry["file_name"]), frame)
    (tmp_path / "seq.json").write_text(json.dumps(labels))
    predictions = tmp_path / "pred.json"
    code = main(
        [
            "eval-track",
            str(tmp_path / "seq.json"),
            "--frames",
            str(folder),
            "--json",
            "--quiet",
            "--predictions-out",
            str(predictions),
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    # 4 labelled people; a fifth, unlabelled behind the fence, may count as a false positive.
    assert report["ID_switches"] == 0 and report["misses"] <= 0.1 * report["num_labelled"]
    assert report["false_positives"] <= 8 and report["num_gt_tracks"] == 4
    results = json.loads(predictions.read_text())
    assert results and all("track_id" in r for r in results)


def test_eval_track_with_a_video(tmp_path, capsys):
    # The clip has no labels of its own: label its frames with posekit's own output and check
    # the evaluation of that output against itself is perfect (the video path, frame pairing).
    assert main(["track", str(CLIP), "--out", str(tmp_path), "--quiet", "--max-frames", "6"]) == 0
    records = _lines(tmp_path / "demo_walk.jsonl")
    images, anns = [], []
    for record in records:
        images.append({"id": record["frame_index"] + 1, "frame_index": record["frame_index"], "file_name": "x"})
        for person in record["people"]:
            flat = [v for x, y, c in person["keypoints"]["coco17"] for v in ((x, y, 2) if c > 0.3 else (0, 0, 0))]
            x, y, w, h = person["bbox"]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": record["frame_index"] + 1,
                    "category_id": 1,
                    "track_id": person["track_id"],
                    "keypoints": flat,
                    "bbox": person["bbox"],
                    "area": w * h,
                    "num_keypoints": sum(1 for v in flat[2::3] if v),
                    "iscrowd": 0,
                }
            )
    (tmp_path / "self.json").write_text(json.dumps({"images": images, "annotations": anns}))
    code = main(["eval-track", str(tmp_path / "self.json"), "--video", str(CLIP), "--json", "--quiet"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ID_switches"] == 0 and report["MOTA"] >= 0.95


def test_track_copies_nothing_into_the_source_folder(tmp_path):
    source = tmp_path / "in" / "clip.mp4"
    source.parent.mkdir()
    shutil.copy(CLIP, source)
    assert main(["track", str(source), "--out", str(tmp_path / "out"), "--quiet", "--max-frames", "2"]) == 0
    assert sorted(p.name for p in source.parent.iterdir()) == ["clip.mp4"]


def test_track_whole_body_jsonl(tmp_path):
    assert main(["track", str(CLIP), "--out", str(tmp_path), "--whole-body", "--quiet", "--max-frames", "3"]) == 0
    records = _lines(tmp_path / "demo_walk.jsonl")
    person = records[-1]["people"][0]
    assert {"coco17", "blazepose33", "hand_left21", "hand_right21", "face68", "wholebody133"} <= set(
        person["keypoints"]
    )
    assert len(person["keypoints"]["wholebody133"]) == 133 and len(person["keypoints"]["hand_left21"]) == 21
