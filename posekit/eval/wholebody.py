"""COCO-WholeBody AP: the whole 133 points and each part, as xtcocotools' COCOeval scores them.

COCO-WholeBody's reference evaluation runs xtcocotools' ``COCOeval`` once per part with
``iouType`` ``keypoints_body | _foot | _face | _lefthand | _righthand | _wholebody``, the
part's slice of the 133 sigmas and ``use_area=True``. Its conventions, followed here:

* ground truth and results hold the parts in separate fields: ``keypoints`` (17 body points),
  ``foot_kpts`` (6), ``face_kpts`` (68), ``lefthand_kpts`` and ``righthand_kpts`` (21 each);
  ``wholebody`` is their concatenation in that order (:data:`~posekit.schemas.WHOLEBODY133`);
* every part's OKS is normalised by the *person's* ``area`` and, for a ground truth with no
  labelled point in the part, measured to the person's ``bbox`` enlarged to 3x;
* a ground truth is ignored for a part when it is a crowd or has no labelled point in that part
  (``v > 0`` counted in the part, not ``num_keypoints``);
* a result with no point of score > 0 in the part is dropped for that part;
* results are ranked by ``<part>_score`` when present (``wholebody_score``, ``foot_score``, ...)
  else by ``score``; the body part always uses ``score``;
* a result's area (for the medium/large ranges) is set as ``COCO.loadRes`` sets it: from its
  ``bbox`` when the first result has one, else from the extent of its body ``keypoints``.

Results may also give all 133 points in ``keypoints`` (posekit's own layout); they are split
into the fields above first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from posekit.eval.oks import evaluate_prepared, result_areas
from posekit.schemas import WHOLEBODY133
from posekit.schemas.wholebody import WHOLEBODY_FIELDS

PART_KEYS = ("wholebody", "body", "foot", "face", "lefthand", "righthand")
_FIELD_OF = dict(WHOLEBODY_FIELDS)
_PART_OF_KEY = {"body": "body", "foot": "foot", "face": "face", "lefthand": "left_hand", "righthand": "right_hand"}


def is_wholebody(annotations: dict[str, Any]) -> bool:
    """Whether a COCO annotation file is COCO-WholeBody (its annotations carry the part fields)."""
    fields = {field for _, field in WHOLEBODY_FIELDS[1:]}
    return any(fields <= ann.keys() for ann in annotations.get("annotations", []))


def split_wholebody_result(result: dict[str, Any]) -> dict[str, Any]:
    """A result in the COCO-WholeBody field layout; one with 133 points in ``keypoints`` is split."""
    if len(result["keypoints"]) != 3 * WHOLEBODY133.num_keypoints:
        return result
    split = dict(result)
    flat = list(result["keypoints"])
    for part, field in WHOLEBODY_FIELDS:
        sl = WHOLEBODY133.part(part)
        split[field] = flat[3 * sl.start : 3 * sl.stop]
    return split


def _part_values(record: dict[str, Any], key: str) -> list[float]:
    if key == "wholebody":
        return [v for _, field in WHOLEBODY_FIELDS for v in record[field]]
    return list(record[_FIELD_OF[_PART_OF_KEY[key]]])


def _part_sigmas(key: str) -> np.ndarray:
    sigmas = WHOLEBODY133.oks_sigmas()
    return sigmas if key == "wholebody" else sigmas[WHOLEBODY133.part(_PART_OF_KEY[key])]


def evaluate_wholebody(
    annotations: dict[str, Any], results: list[dict[str, Any]], *, max_dets: int = 20
) -> dict[str, dict[str, float]]:
    """Per part (``wholebody, body, foot, face, lefthand, righthand``) the COCO AP/AR metrics."""
    results = [split_wholebody_result(r) for r in results]
    areas = result_areas(results)
    report: dict[str, dict[str, float]] = {}
    for key in PART_KEYS:
        part_annotations = dict(annotations)
        part_annotations["annotations"] = [
            {**ann, "keypoints": values, "num_keypoints": int((np.asarray(values)[2::3] > 0).sum())}
            for ann in annotations["annotations"]
            for values in [_part_values(ann, key)]
        ]
        score_key = "score" if key == "body" else f"{key}_score"
        part_results = []
        for res, area in zip(results, areas, strict=True):
            values = _part_values(res, key)
            if not (np.asarray(values, dtype=np.float64)[2::3] > 0).any():
                continue  # xtcocotools drops a result with no scored point in the part
            score = res.get(score_key, res["score"])
            part_results.append({**res, "keypoints": values, "score": score, "area": area})
        report[key] = evaluate_prepared(part_annotations, part_results, _part_sigmas(key), max_dets=max_dets)
    return report
