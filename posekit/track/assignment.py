"""Gated one-to-one matching on a cost matrix, on SciPy's ``linear_sum_assignment``."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def match(cost: np.ndarray, max_cost: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Optimal matching keeping only pairs with ``cost <= max_cost``.

    Returns ``(rows, cols, unmatched_rows, unmatched_cols)``. Pairs above ``max_cost`` are
    forbidden before solving (not filtered after), so a forbidden pair never displaces an allowed one.
    """
    cost = np.asarray(cost, dtype=np.float64)
    n_rows, n_cols = cost.shape
    if n_rows == 0 or n_cols == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.arange(n_rows), np.arange(n_cols)
    forbidden = 1e6 + float(np.abs(cost[np.isfinite(cost)]).max(initial=0.0)) * 10
    allowed = np.isfinite(cost) & (cost <= max_cost)
    rows, cols = linear_sum_assignment(np.where(allowed, cost, forbidden))
    keep = allowed[rows, cols]
    rows, cols = rows[keep], cols[keep]
    return (
        rows,
        cols,
        np.setdiff1d(np.arange(n_rows), rows),
        np.setdiff1d(np.arange(n_cols), cols),
    )
