"""Tracking metrics: posekit's MOTA / IDF1 / ID switches against motmetrics on the same matches."""

import numpy as np
import pytest

from posekit.eval.oks import compute_oks
from posekit.eval.tracking import evaluate_tracking
from posekit.schemas import COCO17


def _person(center_x, center_y, height=100.0):
    """A standing person's COCO-17 points (a simple stick figure) around a centre."""
    offsets = (
        np.array(
            [
                [0, -45],
                [3, -48],
                [-3, -48],
                [6, -46],
                [-6, -46],
                [12, -30],
                [-12, -30],
                [15, -10],
                [-15, -10],
                [16, 8],
                [-16, 8],
                [8, 8],
                [-8, 8],
                [8, 28],
                [-8, 28],
                [8, 48],
                [-8, 48],
            ],
            dtype=float,
        )
        * height
        / 100
    )
    return offsets + [center_x, center_y]


def _sequence(seed=0, frames=30, people=4):
    """Ground truth of people walking, and predictions with noise, misses, false alarms and swaps."""
    rng = np.random.default_rng(seed)
    images, annotations, results = [], [], []
    for t in range(frames):
        images.append({"id": t + 1, "frame_index": t, "file_name": f"{t}.png"})
        for person in range(people):
            xy = _person(60 + 120 * person + 3 * t, 200 + 10 * np.sin(t / 5 + person))
            flat = np.c_[xy, np.full(17, 2.0)].ravel().tolist()
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": t + 1,
                    "category_id": 1,
                    "track_id": person,
                    "keypoints": flat,
                    "num_keypoints": 17,
                    "area": 6000.0,
                    "bbox": [0, 0, 1, 1],
                    "iscrowd": 0,
                }
            )
            if rng.random() < 0.1:
                continue  # a miss
            predicted_id = 10 + person
            if person == 1 and t >= 15:
                predicted_id = 99  # an identity switch half way
            if person == 2 and rng.random() < 0.15:
                predicted_id = 10 + 3  # occasional confusion with a neighbour
            noisy = xy + rng.normal(0, 2 + 6 * rng.random(), xy.shape)
            results.append(
                {
                    "image_id": t + 1,
                    "category_id": 1,
                    "track_id": predicted_id,
                    "score": 0.9,
                    "keypoints": np.c_[noisy, np.ones(17)].ravel().tolist(),
                }
            )
        if rng.random() < 0.2:  # a false alarm somewhere else
            far = _person(900, 100) + rng.normal(0, 3, (17, 2))
            results.append(
                {
                    "image_id": t + 1,
                    "category_id": 1,
                    "track_id": 500 + t,
                    "score": 0.5,
                    "keypoints": np.c_[far, np.ones(17)].ravel().tolist(),
                }
            )
    return {"images": images, "annotations": annotations, "categories": [{"id": 1}]}, results


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mot_metrics_equal_motmetrics(seed):
    mm = pytest.importorskip("motmetrics")
    annotations, results = _sequence(seed)
    ours = evaluate_tracking(annotations, results, COCO17.oks_sigmas())
    accumulator = mm.MOTAccumulator(auto_id=True)
    for image in annotations["images"]:
        gts = [a for a in annotations["annotations"] if a["image_id"] == image["id"]]
        dts = [r for r in results if r["image_id"] == image["id"]]
        distances = np.full((len(gts), len(dts)), np.nan)
        if gts and dts:
            oks = compute_oks(
                np.array([g["keypoints"] for g in gts]).reshape(len(gts), 17, 3),
                np.array([g["area"] for g in gts]),
                np.array([g["bbox"] for g in gts]),
                np.array([d["keypoints"] for d in dts]),
                COCO17.oks_sigmas(),
            ).T
            distances = np.where(oks >= 0.5, 1.0 - oks, np.nan)
        accumulator.update([g["track_id"] for g in gts], [d["track_id"] for d in dts], distances)
    reference = mm.metrics.create().compute(accumulator, metrics=["mota", "idf1", "num_switches"], name="seq")
    assert ours["MOTA"] == pytest.approx(float(reference["mota"].iloc[0]), abs=1e-9)
    assert ours["IDF1"] == pytest.approx(float(reference["idf1"].iloc[0]), abs=1e-9)
    assert ours["ID_switches"] == int(reference["num_switches"].iloc[0])
    assert ours["ID_switches"] >= 1  # the sequence does contain switches


def test_perfect_tracking_scores_one():
    annotations, _ = _sequence(frames=10)
    results = [
        {
            "image_id": a["image_id"],
            "category_id": 1,
            "track_id": 7 + a["track_id"],
            "score": 1.0,
            "keypoints": a["keypoints"],
        }
        for a in annotations["annotations"]
    ]
    metrics = evaluate_tracking(annotations, results, COCO17.oks_sigmas())
    assert metrics["MOTA"] == 1.0 and metrics["IDF1"] == 1.0 and metrics["ID_switches"] == 0
    assert metrics["AP"] == pytest.approx(1.0)
