"""Splits: deterministic, by source network, exact fractions, standard splits kept, no leakage."""

import pytest

from scalegmn.data.splits import NetworkKey, SplitConfig, plan_splits


def keys(n_sources, copies=0, preset=None):
    out = []
    for i in range(n_sources):
        out.append(NetworkKey(f"n{i}", f"n{i}", False, (preset or {}).get(i), f"n{i}"))
        out += [NetworkKey(f"n{i}~aug{k}", f"n{i}", True, (preset or {}).get(i), f"n{i}") for k in range(copies)]
    return out


def test_splits_are_exact_deterministic_and_by_source():
    plan = plan_splits(keys(100, copies=2), SplitConfig(0.7, 0.2, 0.1, seed=3))
    assert plan.sizes() == {"train": 70, "val": 20, "test": 10}
    assert plan == plan_splits(reversed(keys(100, copies=2)), SplitConfig(0.7, 0.2, 0.1, seed=3))
    assert plan != plan_splits(keys(100, copies=2), SplitConfig(0.7, 0.2, 0.1, seed=4))
    for key in keys(100, copies=2):
        split = plan.split_of(key)
        if key.is_copy:
            assert split in (None, "train") and (split is None) == (plan.source_split[key.source_id] != "train")
        else:
            assert split == plan.source_split[key.id]
    assert len(plan.dropped) == 2 * 30


def test_standard_splits_are_kept():
    preset = {0: "test", 1: "val", 2: "train"}
    plan = plan_splits(keys(10, copies=1, preset=preset), SplitConfig(1.0, 0.0, 0.0))
    assert [plan.source_split[f"n{i}"] for i in range(4)] == ["test", "val", "train", "train"]
    assert plan.dropped == {"n0~aug0", "n1~aug0"}


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match="sum to 1"):
        SplitConfig(0.5, 0.2, 0.2)
    with pytest.raises(ValueError, match="appears twice"):
        plan_splits(keys(2) + keys(1), SplitConfig())
    with pytest.raises(ValueError, match="missing source networks"):
        plan_splits([NetworkKey("a~aug0", "a", True, None, "a")], SplitConfig())
    with pytest.raises(ValueError, match="differs from its source"):
        plan_splits([NetworkKey("a", "a", False, "val", "a"), NetworkKey("a~aug0", "a", True, "train", "a")],
                    SplitConfig())
    with pytest.raises(ValueError, match="split_group 'g2' differs from its source's 'g1'"):
        plan_splits([NetworkKey("a", "a", False, None, "g1"), NetworkKey("a~aug0", "a", True, None, "g2")],
                    SplitConfig())


def test_networks_of_one_split_group_share_a_split_and_fractions_count_groups():
    # 40 digits fitted 3 times each: every fit is a source network of its own, the digit is the group
    fits = [NetworkKey(f"d{d}-f{f}", f"d{d}-f{f}", False, None, f"digit-{d}") for d in range(40) for f in range(3)]
    plan = plan_splits(fits, SplitConfig(0.5, 0.25, 0.25, seed=1))
    by_digit = {}
    for key in fits:
        by_digit.setdefault(key.group, set()).add(plan.split_of(key))
    assert all(len(splits) == 1 for splits in by_digit.values())
    assert plan.sizes() == {"train": 60, "val": 30, "test": 30} and not plan.dropped
