"""Model maths without weights (fake runtimes), and the vendored model manifest."""

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from posekit.detect.blazepose_detector import BlazePoseDetector
from posekit.detect.movenet import MoveNetMultiPose
from posekit.detect.ssd import ssd_anchor_centers
from posekit.geometry import (
    RotatedRect,
    apply_affine,
    crop_rect,
    letterbox,
    rect_corners,
    rect_from_alignment_points,
)
from posekit.models import MODELS_DIR, manifest, model_path
from posekit.schemas import COCO17


class FakeRuntime:
    """Returns canned outputs; records what it was given."""

    def __init__(self, input_shape, outputs):
        self.input_shapes = [input_shape]
        self.outputs = outputs
        self.inputs = []

    def run(self, inputs):
        self.inputs.append(inputs)
        return self.outputs


def test_blazepose_anchor_layout():
    anchors = ssd_anchor_centers(224, (8, 16, 32, 32, 32))
    assert anchors.shape == (2254, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7])


def test_letterbox_maps_back():
    image = np.zeros((100, 300, 3), np.uint8)
    boxed, box = letterbox(image, 256)
    assert boxed.shape == (256, 256, 3)
    corner = np.array([[300 * box.scale + box.pad_x, 100 * box.scale + box.pad_y]])
    np.testing.assert_allclose(box.to_image(corner), [[300, 100]], atol=1e-4)


def test_upright_alignment_has_no_rotation_and_lying_person_turns_90():
    upright = rect_from_alignment_points(np.array([100.0, 200.0]), np.array([100.0, 100.0]))
    assert upright.angle_rad == pytest.approx(0.0) and upright.width == pytest.approx(200.0)
    lying = rect_from_alignment_points(np.array([100.0, 200.0]), np.array([200.0, 200.0]))
    assert lying.angle_rad == pytest.approx(math.pi / 2)
    # The crop's top edge (the head side) must lie towards the scale point (image right).
    top_mid = rect_corners(lying)[:2].mean(axis=0)
    assert top_mid[0] > 190


def test_crop_rect_affine_round_trip():
    image = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    rect = RotatedRect(150, 100, 80, 80, 0.3)
    crop, crop_to_image = crop_rect(image, rect, 64)
    assert crop.shape == (64, 64, 3)
    centre = apply_affine(np.array([[32.0, 32.0]]), crop_to_image)
    np.testing.assert_allclose(centre, [[150, 100]], atol=1e-3)


def test_blazepose_detector_decodes_a_box_at_its_anchor():
    anchors = ssd_anchor_centers(224, (8, 16, 32, 32, 32))
    regressors = np.zeros((1, 2254, 12), np.float32)
    logits = np.full((1, 2254, 1), -10.0, np.float32)
    best = 1000
    regressors[0, best, 2:4] = 56  # a 56 px box in the 224 input
    regressors[0, best, 6:8] = [0, -40]  # keypoint 1 above keypoint 0 (upright)
    logits[0, best, 0] = 5.0
    detector = BlazePoseDetector(FakeRuntime((1, 224, 224, 3), [regressors, logits]))
    found = detector(np.zeros((224, 224, 3), np.uint8))
    assert len(found.scores) == 1 and found.scores[0] == pytest.approx(1 / (1 + math.exp(-5)), rel=1e-5)
    centre = anchors[best] * 224
    np.testing.assert_allclose((found.boxes_xyxy[0, :2] + found.boxes_xyxy[0, 2:]) / 2, centre, atol=1e-3)
    assert found.rois[0].angle_rad == pytest.approx(0.0, abs=1e-6)
    assert found.rois[0].width == pytest.approx(2 * 40 * 1.25, rel=1e-5)


def test_movenet_multipose_decodes_yx_order_and_filters_scores():
    raw = np.zeros((1, 6, 56), np.float32)
    raw[0, 0, :51] = np.tile([0.25, 0.75, 0.9], 17)  # y, x, score
    raw[0, 0, 51:56] = [0.1, 0.2, 0.5, 0.6, 0.8]  # ymin, xmin, ymax, xmax, score
    raw[0, 1, 55] = 0.01  # below min_score
    detector = MoveNetMultiPose(FakeRuntime((1, 256, 256, 3), [raw]), min_score=0.1)
    found = detector(np.zeros((256, 256, 3), np.uint8))
    assert len(found) == 1
    np.testing.assert_allclose(found.coco17_xy[0, 0], [0.75 * 256, 0.25 * 256], atol=1e-3)
    np.testing.assert_allclose(found.boxes_xyxy[0], [0.2 * 256, 0.1 * 256, 0.6 * 256, 0.5 * 256], atol=1e-3)


def test_vendored_models_match_manifest():
    entries = manifest()
    assert {"pose_detection.tflite", "pose_landmark_full.tflite", "movenet_multipose_lightning.tflite"} <= set(entries)
    for name, entry in entries.items():
        path = model_path(name)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], name
        assert entry["licence"] == "Apache-2.0" and entry["origin"]["version"]
    assert (MODELS_DIR / "NOTICE").exists()


def test_size_switched_keypoint_model_uses_lightning_for_small_crops_and_thunder_for_large():
    import cv2

    from posekit.landmarks.movenet_single import MoveNetSinglePose, SizeSwitchedSinglePose
    from posekit.runtime import LiteRTRuntime

    lightning = MoveNetSinglePose(LiteRTRuntime(model_path("movenet_singlepose_lightning.tflite"), 2))
    thunder = MoveNetSinglePose(LiteRTRuntime(model_path("movenet_singlepose_thunder.tflite"), 2))
    switched = SizeSwitchedSinglePose(lightning, thunder, max_large=2)
    image = cv2.cvtColor(cv2.imread(str(Path(__file__).parent / "data/images/000000000785.jpg")), cv2.COLOR_BGR2RGB)
    person = np.array([[280.0, 44.0, 500.0, 392.0]], np.float32)  # the labelled skier, 348 px tall: crop 435 px
    small = person / 4  # the same picture at a quarter size: crop 109 px
    image_small = cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    cases = ((thunder, lightning, image, person), (lightning, thunder, image_small, small))
    for picked, other, img, box in cases:
        xy, confidence = switched.in_boxes(img, box)
        expected_xy, expected_conf = picked.in_boxes(img, box)
        np.testing.assert_array_equal(xy, expected_xy)
        np.testing.assert_array_equal(confidence, expected_conf)
        assert not np.array_equal(xy, other.in_boxes(img, box)[0])
    # At most max_large people per image get the large model: the largest ones.
    crowd = np.concatenate([person * 0.9, person, small, person * 0.95])
    assert switched.uses_large(crowd).tolist() == [False, True, False, True]
    assert switched.in_boxes(image, crowd)[0].shape == (4, 17, 2)
    # A crop enlarged past what its person shows (reaching down to hidden legs) is sized by what they show.
    pair = np.concatenate([person, person])
    xy, _ = switched.in_boxes(image, pair, sizing_boxes_xyxy=np.concatenate([small, person]))
    np.testing.assert_array_equal(xy[0], lightning.in_boxes(image, person)[0][0])
    np.testing.assert_array_equal(xy[1], thunder.in_boxes(image, person)[0][0])
    assert switched.in_boxes(image, np.zeros((0, 4)))[0].shape == (0, 17, 2)


def test_size_switched_keypoint_model_reads_a_person_alone_with_thunder_at_192():
    import cv2

    from posekit.geometry import compute_oks
    from posekit.landmarks.movenet_single import MoveNetSinglePose, SizeSwitchedSinglePose
    from posekit.runtime import LiteRTRuntime

    def model(name: str) -> MoveNetSinglePose:
        return MoveNetSinglePose(LiteRTRuntime(model_path(name), 2))

    lightning, thunder = model("movenet_singlepose_lightning.tflite"), model("movenet_singlepose_thunder.tflite")
    alone = model("movenet_singlepose_thunder_192.tflite")
    assert alone.input_size == 192
    switched = SizeSwitchedSinglePose(lightning, thunder, alone=alone)
    image = cv2.cvtColor(cv2.imread(str(Path(__file__).parent / "data/images/000000000785.jpg")), cv2.COLOR_BGR2RGB)
    person = np.array([[280.0, 44.0, 500.0, 392.0]], np.float32)  # the labelled skier
    xy, confidence = switched.in_boxes(image, person)
    np.testing.assert_array_equal(xy, alone.in_boxes(image, person)[0])
    # The rebuilt graph reads the skier as Thunder does: the size rewrite kept the decoding right.
    annotations = json.loads((Path(__file__).parent / "data/annotations/coco.json").read_text())
    (image_id,) = [i["id"] for i in annotations["images"] if i["file_name"] == "000000000785.jpg"]
    (label,) = [a for a in annotations["annotations"] if a["image_id"] == image_id and a["num_keypoints"]]
    truth = np.array(label["keypoints"], float).reshape(1, 17, 3)
    found = np.concatenate([xy, np.ones((1, 17, 1))], axis=2)
    sigmas = COCO17.oks_sigmas()
    assert compute_oks(truth, np.array([label["area"]]), np.zeros((1, 4)), found, sigmas)[0, 0] > 0.9
    assert confidence.mean() > 0.5
    # Among others (or one box re-read out of several) the size rule applies.
    np.testing.assert_array_equal(
        switched.in_boxes(image, person, people_in_image=2)[0], thunder.in_boxes(image, person)[0]
    )
    two = np.concatenate([person, person / 4])
    np.testing.assert_array_equal(switched.in_boxes(image, two)[0][0], thunder.in_boxes(image, person)[0][0])
