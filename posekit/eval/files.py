"""One entry point for every kind of labelled file: the kind is read from the file itself.

=============  ==============================================================  ==================
kind           recognised by                                                   metrics
=============  ==============================================================  ==================
``body``       COCO keypoint file (17 points per person)                       COCO OKS AP / AR
``wholebody``  annotations carry ``foot_kpts``, ``face_kpts``, ``lefthand_kpts``,  AP / AR of the
               ``righthand_kpts`` (COCO-WholeBody)                              133 points and
                                                                               of each part
``hand``       category with 21 keypoints (FreiHAND, OneHand10K, Panoptic,     PCK@0.2, EPE
               RHD; finger order from the labels, see posekit.eval.landmarks)
``face``       category with 68 (300W) or 98 (WFLW) keypoints                  NME
=============  ==============================================================  ==================

Results are a flat list of COCO-style result dicts (``image_id``, ``keypoints``, ``score``...)
in the file's own layout; see :mod:`posekit.eval.wholebody` and :mod:`posekit.eval.landmarks`.
"""

from __future__ import annotations

from typing import Any

from posekit.eval.landmarks import evaluate_faces, evaluate_hands
from posekit.eval.oks import evaluate_keypoints
from posekit.eval.wholebody import PART_KEYS, evaluate_wholebody, is_wholebody
from posekit.schemas import COCO17

BODY_KEYS = ("AP", "AP50", "AP75", "APm", "APl", "AR")
KINDS = ("body", "wholebody", "hand", "face")
REPORT_KEYS: dict[str, tuple[str, ...]] = {
    "body": BODY_KEYS,
    "wholebody": BODY_KEYS + tuple(f"{part}_AP" for part in PART_KEYS) + tuple(f"{part}_AR" for part in PART_KEYS),
    "hand": ("PCK@0.2", "EPE", "num_hands", "missed"),
    "face": ("NME", "num_faces", "missed", "nme_points"),
}


def annotation_kind(annotations: dict[str, Any]) -> str:
    """``body``, ``wholebody``, ``hand`` or ``face``, from the annotation file's content."""
    if is_wholebody(annotations):
        return "wholebody"
    categories = annotations.get("categories") or []
    k = len(categories[0].get("keypoints", [])) if categories else 17
    if k == 21:
        return "hand"
    if k in (68, 98):
        return "face"
    if k in (0, 17):
        return "body"
    raise ValueError(f"unsupported keypoint file: its category has {k} keypoints (known: 17, 21, 68, 98, whole-body)")


def evaluate_file(annotations: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, float]:
    """The metrics of ``results`` on ``annotations``, chosen by :func:`annotation_kind`.

    * body: ``AP, AP50, AP75, APm, APl, AR`` (COCO-17 OKS, as pycocotools);
    * wholebody: ``AP ... AR`` of all 133 points (COCO-WholeBody's headline numbers), plus
      ``wholebody_AP, body_AP, foot_AP, face_AP, lefthand_AP, righthand_AP`` and the same ``_AR``
      (xtcocotools' per-part evaluation);
    * hand: ``PCK@0.2, EPE, num_hands, missed``;
    * face: ``NME, num_faces, missed, nme_points``.
    """
    kind = annotation_kind(annotations)
    if kind == "body":
        metrics = evaluate_keypoints(annotations, results, COCO17.oks_sigmas())
        return {key: metrics[key] for key in BODY_KEYS}
    if kind == "wholebody":
        parts = evaluate_wholebody(annotations, results)
        report = {key: parts["wholebody"][key] for key in BODY_KEYS}
        for part in PART_KEYS:
            report[f"{part}_AP"] = parts[part]["AP"]
            report[f"{part}_AR"] = parts[part]["AR"]
        return report
    if kind == "hand":
        return evaluate_hands(annotations, results)
    return evaluate_faces(annotations, results)
