import itertools

import numpy as np
import pytest

from posekit.track.assignment import match
from posekit.track.smoothing import OneEuroFilter, OneEuroOptions, jitter, lag_frames, rts_smooth


def _brute_force_min(cost: np.ndarray) -> float:
    rows, cols = cost.shape
    if rows <= cols:
        return min(
            sum(cost[r, c] for r, c in zip(range(rows), perm, strict=True))
            for perm in itertools.permutations(range(cols), rows)
        )
    return _brute_force_min(cost.T)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 5), (5, 2), (4, 6), (6, 6)])
def test_match_is_optimal_when_nothing_is_gated(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        cost = rng.random(shape) * rng.choice([1.0, 50.0])
        rows, cols, free_rows, free_cols = match(cost, max_cost=np.inf)
        assert len(rows) == min(shape) and len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
        assert cost[rows, cols].sum() == pytest.approx(_brute_force_min(cost))
        assert len(free_rows) == shape[0] - len(rows) and len(free_cols) == shape[1] - len(cols)


def test_match_never_pairs_above_max_cost():
    cost = np.array([[0.1, 0.9], [0.2, 0.95]])
    rows, cols, free_rows, free_cols = match(cost, max_cost=0.5)
    # The optimum with (1, 1) forbidden pairs row 0 or row 1 with column 0, never column 1.
    assert list(cols) == [0] and list(free_cols) == [1] and len(free_rows) == 1


def test_empty_and_infinite_costs():
    rows, cols, free_rows, free_cols = match(np.zeros((0, 3)), max_cost=1.0)
    assert rows.size == 0 and list(free_cols) == [0, 1, 2]
    rows, cols, free_rows, free_cols = match(np.array([[np.inf, 0.2]]), max_cost=1.0)
    assert list(cols) == [1] and list(free_cols) == [0]


def _noisy_walk(n=120, fps=30.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fps
    truth = np.stack([100 + 60 * t + 20 * np.sin(2 * np.pi * 0.5 * t), 200 + 10 * np.cos(2 * np.pi * 0.5 * t)], 1)
    truth = np.repeat(truth[:, None], 3, axis=1)  # 3 points moving together
    noisy = truth + rng.normal(0, 2.0, truth.shape)
    return t, truth, noisy


def test_one_euro_reduces_jitter_with_little_lag():
    t, truth, noisy = _noisy_walk()
    scale = np.full(len(t), 200.0)
    one_euro = OneEuroFilter(OneEuroOptions())
    out = np.array([one_euro(noisy[i], np.ones(3), t[i], 200.0) for i in range(len(t))])
    assert jitter(out, scale) < 0.7 * jitter(noisy, scale)
    assert np.abs(out - truth)[10:].mean() < 0.9 * np.abs(noisy - truth)[10:].mean()
    assert lag_frames(truth, out) <= 2


def test_one_euro_does_not_trail_a_person_walking_from_the_first_frame():
    # A track starts on someone already walking (200 px/s, 30 fps): the filter's own speed
    # estimate starts at 0, so alone it trails them for the first frames; told the body's speed
    # (the tracker's velocity), it does not.
    times = np.arange(10) / 30
    truth = np.stack([100 + 200 * times, np.full(10, 50.0)], axis=1)[:, None].repeat(3, axis=1)
    alone, told = OneEuroFilter(), OneEuroFilter()
    speed = 200 / 200.0  # person heights per second
    trailing = np.array([truth[i, 0, 0] - alone(truth[i], np.ones(3), times[i], 200.0)[0, 0] for i in range(10)])
    trailing_told = np.array(
        [truth[i, 0, 0] - told(truth[i], np.ones(3), times[i], 200.0, body_speed=speed)[0, 0] for i in range(10)]
    )
    assert trailing[1:5].mean() > 2.0
    assert trailing_told[1:5].mean() < 0.6 * trailing[1:5].mean()


def test_one_euro_keeps_missing_points_missing_and_restarts():
    one_euro = OneEuroFilter()
    one_euro(np.array([[10.0, 10.0], [20.0, 20.0]]), np.array([1.0, 1.0]), 0.0, 100.0)
    out = one_euro(np.array([[11.0, 10.0], [np.nan, np.nan]]), np.array([1.0, 0.0]), 0.1, 100.0)
    assert np.isnan(out[1]).all()
    # Seen again: starts from the new observation, not from a stale position.
    out = one_euro(np.array([[12.0, 10.0], [80.0, 80.0]]), np.array([1.0, 1.0]), 0.2, 100.0)
    assert out[1] == pytest.approx([80.0, 80.0])


def test_rts_is_smooth_zero_lag_and_bridges_gaps():
    t, truth, noisy = _noisy_walk()
    confidence = np.ones(noisy.shape[:2])
    confidence[50:55, 0] = 0.0  # a gap in point 0
    scale = np.full(len(t), 200.0)
    out = rts_smooth(t, noisy, confidence, scale)
    assert jitter(out, scale) < 0.3 * jitter(noisy, scale)
    assert lag_frames(truth, out) == 0
    assert np.abs(out - truth)[:, 1:].mean() < 0.6 * np.abs(noisy - truth)[:, 1:].mean()
    assert out.shape == noisy.shape
