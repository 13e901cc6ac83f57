"""COCO-WholeBody evaluation against xtcocotools' numbers on real annotations."""

import json

import numpy as np
import pytest

from posekit.eval.files import annotation_kind, evaluate_file
from posekit.eval.oks import evaluate_keypoints
from posekit.eval.wholebody import PART_KEYS, evaluate_wholebody
from posekit.schemas import COCO17, WHOLEBODY133
from tests.conftest import ANNOTATIONS, DATA
from tests.eval.wholebody_results import FIELDS, noisy_wholebody_results

REFERENCE = json.loads((DATA / "reference" / "xtcocotools_wholebody.json").read_text())
KEYS = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


def load(name: str) -> dict:
    return json.loads((ANNOTATIONS / f"{name}.json").read_text())


def test_reference_was_made_with_our_sigmas():
    stored = json.loads((DATA / "reference" / "wholebody133_sigmas.json").read_text())
    np.testing.assert_array_equal(stored, WHOLEBODY133.sigmas)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: "-".join(map(str, c["case"])))
def test_equals_xtcocotools(case):
    """Stored numbers of xtcocotools 1.14.3 (tools/xtcocotools_reference.py) on the same results:
    whole body and every part, all ten AP/AR numbers, with and without boxes and part scores."""
    noise, seed, with_bbox, part_scores = case["case"]
    data = load("coco_wholebody")
    results = noisy_wholebody_results(
        data, WHOLEBODY133.sigmas, noise, seed, with_bbox=with_bbox, part_scores=part_scores
    )
    ours = evaluate_wholebody(data, results)
    for part, reference in case["metrics"].items():
        for key in KEYS:
            assert ours[part][key] == pytest.approx(reference[key], abs=1e-9), (part, key)
    assert 0.1 < ours["wholebody"]["AP"] < 0.95  # a range where ranking and matching matter


def test_equals_xtcocotools_live():
    """The same comparison run live, where xtcocotools is installed (it is not a dependency)."""
    coco_mod = pytest.importorskip("xtcocotools.coco")
    eval_mod = pytest.importorskip("xtcocotools.cocoeval")
    import contextlib
    import copy
    import io

    data = load("coco_wholebody")
    results = noisy_wholebody_results(data, WHOLEBODY133.sigmas, 0.4, 9, with_bbox=False, part_scores=True)
    ours = evaluate_wholebody(data, results)
    cuts = {"body": 17, "foot": 6, "face": 68, "lefthand": 21, "righthand": 21}
    starts = np.cumsum([0] + list(cuts.values()))
    for part in PART_KEYS:
        sl = (
            slice(0, 133)
            if part == "wholebody"
            else slice(starts[list(cuts).index(part)], starts[list(cuts).index(part) + 1])
        )
        with contextlib.redirect_stdout(io.StringIO()):
            gt = coco_mod.COCO()
            gt.dataset = copy.deepcopy(data)
            gt.createIndex()
            ev = eval_mod.COCOeval(
                gt, gt.loadRes(copy.deepcopy(results)), "keypoints_" + part, WHOLEBODY133.sigmas[sl], use_area=True
            )
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        for key, value in zip(KEYS, ev.stats, strict=True):
            assert ours[part][key] == pytest.approx(value, abs=1e-9), (part, key)


def perfect_results(data: dict) -> list[dict]:
    """The ground truth as predictions: labelled points at their place with score 1, the rest
    not found (score 0), one result per labelled person."""
    results = []
    for ann in data["annotations"]:
        if ann.get("num_keypoints", 0) == 0 and not any(
            ann[f"{p}_valid"] for p in ("face", "foot", "lefthand", "righthand")
        ):
            continue
        res = {"image_id": ann["image_id"], "category_id": 1, "score": 1.0}
        for field, k in FIELDS:
            gt = np.array(ann[field], float).reshape(k, 3)
            res[field] = np.column_stack([gt[:, :2], (gt[:, 2] > 0).astype(float)]).ravel().tolist()
        results.append(res)
    return results


def test_perfect_predictions_score_one_everywhere():
    data = load("coco_wholebody")
    metrics = evaluate_file(data, perfect_results(data))
    for part in PART_KEYS:
        assert metrics[f"{part}_AP"] == pytest.approx(1.0) and metrics[f"{part}_AR"] == pytest.approx(1.0), part
    assert metrics["AP"] == metrics["wholebody_AP"]


def test_133_points_in_keypoints_score_like_the_split_fields():
    data = load("coco_wholebody")
    split = noisy_wholebody_results(data, WHOLEBODY133.sigmas, 0.4, 5, with_bbox=True, part_scores=False)
    joined = [
        {**{k: v for k, v in r.items() if k not in dict(FIELDS)}, "keypoints": [x for f, _ in FIELDS for x in r[f]]}
        for r in split
    ]
    assert evaluate_wholebody(data, joined) == evaluate_wholebody(data, split)


def test_a_shift_of_the_face_lowers_only_the_face_and_whole_body():
    data = load("coco_wholebody")
    results = perfect_results(data)
    for r in results:
        face = np.array(r["face_kpts"]).reshape(68, 3)
        face[:, 0] += 4.0  # 4 px: large for face sigmas, nothing for a body
        r["face_kpts"] = face.ravel().tolist()
    metrics = evaluate_file(data, results)
    assert metrics["body_AP"] == pytest.approx(1.0) and metrics["lefthand_AP"] == pytest.approx(1.0)
    assert metrics["face_AP"] < 0.9 and metrics["wholebody_AP"] < 1.0


def test_kinds_are_read_from_the_files():
    kinds = {
        name: annotation_kind(load(name))
        for name in ("coco", "crowdpose", "mpii", "coco_wholebody", "halpe", "hand_freihand", "face_300w", "face_wflw")
    }
    assert kinds == {
        "coco": "body",
        "crowdpose": "body",
        "mpii": "body",
        "coco_wholebody": "wholebody",
        "halpe": "body",  # its 'keypoints' are COCO-17; Halpe-136 lives in 'native_keypoints'
        "hand_freihand": "hand",
        "face_300w": "face",
        "face_wflw": "face",
    }


def test_body_files_report_the_same_numbers_as_before():
    data = load("coco")
    results = perfect_results_body(data)
    assert evaluate_file(data, results) == {
        k: v
        for k, v in evaluate_keypoints(data, results, COCO17.sigmas).items()
        if k in ("AP", "AP50", "AP75", "APm", "APl", "AR")
    }


def perfect_results_body(data: dict) -> list[dict]:
    return [
        {"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
        for a in data["annotations"]
        if a.get("num_keypoints", 0) > 0
    ]
