"""Small numeric helpers shared by the model wrappers."""

from __future__ import annotations

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Logistic function, clipped so float32 ``exp`` cannot overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -80.0, 80.0)))
