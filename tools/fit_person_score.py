"""Fit the person score (posekit/image/scoring.py): expected OKS from detector score and keypoint confidence.

usage: python tools/fit_person_score.py LABELLED_DIR [LABELLED_DIR ...]

Each LABELLED_DIR holds ``annotations.json`` (COCO keypoints) and ``images/``: the dev sets
(coco, crowdpose, ochuman) and crowd mosaics of them (``shared/tools/make_mosaic.py``). Every
detection that lies on a labelled person (box IoU > 0.3) is a sample: its raw evidence, and the
OKS its pose reached. Prints the least-squares logistic fit to paste into EXPECTED_OKS_COEFFICIENTS.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import least_squares

import posekit
import posekit.image.estimator as estimator_module
from posekit.geometry import box_iou_xyxy, compute_oks
from posekit.schemas import COCO17


def samples(folder: Path, estimator: posekit.PoseEstimator, seen: list) -> tuple[list, list]:
    labels = json.loads((folder / "annotations.json").read_text())
    features, targets = [], []
    for info in labels["images"]:
        seen.clear()
        poses = estimator(cv2.imread(str(folder / "images" / info["file_name"])))
        detector, confidence = seen[-1]
        truth = [a for a in labels["annotations"] if a["image_id"] == info["id"] and a.get("num_keypoints", 1) > 0]
        if not truth or not len(poses):
            continue
        keypoints = np.concatenate([poses.keypoints["coco17"].xy, poses.keypoints["coco17"].confidence[..., None]], 2)
        oks = compute_oks(
            np.array([a["keypoints"] for a in truth], float).reshape(len(truth), 17, 3),
            np.array([a["area"] for a in truth], float),
            np.array([a["bbox"] for a in truth], float),
            np.nan_to_num(keypoints),
            COCO17.sigmas,
        )
        truth_xyxy = np.array([a["bbox"] for a in truth], np.float32)
        truth_xyxy[:, 2:] += truth_xyxy[:, :2]
        boxes = np.concatenate([poses.bbox_xywh[:, :2], poses.bbox_xywh[:, :2] + poses.bbox_xywh[:, 2:]], 1)
        on_person = box_iou_xyxy(boxes, truth_xyxy).max(axis=1) > 0.3
        # The reported people are some of the candidates: find each one's raw evidence by its score.
        candidate_scores = estimator_module.person_scores(detector, confidence)
        for person in np.flatnonzero(on_person):
            index = int(np.argmin(np.abs(candidate_scores - poses.score[person])))
            features.append([1.0, np.log(max(detector[index], 1e-3)), confidence[index].mean()])
            targets.append(oks[person].max())
    return features, targets


def main() -> None:
    seen: list = []
    calibrated = estimator_module.person_scores

    def recording(detector: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        seen.append((np.asarray(detector).copy(), np.asarray(confidence).copy()))
        return calibrated(detector, confidence)

    estimator_module.person_scores = recording
    features, targets = [], []
    options = posekit.EstimatorOptions(landmark_model="none", min_person_score=0.0, detector_min_score=0.05)
    with posekit.PoseEstimator(options) as estimator:
        for folder in map(Path, sys.argv[1:]):
            f, t = samples(folder, estimator, seen)
            features += f
            targets += t
    x, y = np.array(features), np.clip(np.array(targets), 0, 1)
    fit = least_squares(lambda w: 1 / (1 + np.exp(-(x @ w))) - y, np.zeros(x.shape[1])).x
    predicted = 1 / (1 + np.exp(-(x @ fit)))
    correlation = np.corrcoef(predicted, y)[0, 1]
    print(f"{len(y)} detections on labelled people; correlation of expected with reached OKS {correlation:.3f}")
    print("EXPECTED_OKS_COEFFICIENTS = (" + ", ".join(f"{v:.3f}" for v in fit) + ")")


if __name__ == "__main__":
    main()
