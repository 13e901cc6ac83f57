"""posekit's OKS evaluation against pycocotools on real annotations."""

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest

from posekit.eval.oks import evaluate_keypoints
from posekit.geometry import compute_oks, pose_oks
from posekit.schemas import COCO17

ANNOTATIONS = Path(__file__).parents[1] / "data" / "annotations"
SOURCES = ["coco", "crowdpose", "ochuman", "mpii"]
KEYS = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


def load(source: str) -> dict:
    return json.loads((ANNOTATIONS / f"{source}.json").read_text())


def pooled() -> dict:
    images, anns = [], []
    for n, source in enumerate(SOURCES):
        data = load(source)
        offset = (n + 1) * 10**9
        images += [{**im, "id": im["id"] + offset} for im in data["images"]]
        anns += [
            {**a, "image_id": a["image_id"] + offset, "id": len(anns) + i + 1}
            for i, a in enumerate(data["annotations"])
        ]
    return {"images": images, "annotations": anns, "categories": load("coco")["categories"][:1]}


def noisy_results(data: dict, noise: float, seed: int) -> list[dict]:
    """Detections built from the ground truth: jitter scaled by person size and keypoint sigma,
    dropped points, missed people, false positives and scores that only loosely track quality."""
    rng = np.random.default_rng(seed)
    results = []
    for ann in data["annotations"]:
        if rng.random() < 0.15:
            continue  # missed person
        gt = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)
        labelled = gt[:, 2] > 0
        scale = np.sqrt(max(ann["area"], 1.0))
        xy = gt[:, :2].copy()
        centre = xy[labelled].mean(axis=0) if labelled.any() else np.array(ann["bbox"][:2]) + 10
        xy[~labelled] = centre + rng.normal(0, 0.2 * scale, ((~labelled).sum(), 2))
        error_scale = noise * rng.uniform(0.3, 2.0)
        xy += rng.normal(0, 1, xy.shape) * COCO17.sigmas[:, None] * 2 * scale * error_scale
        conf = rng.uniform(0.2, 1.0, len(gt))
        score = float(np.clip(1.0 / (1.0 + error_scale) + rng.normal(0, 0.15), 0.01, 1.0))
        results.append(
            {
                "image_id": ann["image_id"],
                "category_id": 1,
                "keypoints": np.column_stack([xy, conf]).ravel().tolist(),
                "score": score,
            }
        )
    for image in data["images"]:
        for _ in range(rng.integers(0, 3)):  # false positives at random places
            w, h = image["width"], image["height"]
            xy = rng.uniform([0, 0], [w, h], (17, 2))
            results.append(
                {
                    "image_id": image["id"],
                    "category_id": 1,
                    "keypoints": np.column_stack([xy, np.full(17, 0.5)]).ravel().tolist(),
                    "score": float(rng.uniform(0, 0.6)),
                }
            )
    return results


def pycocotools_stats(data: dict, results: list[dict]) -> dict:
    coco_mod = pytest.importorskip("pycocotools.coco")
    eval_mod = pytest.importorskip("pycocotools.cocoeval")
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_mod.COCO()
        gt.dataset = copy.deepcopy(data)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
        ev = eval_mod.COCOeval(gt, dt, "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(KEYS, ev.stats, strict=True))


@pytest.mark.parametrize("noise", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("source", SOURCES + ["pooled"])
def test_equals_pycocotools(source, noise):
    data = pooled() if source == "pooled" else load(source)
    results = noisy_results(data, noise, seed=(SOURCES + ["pooled"]).index(source) * 10 + int(noise * 10))
    ours = evaluate_keypoints(data, results, COCO17.sigmas)
    reference = pycocotools_stats(data, results)
    for key in KEYS:
        assert ours[key] == pytest.approx(reference[key], abs=1e-6), key
    if source == "pooled" and noise == 1.0:
        assert 0.05 < ours["AP"] < 0.95  # a range where ranking and matching matter


def test_empty_results_score_zero():
    data = load("coco")
    metrics = evaluate_keypoints(data, [], COCO17.sigmas)
    assert metrics["AP"] == 0.0 and metrics["AR"] == 0.0


def test_results_for_unknown_images_are_ignored_and_counted():
    data = load("coco")
    results = noisy_results(data, 0.5, seed=1)
    extra = [{**results[0], "image_id": 123456789}]
    assert evaluate_keypoints(data, results + extra, COCO17.sigmas)["ignored_results"] == 1
    assert (
        evaluate_keypoints(data, results + extra, COCO17.sigmas)["AP"]
        == evaluate_keypoints(data, results, COCO17.sigmas)["AP"]
    )


def _gt(ann: dict) -> tuple:
    return (np.array(ann["keypoints"], float).reshape(1, -1, 3), np.array([ann["area"]]), np.array([ann["bbox"]]))


def test_oks_of_perfect_prediction_is_one_and_ignores_unlabelled_points():
    ann = next(a for a in load("mpii")["annotations"])  # MPII: face slots are [0, 0, 0]
    gt_kp, area, box = _gt(ann)
    pred = gt_kp.copy()
    pred[0, :5, :2] = 1e6  # wild guesses at the unlabelled face points change nothing
    assert compute_oks(gt_kp, area, box, pred, COCO17.sigmas)[0, 0] == pytest.approx(1.0)


def test_oks_falls_with_distance():
    ann = load("coco")["annotations"][0]
    gt_kp, area, box = _gt(ann)
    shifts = [0.0, 5.0, 20.0, 500.0]
    preds = np.concatenate([gt_kp + np.array([s, 0, 0]) for s in shifts])
    oks = compute_oks(gt_kp, area, box, preds, COCO17.sigmas)[:, 0]
    assert np.all(np.diff(oks) < 0) and oks[-1] < 1e-3


@pytest.mark.parametrize("source", SOURCES)
def test_results_with_boxes_take_their_area_from_the_box_as_pycocotools(source):
    """posekit's own results carry ``bbox``; COCO.loadRes then sets each area from the box, which
    moves detections between the medium and large ranges."""
    data = load(source)
    rng = np.random.default_rng(7)
    results = noisy_results(data, 0.5, seed=3)
    for r in results:
        xy = np.array(r["keypoints"]).reshape(-1, 3)[:, :2]
        x0, y0 = xy.min(axis=0)
        w, h = (xy.max(axis=0) - xy.min(axis=0)) * rng.uniform(0.3, 2.5, 2)
        r["bbox"] = [float(x0), float(y0), float(w), float(h)]
    ours = evaluate_keypoints(data, results, COCO17.sigmas)
    reference = pycocotools_stats(data, results)
    for key in KEYS:
        assert ours[key] == pytest.approx(reference[key], abs=1e-6), key


def test_pose_oks_compares_poses_with_confident_reference_points_only():
    rng = np.random.default_rng(0)
    reference = rng.uniform(100, 300, (1, 17, 2))
    boxes = np.array([[100.0, 100.0, 300.0, 300.0]])
    confident = np.ones((1, 17))
    shifted = reference + 15.0
    half_wrong = reference.copy()
    half_wrong[0, 9:] += 200.0
    oks = pose_oks(
        reference, confident, boxes, np.concatenate([reference, shifted, half_wrong]), COCO17.oks_sigmas(), 0.3
    )
    assert oks.shape == (1, 3)
    assert oks[0, 0] == pytest.approx(1.0) and 0.0 < oks[0, 1] < 1.0 and oks[0, 2] < 0.6
    # Points the reference is unsure of do not count: the wrong half is then not compared.
    unsure_back = confident.copy()
    unsure_back[0, 9:] = 0.1
    assert pose_oks(reference, unsure_back, boxes, half_wrong, COCO17.oks_sigmas(), 0.3)[0, 0] == pytest.approx(1.0)
