"""The study statistics against direct computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from scing_core.errors import InputError
from scing_core.study.stats import mean_ci, paired_delta_ap, sign_test


def test_mean_ci_is_the_student_t_interval_over_seeds():
    values = [0.61, 0.58, 0.66, 0.63, 0.60]
    ci = mean_ci(values)
    mean, sd = sum(values) / 5, math.sqrt(sum((v - sum(values) / 5) ** 2 for v in values) / 4)
    half = 2.7764451051977987 * sd / math.sqrt(5)   # t(0.975, df=4)
    assert (ci["mean"], ci["lo"], ci["hi"], ci["n"]) == pytest.approx((mean, mean - half, mean + half, 5))
    assert mean_ci([0.5]) == {"mean": 0.5, "lo": None, "hi": None, "sd": None, "n": 1, "values": [0.5]}
    with pytest.raises(InputError):
        mean_ci([])


def test_paired_delta_ap_mean_drops_queries_without_a_match_and_reports_each_seed():
    a = np.array([[0.5, 1.0, np.nan, 0.2], [0.7, 0.9, np.nan, 0.1]])
    b = np.array([[0.4, 0.5, 0.3, 0.2], [0.6, 1.0, 0.1, np.nan]])
    out = paired_delta_ap(a, b, resamples=200)
    assert out["n_queries"] == 2 and out["n_seeds"] == 2          # columns 2 and 3 have a NaN somewhere
    assert out["per_seed"] == pytest.approx([(0.1 + 0.5) / 2, (0.1 - 0.1) / 2])
    assert out["mean"] == pytest.approx(np.mean([0.1, 0.5, 0.1, -0.1]))
    assert out["lo"] <= out["mean"] <= out["hi"]
    assert paired_delta_ap(a, b, resamples=200) == out            # seeded: the same interval every time


def test_paired_bootstrap_interval_matches_the_normal_theory_interval_on_a_large_sample():
    rng = np.random.default_rng(1)
    base = rng.random((1, 4000))
    delta = rng.normal(0.03, 0.2, size=(1, 4000))
    out = paired_delta_ap(base + delta, base, resamples=2000)
    half = 1.959964 * delta.std(ddof=1) / math.sqrt(4000)
    assert out["lo"] == pytest.approx(delta.mean() - half, abs=0.15 * half)
    assert out["hi"] == pytest.approx(delta.mean() + half, abs=0.15 * half)


def test_bootstrap_over_seeds_widens_the_interval_when_seeds_disagree():
    rng = np.random.default_rng(2)
    base = rng.random((5, 500))
    agree = base + 0.02 + rng.normal(0, 0.05, (5, 500))
    disagree = base + np.array([[-0.08], [0.1], [-0.05], [0.12], [0.01]]) + rng.normal(0, 0.05, (5, 500))
    narrow, wide = paired_delta_ap(agree, base), paired_delta_ap(disagree, base)
    assert wide["hi"] - wide["lo"] > 3 * (narrow["hi"] - narrow["lo"])


def test_sign_test_is_the_two_sided_binomial_test_of_the_wins():
    out = sign_test([0.5, 0.6, 0.7, 0.4, 0.9], [0.4, 0.5, 0.6, 0.4, 0.8])
    assert (out["wins"], out["losses"], out["ties"]) == (4, 0, 1)
    assert out["p"] == pytest.approx(stats.binomtest(4, 4, 0.5).pvalue) == pytest.approx(0.125)
    assert sign_test([1, 2, 3, 4, 5], [0, 0, 0, 0, 0])["p"] == pytest.approx(0.0625)
    assert sign_test([1.0], [1.0])["p"] == 1.0
