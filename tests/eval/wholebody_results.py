"""Deterministic whole-body detections made from COCO-WholeBody ground truth (numpy only, so the
reference script can build the same ones next to xtcocotools)."""

from __future__ import annotations

import numpy as np

FIELDS = (("keypoints", 17), ("foot_kpts", 6), ("face_kpts", 68), ("lefthand_kpts", 21), ("righthand_kpts", 21))
PART_SCORE_KEYS = ("wholebody_score", "foot_score", "face_score", "lefthand_score", "righthand_score")


def noisy_wholebody_results(
    data: dict, sigmas: np.ndarray, noise: float, seed: int, *, with_bbox: bool, part_scores: bool
) -> list[dict]:
    """Jitter scaled by person size and sigma, missed people and parts, false positives."""
    rng = np.random.default_rng(seed)
    results = []
    for ann in data["annotations"]:
        if rng.random() < 0.15:
            continue
        scale = np.sqrt(max(ann["area"], 1.0))
        error_scale = noise * rng.uniform(0.3, 2.0)
        res: dict = {"image_id": ann["image_id"], "category_id": 1}
        start = 0
        x0, y0, w, h = ann["bbox"]
        for field, k in FIELDS:
            gt = np.array(ann[field], dtype=float).reshape(k, 3)
            labelled = gt[:, 2] > 0
            xy = gt[:, :2].copy()
            xy[~labelled] = rng.uniform([x0, y0], [x0 + w, y0 + h], ((~labelled).sum(), 2))
            xy += rng.normal(0, 1, xy.shape) * sigmas[start : start + k, None] * 2 * scale * error_scale
            conf = rng.uniform(0.05, 1.0, k)
            if field != "keypoints" and rng.random() < 0.2:
                conf[:] = 0.0  # a part the model did not find
            res[field] = np.column_stack([xy, conf]).ravel().tolist()
            start += k
        res["score"] = float(np.clip(1.0 / (1.0 + error_scale) + rng.normal(0, 0.15), 0.01, 1.0))
        if part_scores:
            for key in PART_SCORE_KEYS:
                res[key] = float(np.clip(res["score"] + rng.normal(0, 0.2), 0.01, 1.0))
        if with_bbox:
            res["bbox"] = [float(v) for v in np.array(ann["bbox"]) * rng.uniform(0.8, 1.2, 4)]
        results.append(res)
    for image in data["images"]:
        for _ in range(rng.integers(0, 3)):
            res = {"image_id": image["id"], "category_id": 1, "score": float(rng.uniform(0, 0.6))}
            for field, k in FIELDS:
                xy = rng.uniform([0, 0], [image["width"], image["height"]], (k, 2))
                res[field] = np.column_stack([xy, np.full(k, 0.5)]).ravel().tolist()
            if part_scores:
                for key in PART_SCORE_KEYS:
                    res[key] = res["score"]
            if with_bbox:
                res["bbox"] = [float(v) for v in rng.uniform(0, 200, 4)]
            results.append(res)
    return results


CASES = [
    # (noise, seed, with_bbox, part_scores)
    (0.2, 1, False, False),
    (0.5, 2, False, True),
    (1.0, 3, True, False),
    (0.4, 4, True, True),
]
