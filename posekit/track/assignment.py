"""Optimal one-to-one assignment (the Hungarian method), in numpy, for small cost matrices.

Trackers match tens of people at most, so an O(n^3) shortest-augmenting-path solver in plain
Python/numpy is fast enough and keeps SciPy out of the core dependencies. It returns the same
minimum total cost as ``scipy.optimize.linear_sum_assignment`` (tests check it on random matrices).
"""

from __future__ import annotations

import numpy as np


def linear_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of a minimum-cost matching that covers min(rows, cols) pairs."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be 2-D, got shape {cost.shape}")
    if cost.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if not np.isfinite(cost).all():
        raise ValueError("cost must be finite; use a large value for forbidden pairs")
    transposed = cost.shape[0] > cost.shape[1]
    matrix = cost.T if transposed else cost
    n_rows, n_cols = matrix.shape
    # Potentials u (rows), v (columns); col_owner[j] = row matched to column j (1-based, 0 = free).
    u = np.zeros(n_rows + 1)
    v = np.zeros(n_cols + 1)
    col_owner = np.zeros(n_cols + 1, dtype=np.int64)
    way = np.zeros(n_cols + 1, dtype=np.int64)
    for row in range(1, n_rows + 1):
        col_owner[0] = row
        current_col = 0
        min_slack = np.full(n_cols + 1, np.inf)
        used = np.zeros(n_cols + 1, dtype=bool)
        while True:
            used[current_col] = True
            owner = col_owner[current_col]
            free = ~used[1:]
            slack = matrix[owner - 1] - u[owner] - v[1:]
            better = free & (slack < min_slack[1:])
            min_slack[1:][better] = slack[better]
            way[1:][better] = current_col
            candidates = np.where(free, min_slack[1:], np.inf)
            next_col = int(np.argmin(candidates)) + 1
            delta = candidates[next_col - 1]
            u[col_owner[used]] += delta
            v[used] -= delta
            min_slack[1:][free] -= delta
            current_col = next_col
            if col_owner[current_col] == 0:
                break
        while current_col:  # flip the augmenting path
            previous = way[current_col]
            col_owner[current_col] = col_owner[previous]
            current_col = previous
    cols = np.flatnonzero(col_owner[1:])
    rows = col_owner[1:][cols] - 1
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order].astype(np.int64), cols[order].astype(np.int64)


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
    rows, cols = linear_assignment(np.where(allowed, cost, forbidden))
    keep = allowed[rows, cols]
    rows, cols = rows[keep], cols[keep]
    return (
        rows,
        cols,
        np.setdiff1d(np.arange(n_rows), rows),
        np.setdiff1d(np.arange(n_cols), cols),
    )
