"""The command line end to end, on real images, with bad inputs mixed in."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from posekit.cli import COMMANDS, main
from posekit.schemas import BODY25
from tests.conftest import ANNOTATIONS, IMAGES


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage" in capsys.readouterr().out


@pytest.fixture()
def image_folder(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(IMAGES / "000000196141.jpg", folder / "000000196141.jpg")
    shutil.copy(IMAGES / "000000000785.jpg", folder / "sub" / "000000000785.jpg")
    (folder / "broken.jpg").write_bytes((IMAGES / "000000040083.jpg").read_bytes()[:3000])
    (folder / "empty.png").write_bytes(b"")
    return folder


def test_predict_coco_with_bad_inputs_in_the_batch(image_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["predict", str(image_folder), str(tmp_path / "missing.jpg"), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1  # some inputs failed
    assert "broken.jpg" in err and "empty.png" in err and "missing.jpg" in err
    results = json.loads((out / "coco_results.json").read_text())
    image_ids = {r["image_id"] for r in results}
    assert image_ids == {196141, 785}  # the good images were all processed
    assert all(len(r["keypoints"]) == 51 and 0 < r["score"] <= 1 for r in results)
    assert "2 images" in err and "3 failed" in err
    assert not list(out.glob(".*tmp"))  # no temp files left behind


def test_predict_openpose_and_render(image_folder, tmp_path):
    out = tmp_path / "out"
    assert (
        main(["predict", str(image_folder / "sub"), "--out", str(out), "--format", "openpose", "--render", "--quiet"])
        == 0
    )
    data = json.loads((out / "000000000785_keypoints.json").read_text())
    assert data["version"] == 1.3 and len(data["people"]) >= 1
    person = data["people"][0]
    assert person["person_id"] == [-1]
    assert len(person["pose_keypoints_2d"]) == 3 * BODY25.num_keypoints
    assert (out / "000000000785_pose.jpg").stat().st_size > 10_000


def test_predict_jsonl(image_folder, tmp_path):
    out = tmp_path / "out"
    main(["predict", str(image_folder / "000000196141.jpg"), "--out", str(out), "--format", "jsonl", "--quiet"])
    lines = (out / "predictions.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    assert record["source"].endswith("000000196141.jpg") and record["image_size"] == [429, 640]
    person = record["people"][0]
    assert set(person["keypoints"]) == {"coco17", "blazepose33"}
    assert len(person["keypoints"]["coco17"]) == 17 and len(person["world_xyz"]) == 33


def test_eval_json_and_predictions_out(tmp_path):
    predictions = tmp_path / "preds.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "posekit",
            "eval",
            str(ANNOTATIONS / "coco.json"),
            "--images",
            str(IMAGES),
            "--json",
            "--quiet",
            "--predictions-out",
            str(predictions),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stdout)
    assert {"AP", "AP50", "AP75", "APm", "APl", "AR"} <= report.keys()
    assert 0.5 < report["AP"] <= 1.0  # real people, really found
    ids = {r["image_id"] for r in json.loads(predictions.read_text())}
    labelled = {i["id"] for i in json.loads((ANNOTATIONS / "coco.json").read_text())["images"]}
    assert ids <= labelled and len(ids) == 4


def test_eval_reports_a_bad_annotation_file(tmp_path, capsys):
    bad = tmp_path / "ann.json"
    bad.write_text("{not json")
    assert main(["eval", str(bad), "--images", str(tmp_path)]) == 2
    assert "ann.json" in capsys.readouterr().err


def test_demo_writes_json_and_picture(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    assert (tmp_path / "demo" / "demo_keypoints.json").exists()
    assert (tmp_path / "demo" / "demo_pose.jpg").exists()


def test_predict_refuses_an_output_path_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["predict", str(IMAGES / "000000000785.jpg"), "--out", str(target), "--quiet"]) == 2
    assert "taken" in capsys.readouterr().err


def test_render_names_follow_openpose_names_for_same_stems(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(IMAGES / "000000000785.jpg", tmp_path / folder / "img.jpg")
    out = tmp_path / "out"
    main(
        [
            "predict",
            str(tmp_path / "a"),
            str(tmp_path / "b"),
            "--out",
            str(out),
            "--format",
            "openpose",
            "--render",
            "--quiet",
            "--keypoints",
            "lightning",
            "--model",
            "none",
        ]
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == ["img_2_keypoints.json", "img_2_pose.jpg", "img_keypoints.json", "img_pose.jpg"]


def test_auto_model_skips_blazepose_only_when_the_output_cannot_carry_it():
    from posekit.cli import build_parser
    from posekit.cli.options import options_from_args

    args = build_parser().parse_args(["predict", "x.jpg", "--out", "o"])
    assert options_from_args(args, output_needs_landmarks=False).resolved_landmark_model == "none"
    assert options_from_args(args, output_needs_landmarks=True).resolved_landmark_model == "full"
    args = build_parser().parse_args(["predict", "x.jpg", "--out", "o", "--model", "heavy"])
    assert options_from_args(args, output_needs_landmarks=False).resolved_landmark_model == "heavy"
    # Whole body places hands and face from BlazePose: heavy for images, full for video (speed).
    args = build_parser().parse_args(["predict", "x.jpg", "--out", "o", "--whole-body"])
    assert options_from_args(args, output_needs_landmarks=False).resolved_landmark_model == "heavy"
    from posekit.cli.track import video_options_from_args

    args = build_parser().parse_args(["track", "x.mp4", "--out", "o", "--whole-body"])
    assert video_options_from_args(args).estimator.resolved_landmark_model == "full"


def test_landmark_model_auto_is_heavy_for_whole_body_only():
    from posekit import EstimatorOptions, VideoOptions

    assert EstimatorOptions().resolved_landmark_model == "full"
    assert EstimatorOptions(whole_body=True).resolved_landmark_model == "heavy"
    assert EstimatorOptions(whole_body=True, landmark_model="lite").resolved_landmark_model == "lite"
    video = VideoOptions(estimator=EstimatorOptions(whole_body=True))
    assert video.estimator.resolved_landmark_model == "full"  # per frame, heavy costs too much
    assert VideoOptions(estimator=EstimatorOptions(landmark_model="heavy")).estimator.landmark_model == "heavy"


def test_eval_whole_body_file(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "posekit",
            "eval",
            str(ANNOTATIONS / "coco_wholebody.json"),
            "--images",
            str(IMAGES),
            "--json",
            "--quiet",
            "--predictions-out",
            str(tmp_path / "wb.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stdout)
    assert report["kind"] == "wholebody"
    assert {"AP", "AR", "wholebody_AP", "body_AP", "foot_AP", "face_AP", "lefthand_AP", "righthand_AP"} <= report.keys()
    assert report["body_AP"] > 0.5 and report["foot_AP"] > 0.0  # body and BlazePose feet are real
    assert report["face_AP"] > 0.3  # faces from the face mesh (measured 0.50)
    result = json.loads((tmp_path / "wb.json").read_text())[0]
    assert len(result["keypoints"]) == 51 and len(result["foot_kpts"]) == 18 and len(result["face_kpts"]) == 204


@pytest.mark.parametrize(
    "name, key, bound",
    [("hand_freihand", "PCK@0.2", 0.8), ("hand_onehand10k", "PCK@0.2", 0.9), ("face_300w", "NME", 0.07)],
)
def test_eval_of_hand_and_face_files(name, key, bound, capsys):
    assert main(["eval", str(ANNOTATIONS / f"{name}.json"), "--images", str(IMAGES), "--quiet", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # Measured: FreiHAND 0.88, OneHand10K 1.0 PCK@0.2; 300W NME 0.054 (inter-ocular).
    assert report[key] >= bound if key.startswith("PCK") else report[key] <= bound
    assert report["missed"] == 0


def test_eval_of_a_tip_first_hand_file_answers_in_its_order(tmp_path, capsys):
    """RHD as MMPose ships it lists each finger from its tip under FreiHAND's names: posekit
    reads the order from the labels and answers in it (measured 1.0, as the original file)."""
    from tests.builders import tip_first

    original = json.loads((ANNOTATIONS / "hand_onehand10k.json").read_text())
    (tmp_path / "rhd_order.json").write_text(json.dumps(tip_first(original)))
    out = tmp_path / "pred.json"
    args = ["--images", str(IMAGES), "--quiet", "--json", "--predictions-out", str(out)]
    assert main(["eval", str(tmp_path / "rhd_order.json"), *args]) == 0
    assert json.loads(capsys.readouterr().out)["PCK@0.2"] >= 0.9
    result = json.loads(out.read_text())[0]
    gt = original["annotations"][0]
    thumb_tip = result["keypoints"][3:5]  # point 1 of the tip-first file
    assert np.hypot(*np.subtract(thumb_tip, gt["keypoints"][12:14])) < 0.2 * max(gt["bbox"][2:])  # its point 4


def test_eval_of_a_hand_file_runs_a_registered_top_down_predictor(tmp_path, capsys, monkeypatch):
    """The plumbing a hand model will use: images and boxes in, 21 points per box out."""
    import contextlib

    import cv2
    import numpy as np

    from posekit.eval import dataset
    from posekit.results import Keypoints
    from posekit.schemas import HAND21

    data = json.loads((ANNOTATIONS / "hand_onehand10k.json").read_text())
    for image in data["images"]:
        cv2.imwrite(str(tmp_path / image["file_name"]), np.zeros((image["height"], image["width"], 3), np.uint8))
    truth = {tuple(np.round(a["bbox"], 2)): np.array(a["keypoints"], float).reshape(21, 3) for a in data["annotations"]}
    calls = []

    def predict(image_bgr, boxes_xywh):
        calls.append(image_bgr.shape)
        gt = np.stack([truth[tuple(np.round(box.astype(float), 2))] for box in boxes_xywh])
        return Keypoints(HAND21, gt[..., :2] + 1.0, np.ones(gt.shape[:2]))  # 1 px off in x and y

    monkeypatch.setitem(dataset.TOPDOWN_PREDICTORS, "hand", lambda options: contextlib.nullcontext(predict))
    code = main(["eval", str(ANNOTATIONS / "hand_onehand10k.json"), "--images", str(tmp_path), "--json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and len(calls) == len(data["images"])
    assert (
        report["kind"] == "hand" and report["PCK@0.2"] == 1.0 and report["EPE"] == pytest.approx(np.sqrt(2), abs=1e-4)
    )
    assert report["num_hands"] == 4 and report["missed"] == 0


def test_predict_whole_body_formats(tmp_path):
    image = str(IMAGES / "000000000785.jpg")
    assert main(["predict", image, "--out", str(tmp_path / "coco"), "--whole-body", "--quiet"]) == 0
    (result,) = json.loads((tmp_path / "coco" / "coco_results.json").read_text())
    assert len(result["keypoints"]) == 133 * 3  # COCO-WholeBody results, 133 x (x, y, score)
    assert (
        main(["predict", image, "--out", str(tmp_path / "op"), "--whole-body", "--format", "openpose", "--quiet"]) == 0
    )
    (person,) = json.loads((tmp_path / "op" / "000000000785_keypoints.json").read_text())["people"]
    assert len(person["face_keypoints_2d"]) == 70 * 3 and len(person["hand_left_keypoints_2d"]) == 21 * 3
    assert any(person["face_keypoints_2d"])  # the skier's face is found
    args = [
        "predict",
        image,
        "--out",
        str(tmp_path / "jl"),
        "--whole-body",
        "--face-mesh",
        "--format",
        "jsonl",
        "--quiet",
    ]
    assert main(args) == 0
    record = json.loads((tmp_path / "jl" / "predictions.jsonl").read_text())
    assert {"face468", "face68", "wholebody133"} <= set(record["people"][0]["keypoints"])


def test_demo_video_writes_tracks_and_a_rendered_clip(tmp_path):
    assert main(["demo", "--video", "--out", str(tmp_path)]) == 0
    lines = (tmp_path / "demo_walk.jsonl").read_text().splitlines()
    assert len(lines) == 24 and json.loads(lines[0])["people"]
    assert (tmp_path / "demo_walk_pose.mp4").stat().st_size > 0


def test_predict_goes_on_past_a_tiny_image_and_broken_or_looping_links(tmp_path, capsys):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    cv2 = pytest.importorskip("cv2")
    cv2.imwrite(str(folder / "a_dot.png"), np.zeros((1, 1, 3), np.uint8))  # read before the good image
    shutil.copy(IMAGES / "000000000785.jpg", folder / "b_785.jpg")
    (folder / "c_gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (folder / "sub" / "loop").symlink_to(folder)
    out = tmp_path / "out"
    code = main(["predict", str(folder), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "a_dot.png: image of 1x1 pixels is too small to hold a person" in err
    assert "c_gone.jpg: broken symbolic link" in err and "symbolic link loop" in err
    assert "Traceback" not in err
    assert {r["image_id"] for r in json.loads((out / "coco_results.json").read_text())} == {"b_785"}


def test_eval_names_a_malformed_annotation(tmp_path, capsys):
    annotations = json.loads((ANNOTATIONS / "coco.json").read_text())
    annotations["annotations"][1]["keypoints"] = annotations["annotations"][1]["keypoints"][:10]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(annotations))
    code = main(["eval", str(bad), "--images", str(IMAGES)])
    err = capsys.readouterr().err
    assert code == 2
    wrong = annotations["annotations"][1]
    assert f"annotation {wrong['id']} (image {wrong['image_id']}): 'keypoints' has 10 values, expected 51" in err
