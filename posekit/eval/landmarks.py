"""Hand and face landmark metrics: PCK and EPE for hands, NME for faces.

The conventions are MMPose's for FreiHAND / OneHand10K and 300W / WFLW, which evaluate
top-down on each annotation's box:

* **PCK@0.2** (hands): a labelled point is correct when its distance to the ground truth,
  divided by the longer side of the annotation's ``bbox``, is *below* 0.2; the accuracy of each
  of the 21 points is computed over all hands, and PCK is the mean of those per-point accuracies
  (MMPose's ``keypoint_pck_accuracy``).
* **EPE** (hands): the mean pixel distance over all labelled points of all hands.
* **NME** (faces): each labelled point's distance divided by the face's inter-ocular distance
  (outer eye corners: iBUG 36 and 45, WFLW 60 and 72), averaged over all labelled points.

Hand files list each finger from its base (FreiHAND, OneHand10K, CMU Panoptic, COCO-WholeBody)
or from its tip (RHD as MMPose ships it) under the same point names; :func:`hand_file_schema`
tells which from the labelled points, and results are written in the file's order.

Each annotation is answered by the result with its ``annotation_id``; results without one are
matched within their image, best box overlap (IoU > 0.1) first. An annotation no result answers
is ``missed``: its points count as wrong for PCK and are left out of EPE and NME (reported as
``missed``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from posekit.schemas import CONVERSIONS, HAND21, HAND21_TIP_FIRST, KeypointSchema
from posekit.schemas.face import (
    FACE68_LEFT_EYE_OUTER,
    FACE68_RIGHT_EYE_OUTER,
    WFLW98_LEFT_EYE_OUTER,
    WFLW98_RIGHT_EYE_OUTER,
)

PCK_THRESHOLD = 0.2
_MIN_IOU = 0.1


def _iou(a: list[float], b: list[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - iw * ih
    return iw * ih / union if union > 0 else 0.0


def match_results(annotations: dict[str, Any], results: list[dict[str, Any]]) -> list[tuple[dict, dict | None]]:
    """Each annotation with at least one labelled point, paired with the result answering it (or None)."""
    # reshape: some files (RHD's from MMPose) nest the points as [[x, y, v], ...] rather than flat.
    anns = [a for a in annotations["annotations"] if (np.asarray(a["keypoints"]).reshape(-1, 3)[:, 2] > 0).any()]
    by_id = {r["annotation_id"]: r for r in results if "annotation_id" in r}
    loose: dict[Any, list[dict]] = defaultdict(list)
    for r in results:
        if "annotation_id" not in r:
            loose[r["image_id"]].append(r)
    pairs: dict[Any, dict | None] = {a["id"]: by_id.get(a["id"]) for a in anns}
    for image_id, candidates in loose.items():
        open_anns = [a for a in anns if a["image_id"] == image_id and pairs[a["id"]] is None]
        scored = sorted(
            ((_iou(a["bbox"], r["bbox"]), i, j) for i, a in enumerate(open_anns) for j, r in enumerate(candidates)),
            reverse=True,
        )
        used_a: set[int] = set()
        used_r: set[int] = set()
        for iou, i, j in scored:
            if iou <= _MIN_IOU:
                break
            if i in used_a or j in used_r:
                continue
            used_a.add(i)
            used_r.add(j)
            pairs[open_anns[i]["id"]] = candidates[j]
    return [(a, pairs[a["id"]]) for a in anns]


def _arrays(ann: dict, result: dict | None, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    gt = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
    if gt.shape[0] != k:
        raise ValueError(f"annotation {ann['id']} has {gt.shape[0]} points, expected {k}")
    pred = None
    if result is not None:
        pred = np.asarray(result["keypoints"], dtype=np.float64).reshape(-1, 3)[:, :2]
        if pred.shape[0] != k:
            raise ValueError(f"result for annotation {ann['id']} has {pred.shape[0]} points, expected {k}")
    return gt[:, :2], gt[:, 2] > 0, pred


def hand_file_schema(annotations: dict[str, Any]) -> KeypointSchema:
    """``HAND21`` or ``HAND21_TIP_FIRST``: the order a 21-point hand file lists each finger in.

    The point names do not tell (RHD's MMPose files name its tip-first points as FreiHAND names
    its base-first ones), the labels do: a finger's base is nearer the wrist than its tip. Each
    finger labelled at both ends votes; the majority of all the file's votes decides, so a few
    curled fingers cannot flip it, and a file with no votes is taken as base-first."""
    votes = 0
    for ann in annotations["annotations"]:
        points = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        if points.shape[0] != 21 or points[0, 2] <= 0:
            continue
        for first in (1, 5, 9, 13, 17):
            base_side, tip_side = points[first], points[first + 3]
            if base_side[2] > 0 and tip_side[2] > 0:
                near = np.linalg.norm(base_side[:2] - points[0, :2]) < np.linalg.norm(tip_side[:2] - points[0, :2])
                votes += 1 if near else -1
    return HAND21_TIP_FIRST if votes < 0 else HAND21


def evaluate_hands(annotations: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, float]:
    """``PCK@0.2``, ``EPE`` (pixels), ``num_hands`` and ``missed`` for a 21-point hand file."""
    pairs = match_results(annotations, results)
    correct = np.zeros(21)
    counted = np.zeros(21)
    errors: list[np.ndarray] = []
    missed = 0
    for ann, result in pairs:
        gt, labelled, pred = _arrays(ann, result, 21)
        size = float(max(ann["bbox"][2], ann["bbox"][3]))
        counted += labelled
        if pred is None:
            missed += 1
            continue
        distance = np.linalg.norm(pred - gt, axis=1)
        correct += labelled & (distance / size < PCK_THRESHOLD)
        errors.append(distance[labelled])
    per_point = correct[counted > 0] / counted[counted > 0]
    return {
        "PCK@0.2": float(per_point.mean()) if per_point.size else 0.0,
        "EPE": float(np.concatenate(errors).mean()) if errors else float("nan"),
        "num_hands": float(len(pairs)),
        "missed": float(missed),
    }


def evaluate_faces(annotations: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, float]:
    """``NME``, ``num_faces``, ``missed`` and ``nme_points`` for a 68- or 98-point face file.

    68-point files (300W) are scored on their 68 points. 98-point files (WFLW) are scored on 98
    points when the results have 98; results with 68 (iBUG) points are scored against the
    ground truth reduced to its 68-point subset (``CONVERSIONS[("wflw98", "face68")]``), which
    keeps WFLW's outer eye corners as iBUG 36 and 45, so the normaliser is WFLW's own. Such a
    68-point NME on WFLW is not comparable with published 98-point WFLW numbers.
    """
    k_gt = len(annotations["categories"][0]["keypoints"])
    pairs = match_results(annotations, results)
    k_pred = next((len(r["keypoints"]) // 3 for _, r in pairs if r is not None), k_gt)
    reduce = k_gt == 98 and k_pred == 68
    if k_gt not in (68, 98) or k_pred not in (k_gt, 68):
        raise ValueError(f"cannot score {k_pred}-point face results against {k_gt}-point annotations")
    eyes = (
        (WFLW98_RIGHT_EYE_OUTER, WFLW98_LEFT_EYE_OUTER)
        if k_gt == 98 and not reduce
        else (FACE68_RIGHT_EYE_OUTER, FACE68_LEFT_EYE_OUTER)
    )
    errors: list[np.ndarray] = []
    missed = 0
    for ann, result in pairs:
        if reduce:
            gt98 = np.asarray(ann["keypoints"], dtype=np.float64).reshape(98, 3)
            index = [i for ((i, _),) in CONVERSIONS[("wflw98", "face68")].sources]
            ann = {**ann, "keypoints": gt98[index].ravel().tolist()}
        gt, labelled, pred = _arrays(ann, result, k_pred)
        if pred is None:
            missed += 1
            continue
        inter_ocular = float(np.linalg.norm(gt[eyes[0]] - gt[eyes[1]]))
        errors.append(np.linalg.norm(pred - gt, axis=1)[labelled] / inter_ocular)
    return {
        "NME": float(np.concatenate(errors).mean()) if errors else float("nan"),
        "num_faces": float(len(pairs)),
        "missed": float(missed),
        "nme_points": float(k_pred),
    }
