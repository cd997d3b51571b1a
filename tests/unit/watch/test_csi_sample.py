"""The CSI's fixed sample of a large cohort: deterministic, order-free, spread."""

from __future__ import annotations

import pandas as pd

from credit_engine.watch import csi_sample


def codes(n: int) -> pd.Series:
    return pd.Series([f"91350203{i:09d}X" for i in range(n)])


def test_a_cohort_within_the_limit_is_kept_whole():
    small = codes(50)
    assert sorted(csi_sample(small, 50)) == sorted(small)
    assert sorted(csi_sample(small, 500)) == sorted(small)


def test_the_sample_has_the_limit_and_does_not_depend_on_order():
    all_codes = codes(5_000)
    picked = csi_sample(all_codes, 700)
    assert picked.size == 700
    assert picked.is_unique
    assert set(picked) <= set(all_codes)
    shuffled = all_codes.sample(frac=1.0, random_state=3)
    assert picked.tolist() == csi_sample(shuffled, 700).tolist()
    # Repeated codes (one per version's row) count once.
    twice = pd.concat([all_codes, all_codes])
    assert csi_sample(twice, 700).tolist() == picked.tolist()


def test_the_sample_spreads_over_the_cohort_like_a_random_one():
    all_codes = codes(20_000)
    picked = csi_sample(all_codes, 2_000)
    position = picked.str.slice(8, 17).astype(int)
    # Each fifth of the (ordered) codes holds about a fifth of the sample.
    counts = pd.cut(position, bins=5, labels=False).value_counts()
    assert counts.between(330, 470).all(), counts.to_dict()
    # A larger sample contains the smaller one (the smallest hashes first).
    assert set(picked) <= set(csi_sample(all_codes, 3_000))
