"""COCO keypoint evaluation (OKS AP / AR), posekit's own numpy implementation.

It follows the COCO protocol as the reference evaluator implements it, so the numbers match
pycocotools (a test checks equality to 1e-6 on real annotations):

* a ground-truth person is ignored when it is a crowd or has no labelled keypoint
  (``num_keypoints == 0``; counted from ``v > 0`` when the field is missing), and, per area
  range, when its area is outside the range; labelled-as-``[0, 0, 0]`` slots do not count;
* detections are ranked by ``score``, the best ``max_dets`` (20) per image are kept;
  a detection's area is computed as ``COCO.loadRes`` does: the ``bbox`` area (w*h) when the
  first result has a non-empty ``bbox``, else the extent of *all* its keypoints;
* greedy matching per image at each OKS threshold .50:.05:.95, precision made monotone and
  read at 101 recall points; areas all / medium (32²..96²) / large (96²..);
* results whose ``image_id`` is not in the annotation file are ignored (and counted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from posekit.geometry import compute_oks

_EPS = np.spacing(1)
OKS_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
AREA_RANGES = {"all": (0.0, 1e10), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}


def _keypoint_extent_area(flat_keypoints: Sequence[float]) -> float:
    xs, ys = flat_keypoints[0::3], flat_keypoints[1::3]
    return float((max(xs) - min(xs)) * (max(ys) - min(ys)))


def result_areas(results: Sequence[dict[str, Any]]) -> list[float]:
    """Each result's area as ``COCO.loadRes`` sets it (the reference evaluators use this).

    When the first result has a non-empty ``bbox``, every result's area is its box's w*h
    (loadRes takes its ``bbox`` branch); otherwise it is the extent of all ``keypoints``.
    """
    if not results:
        return []
    if results[0].get("bbox"):
        return [float(r["bbox"][2]) * float(r["bbox"][3]) for r in results]
    return [_keypoint_extent_area(r["keypoints"]) for r in results]


def _gt_is_ignored(annotation: dict[str, Any]) -> bool:
    if annotation.get("iscrowd", 0):
        return True
    num_keypoints = annotation.get("num_keypoints")
    if num_keypoints is None:
        num_keypoints = int((np.asarray(annotation.get("keypoints", []))[2::3] > 0).sum())
    return num_keypoints == 0


def _match_image(
    gts: list[dict[str, Any]], dts: list[dict[str, Any]], oks: np.ndarray, area_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy matching in one image for one area range.

    Returns ``dt_matched (t, d)`` bool, ``dt_ignored (t, d)`` bool and ``gt_ignored (g,)`` bool,
    detections in score order (as given).
    """
    low, high = area_range
    gt_ignored_raw = np.array([_gt_is_ignored(g) or not (low <= g["area"] <= high) for g in gts], dtype=bool)
    gt_order = np.argsort(gt_ignored_raw, kind="mergesort")  # ignored ground truths go last
    gt_ignored = gt_ignored_raw[gt_order]
    gt_crowd = np.array([bool(gts[i].get("iscrowd", 0)) for i in gt_order], dtype=bool)
    oks = oks[:, gt_order] if oks.size else oks
    n_thr, n_dt, n_gt = len(OKS_THRESHOLDS), len(dts), len(gts)
    dt_matched = np.zeros((n_thr, n_dt), dtype=bool)
    dt_ignored = np.zeros((n_thr, n_dt), dtype=bool)
    gt_taken = np.zeros((n_thr, n_gt), dtype=bool)
    for t, threshold in enumerate(OKS_THRESHOLDS):
        for d in range(n_dt):
            best = min(threshold, 1 - 1e-10)
            match = -1
            for g in range(n_gt):
                if gt_taken[t, g] and not gt_crowd[g]:
                    continue
                # Once matched to a real ground truth, stop at the ignored ones (sorted last).
                if match > -1 and not gt_ignored[match] and gt_ignored[g]:
                    break
                if oks[d, g] < best:
                    continue
                best = oks[d, g]
                match = g
            if match == -1:
                continue
            dt_ignored[t, d] = gt_ignored[match]
            dt_matched[t, d] = True
            gt_taken[t, match] = True
    dt_out_of_range = np.array([not (low <= d["area"] <= high) for d in dts], dtype=bool)
    dt_ignored |= ~dt_matched & dt_out_of_range[None, :]
    return dt_matched, dt_ignored, gt_ignored


def _precision_recall(
    scores: np.ndarray, dt_matched: np.ndarray, dt_ignored: np.ndarray, num_gt: int
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated precision ``(t, 101)`` and final recall ``(t,)`` over all images."""
    order = np.argsort(-scores, kind="mergesort")
    matched, ignored = dt_matched[:, order], dt_ignored[:, order]
    tp = np.cumsum(matched & ~ignored, axis=1).astype(np.float64)
    fp = np.cumsum(~matched & ~ignored, axis=1).astype(np.float64)
    precision = np.zeros((len(OKS_THRESHOLDS), len(RECALL_POINTS)))
    recall = np.zeros(len(OKS_THRESHOLDS))
    for t in range(len(OKS_THRESHOLDS)):
        if tp.shape[1] == 0:
            continue
        rc = tp[t] / num_gt
        pr = tp[t] / (fp[t] + tp[t] + _EPS)
        recall[t] = rc[-1]
        pr = np.maximum.accumulate(pr[::-1])[::-1]  # precision envelope, non-increasing
        idx = np.searchsorted(rc, RECALL_POINTS, side="left")
        valid = idx < len(pr)
        precision[t, valid] = pr[idx[valid]]
    return precision, recall


def evaluate_keypoints(
    annotations: dict[str, Any],
    results: list[dict[str, Any]],
    sigmas: np.ndarray,
    *,
    max_dets: int = 20,
) -> dict[str, float]:
    """COCO keypoint AP/AR of ``results`` against ``annotations`` (both COCO dicts/lists).

    Returns ``AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl`` (``-1`` where a range has
    no ground truth, as COCO reports) and ``ignored_results`` (results for unknown images).
    """
    areas = result_areas(results)
    return evaluate_prepared(
        annotations, [{**r, "area": a} for r, a in zip(results, areas, strict=True)], sigmas, max_dets=max_dets
    )


def evaluate_prepared(
    annotations: dict[str, Any],
    results: list[dict[str, Any]],
    sigmas: np.ndarray,
    *,
    max_dets: int = 20,
) -> dict[str, float]:
    """:func:`evaluate_keypoints` for results that already carry their ``area``.

    Ground truths are ignored by their ``num_keypoints`` (counted from ``v > 0`` when absent);
    callers that score one part of a layout (COCO-WholeBody) set both per part.
    """
    image_ids = sorted(
        {int(i["id"]) if isinstance(i["id"], int | np.integer) else i["id"] for i in annotations["images"]},
        key=lambda v: (str(type(v)), v),
    )
    known = set(image_ids)
    category_ids = sorted({c["id"] for c in annotations.get("categories", [])}) or [1]
    gts_by: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for ann in annotations["annotations"]:
        gts_by[ann["image_id"], ann["category_id"]].append(ann)
    dts_by: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    ignored_results = 0
    for res in results:
        if res["image_id"] not in known:
            ignored_results += 1
            continue
        dts_by[res["image_id"], res["category_id"]].append(res)

    area_names = list(AREA_RANGES)
    precision = -np.ones((len(OKS_THRESHOLDS), len(RECALL_POINTS), len(category_ids), len(area_names)))
    recall = -np.ones((len(OKS_THRESHOLDS), len(category_ids), len(area_names)))
    for c, category in enumerate(category_ids):
        per_image = [
            _image_oks(gts_by.get((image_id, category), []), dts_by.get((image_id, category), []), sigmas, max_dets)
            for image_id in image_ids
        ]
        per_image = [entry for entry in per_image if entry[0] or entry[1]]
        for a, name in enumerate(area_names):
            curve = _area_curve(per_image, AREA_RANGES[name])
            if curve is not None:
                precision[:, :, c, a], recall[:, c, a] = curve
    return _summary(precision, recall, area_names) | {"ignored_results": float(ignored_results)}


_ImageOks = tuple[list[dict[str, Any]], list[dict[str, Any]], np.ndarray]


def _image_oks(gts: list[dict[str, Any]], dts: list[dict[str, Any]], sigmas: np.ndarray, max_dets: int) -> _ImageOks:
    """One image's ground truths, its best ``max_dets`` detections by score, and their OKS ``(d, g)``."""
    order = np.argsort([-d["score"] for d in dts], kind="mergesort")[:max_dets]
    dts = [dts[i] for i in order]
    return gts, dts, entries_oks(gts, dts, sigmas)


def entries_oks(gts: list[dict[str, Any]], dts: list[dict[str, Any]], sigmas: np.ndarray) -> np.ndarray:
    """OKS ``(d, g)`` between COCO results entries and annotations (zeros when either is empty)."""
    if not gts or not dts:
        return np.zeros((len(dts), len(gts)))
    return compute_oks(
        np.array([g["keypoints"] for g in gts], dtype=np.float64).reshape(len(gts), -1, 3),
        np.array([g["area"] for g in gts], dtype=np.float64),
        np.array([g["bbox"] for g in gts], dtype=np.float64),
        np.array([d["keypoints"] for d in dts], dtype=np.float64),
        sigmas,
    )


def _area_curve(per_image: list[_ImageOks], area_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray] | None:
    """Precision ``(t, r)`` and recall ``(t,)`` over all images for one area range (None: no ground truth)."""
    matched, ignored, scores, num_gt = [], [], [], 0
    for gts, dts, oks in per_image:
        dt_matched, dt_ignored, gt_ignored = _match_image(gts, dts, oks, area_range)
        matched.append(dt_matched)
        ignored.append(dt_ignored)
        scores.append(np.array([d["score"] for d in dts], dtype=np.float64))
        num_gt += int((~gt_ignored).sum())
    if num_gt == 0:
        return None
    empty = np.zeros((len(OKS_THRESHOLDS), 0), dtype=bool)
    return _precision_recall(
        np.concatenate(scores) if scores else np.zeros(0),
        np.concatenate(matched, axis=1) if matched else empty,
        np.concatenate(ignored, axis=1) if ignored else empty,
        num_gt,
    )


def _summary(precision: np.ndarray, recall: np.ndarray, area_names: list[str]) -> dict[str, float]:
    def mean_valid(values: np.ndarray) -> float:
        valid = values[values > -1]
        return float(valid.mean()) if valid.size else -1.0

    at50, at75 = 0, 5
    all_, medium, large = (area_names.index(n) for n in ("all", "medium", "large"))
    return {
        "AP": mean_valid(precision[:, :, :, all_]),
        "AP50": mean_valid(precision[at50, :, :, all_]),
        "AP75": mean_valid(precision[at75, :, :, all_]),
        "APm": mean_valid(precision[:, :, :, medium]),
        "APl": mean_valid(precision[:, :, :, large]),
        "AR": mean_valid(recall[:, :, all_]),
        "AR50": mean_valid(recall[at50, :, all_]),
        "AR75": mean_valid(recall[at75, :, all_]),
        "ARm": mean_valid(recall[:, :, medium]),
        "ARl": mean_valid(recall[:, :, large]),
    }
