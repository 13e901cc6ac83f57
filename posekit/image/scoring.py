"""A person's score in an image: the expected OKS of their pose against a human's labels.

The raw evidence is the detector's score and the per-person model's mean keypoint confidence.
Their product ranks people well but means little: a far person found by a tile reads 0.05 as
easily as a junk box does. The score posekit reports is a logistic model of both, fitted to the
OKS each pose reached against the labels of the dev images and crowd mosaics
(``tools/fit_person_score.py``, which prints the fit and writes these coefficients): 0.9 means
the pose is expected to sit about where a labeller would put it (OKS 0.9), 0.3 that it is mostly
wrong or not a person. See docs/benchmarks.md#crowds for the fit and what each threshold keeps.
"""

from __future__ import annotations

import numpy as np

# intercept, log(detector score), mean keypoint confidence; from tools/fit_person_score.py.
EXPECTED_OKS_COEFFICIENTS = (-0.584, 1.147, 8.577)


def person_scores(detector_scores: np.ndarray, keypoint_confidence: np.ndarray) -> np.ndarray:
    """``(n,)`` expected OKS of each person's pose, from the detector's score ``(n,)`` and the
    keypoint model's confidence ``(n, k)``."""
    intercept, log_detector, confidence = EXPECTED_OKS_COEFFICIENTS
    detector = np.log(np.clip(np.asarray(detector_scores, np.float64), 1e-3, 1.0))
    logit = intercept + log_detector * detector + confidence * np.asarray(keypoint_confidence).mean(axis=1)
    return (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
