"""Hand PCK / EPE and face NME on the real FreiHAND, OneHand10K, 300W and WFLW labels."""

import json

import numpy as np
import pytest

from posekit.eval.files import evaluate_file
from posekit.eval.landmarks import hand_file_schema
from posekit.schemas import CONVERSIONS, HAND21, HAND21_TIP_FIRST
from tests.builders import TIP_FIRST, tip_first
from tests.conftest import ANNOTATIONS


def load(name: str) -> dict:
    return json.loads((ANNOTATIONS / f"{name}.json").read_text())


def from_gt(data: dict, shift=lambda ann, xy: xy, *, with_ids: bool = True, k: int | None = None) -> list[dict]:
    """Predictions made from the ground truth, optionally moved by ``shift(ann, xy)``."""
    results = []
    for ann in data["annotations"]:
        gt = np.array(ann["keypoints"], float).reshape(-1, 3)
        if k == 68 and gt.shape[0] == 98:
            gt = gt[[i for ((i, _),) in CONVERSIONS[("wflw98", "face68")].sources]]
        xy = shift(ann, gt[:, :2].copy())
        res = {"image_id": ann["image_id"], "category_id": 1, "bbox": ann["bbox"], "score": 1.0}
        res["keypoints"] = np.column_stack([xy, np.ones(len(xy))]).ravel().tolist()
        if with_ids:
            res["annotation_id"] = ann["id"]
        results.append(res)
    return results


@pytest.mark.parametrize("name", ["hand_freihand", "hand_onehand10k"])
@pytest.mark.parametrize("with_ids", [True, False])
def test_perfect_hands(name, with_ids):
    data = load(name)
    metrics = evaluate_file(data, from_gt(data, with_ids=with_ids))
    assert metrics["PCK@0.2"] == 1.0 and metrics["EPE"] == 0.0
    assert metrics["num_hands"] == len(data["annotations"]) and metrics["missed"] == 0


@pytest.mark.parametrize("name", ["hand_freihand", "hand_onehand10k"])
def test_hands_with_known_errors(name):
    data = load(name)

    def size(ann):
        return max(ann["bbox"][2], ann["bbox"][3])

    # Every point 0.1 box sizes off (correct at 0.2), EPE exactly that distance.
    small = evaluate_file(data, from_gt(data, lambda a, xy: xy + [0.06 * size(a), 0.08 * size(a)]))
    assert small["PCK@0.2"] == 1.0
    labelled = [np.array(a["keypoints"])[2::3] > 0 for a in data["annotations"]]
    expected_epe = np.concatenate(
        [np.full(m.sum(), 0.1 * size(a)) for a, m in zip(data["annotations"], labelled, strict=True)]
    )
    assert small["EPE"] == pytest.approx(expected_epe.mean())

    # Thumb and index (points 0..8) 0.3 box sizes off: wrong; the other 12 points right.
    def far(ann, xy):
        xy[:9] += [0.0, 0.3 * size(ann)]
        return xy

    half = evaluate_file(data, from_gt(data, far))
    counted = np.sum(labelled, axis=0)
    assert half["PCK@0.2"] == pytest.approx(np.sum(counted[9:] > 0) / np.sum(counted > 0))

    missing_one = evaluate_file(data, from_gt(data)[1:])
    assert missing_one["missed"] == 1 and missing_one["PCK@0.2"] < 1.0 and missing_one["EPE"] == 0.0


def test_perfect_and_shifted_faces_300w():
    data = load("face_300w")
    assert evaluate_file(data, from_gt(data)) == {"NME": 0.0, "num_faces": 2.0, "missed": 0.0, "nme_points": 68.0}
    shifted = evaluate_file(data, from_gt(data, lambda a, xy: xy + [3.0, 4.0]))  # 5 px everywhere
    iod = [
        np.linalg.norm(np.subtract(*np.array(a["keypoints"]).reshape(68, 3)[[36, 45], :2])) for a in data["annotations"]
    ]
    assert shifted["NME"] == pytest.approx(np.mean([5.0 / d for d in iod]))


def test_wflw_scores_98_points_or_the_68_point_subset():
    data = load("face_wflw")
    assert evaluate_file(data, from_gt(data))["NME"] == 0.0
    assert evaluate_file(data, from_gt(data, k=68)) == {"NME": 0.0, "num_faces": 4.0, "missed": 0.0, "nme_points": 68.0}
    iod = [
        np.linalg.norm(np.subtract(*np.array(a["keypoints"]).reshape(98, 3)[[60, 72], :2])) for a in data["annotations"]
    ]
    expected = np.mean([5.0 / d for d in iod])
    assert evaluate_file(data, from_gt(data, lambda a, xy: xy + [3.0, 4.0]))["NME"] == pytest.approx(expected)
    assert evaluate_file(data, from_gt(data, lambda a, xy: xy + [3.0, 4.0], k=68))["NME"] == pytest.approx(expected)


def test_face_results_of_the_wrong_size_are_refused():
    data = load("face_300w")
    results = from_gt(data)
    for r in results:
        r["keypoints"] = r["keypoints"][:51]
    with pytest.raises(ValueError):
        evaluate_file(data, results)


def test_tip_first_is_its_own_inverse_and_keeps_the_wrist_links():
    assert TIP_FIRST[:5] == [0, 4, 3, 2, 1] and [TIP_FIRST[i] for i in TIP_FIRST] == list(range(21))
    wrist_links = {b for a, b in HAND21_TIP_FIRST.edges if a == 0}
    assert wrist_links == {4, 8, 20}  # thumb, index and pinky bases (middle and ring join the palm)


@pytest.mark.parametrize("name", ["hand_freihand", "hand_onehand10k"])
def test_hand_file_schema_reads_the_finger_order_from_the_labels(name):
    data = load(name)
    assert hand_file_schema(data) is HAND21
    assert hand_file_schema(tip_first(data)) is HAND21_TIP_FIRST
    assert hand_file_schema(tip_first(data, nested=True)) is HAND21_TIP_FIRST


def test_nested_points_are_scored_as_flat_ones():
    data = load("hand_onehand10k")
    nested = tip_first(tip_first(data), nested=True)  # base-first again, as [[x, y, v], ...]
    metrics = evaluate_file(nested, from_gt(data))
    assert metrics["PCK@0.2"] == 1.0 and metrics["num_hands"] == len(data["annotations"])
