"""Tracking evaluation: CLEAR MOT (MOTA, ID switches) and IDF1, matching people by OKS.

The ground truth is a COCO keypoint file whose images are the frames of one sequence and whose
annotations carry a ``track_id``. Frame order is each image's ``frame_index`` (or ``frame_id``)
when given, else the order of ``id``. A predicted person matches a labelled one when their OKS
is at least ``oks_threshold`` (0.5); within a frame the matching is optimal (max total OKS).

* MOTA = 1 - (misses + false positives + ID switches) / labelled people (CLEAR MOT).
* An ID switch: a labelled track matched to a different predicted id than at its last match.
* IDF1 = 2 IDTP / (labelled + predicted), where IDTP counts frames in which each labelled track
  and the predicted id it is globally assigned to (one-to-one, max total) match by OKS
  (Ristani et al., 2016).
* Keypoint AP: COCO keypoint AP over all frames pooled, as PoseTrack's per-frame mAP does.

MOTA, IDF1 and ID switches equal motmetrics' on the same OKS matches (tests check it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from posekit.eval.oks import entries_oks, evaluate_keypoints
from posekit.track.assignment import match


def ordered_frames(annotations: dict[str, Any]) -> list[dict[str, Any]]:
    """The annotation file's images in frame order."""

    def key(image: dict[str, Any]) -> tuple[int, Any]:
        for name in ("frame_index", "frame_id"):
            if name in image:
                return (0, int(image[name]))
        return (1, image["id"])

    return sorted(annotations["images"], key=key)


def _labelled(annotation: dict[str, Any]) -> bool:
    return int(annotation.get("num_keypoints", 1)) > 0 and not annotation.get("iscrowd", 0)


def evaluate_tracking(
    annotations: dict[str, Any],
    results: Sequence[dict[str, Any]],
    sigmas: np.ndarray,
    *,
    oks_threshold: float = 0.5,
) -> dict[str, float]:
    """MOT metrics and keypoint AP of COCO results entries that carry ``track_id``.

    Returns ``MOTA, IDF1, ID_switches, misses, false_positives, num_labelled, num_predicted,
    num_gt_tracks, num_pred_tracks`` plus the keypoint ``AP, AP50, AP75, AR``.
    """
    gts_by_image = _by_image(a for a in annotations["annotations"] if _labelled(a))
    dts_by_image = _by_image(results)

    misses = false_positives = switches = labelled = predicted = 0
    last_match: dict[Any, Any] = {}
    co_matched: dict[tuple[Any, Any], int] = defaultdict(int)
    gt_frames: dict[Any, int] = defaultdict(int)
    pred_frames: dict[Any, int] = defaultdict(int)
    for image in ordered_frames(annotations):
        gts, dts = gts_by_image.get(image["id"], []), dts_by_image.get(image["id"], [])
        labelled += len(gts)
        predicted += len(dts)
        for g in gts:
            gt_frames[g["track_id"]] += 1
        for d in dts:
            pred_frames[d.get("track_id")] += 1
        if not gts or not dts:
            misses += len(gts)
            false_positives += len(dts)
            continue
        oks = entries_oks(gts, dts, sigmas).T  # (gts, dts)
        for gi, di in zip(*np.nonzero(oks >= oks_threshold), strict=True):
            co_matched[gts[gi]["track_id"], dts[di].get("track_id")] += 1
        rows, cols, unmatched_gts, unmatched_dts = match(1.0 - oks, 1.0 - oks_threshold)
        misses += len(unmatched_gts)
        false_positives += len(unmatched_dts)
        for gi, di in zip(rows, cols, strict=True):
            gt_id, pred_id = gts[gi]["track_id"], dts[di].get("track_id")
            if gt_id in last_match and last_match[gt_id] != pred_id:
                switches += 1
            last_match[gt_id] = pred_id

    idtp = _id_true_positives(co_matched, sorted(gt_frames, key=str), sorted(pred_frames, key=str))
    keypoint_ap = evaluate_keypoints(annotations, list(results), sigmas)
    return {
        "MOTA": 1.0 - (misses + false_positives + switches) / labelled if labelled else float("nan"),
        "IDF1": 2.0 * idtp / (labelled + predicted) if labelled + predicted else float("nan"),
        "ID_switches": float(switches),
        "misses": float(misses),
        "false_positives": float(false_positives),
        "num_labelled": float(labelled),
        "num_predicted": float(predicted),
        "num_gt_tracks": float(len(gt_frames)),
        "num_pred_tracks": float(len(pred_frames)),
        "AP": keypoint_ap["AP"],
        "AP50": keypoint_ap["AP50"],
        "AP75": keypoint_ap["AP75"],
        "AR": keypoint_ap["AR"],
    }


def _by_image(entries: Iterable[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        grouped[entry["image_id"]].append(entry)
    return grouped


def _id_true_positives(co_matched: dict[tuple[Any, Any], int], gt_ids: list[Any], pred_ids: list[Any]) -> int:
    """IDF1's true positives: frames matched under the best one-to-one pairing of track ids."""
    if not gt_ids or not pred_ids:
        return 0
    counts = np.array([[co_matched.get((g, p), 0) for p in pred_ids] for g in gt_ids], dtype=np.float64)
    rows, cols, _, _ = match(-counts, -0.5)  # only pairs that co-occur at least once
    return int(counts[rows, cols].sum())
