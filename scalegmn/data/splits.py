"""Deterministic train/val/test splits by source network.

Splits are drawn over *groups* of source networks, so a copy always lands in its source's split: by
default a group is one source network and its augmented copies; networks whose metadata share a
``split_group`` (e.g. several INR fits of one image) form one group, so no image sits in two splits. A
network whose metadata carries ``split`` (the public zoos' standard splits) keeps it; the other groups are
split by a seeded permutation of their sorted names into exact fractions. Augmented copies of val/test
networks are dropped: they add nothing to a test-at-the-original-network evaluation, and keeping them out
of the dataset means no consumer can train or select on them by mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from scalegmn.data.rows import SPLITS
from scalegmn.core.weights import NetworkWeights


@dataclass(frozen=True)
class SplitConfig:
    """Fractions of groups of source networks per split (summing to 1) and the seed of the permutation."""

    train: float = 0.7
    val: float = 0.1
    test: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        fractions = (self.train, self.val, self.test)
        if any(f < 0 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
            raise ValueError(f"split fractions train/val/test must be >= 0 and sum to 1, got {fractions}")


@dataclass(frozen=True)
class NetworkKey:
    """What a split decision needs to know about one network."""

    id: str
    source_id: str
    is_copy: bool
    preset: str | None
    group: str


def network_key(net: NetworkWeights, where: str) -> NetworkKey:
    """The key of ``net``; ``ValueError`` naming ``where`` if it has no id or an unknown preset split."""
    if net.meta.get("id") is None:
        raise ValueError(f"{where}: network has no meta['id'] (every network of a zoo needs a unique id)")
    net_id = str(net.meta["id"])
    preset = net.meta.get("split")
    if preset is not None and preset not in SPLITS:
        raise ValueError(f"{where}: network {net_id!r} has split {preset!r}; expected one of {', '.join(SPLITS)}")
    source_id = str(net.meta.get("source_id", net_id))
    return NetworkKey(net_id, source_id, "aug_seed" in net.meta, preset, str(net.meta.get("split_group", source_id)))


@dataclass
class SplitPlan:
    """The split of every source network and the ids of the rows to drop (copies of val/test networks)."""

    source_split: dict[str, str]
    dropped: set[str] = field(default_factory=set)

    def split_of(self, key: NetworkKey) -> str | None:
        """The split of a network, or ``None`` when it is dropped."""
        return None if key.id in self.dropped else self.source_split[key.source_id]

    def sizes(self) -> dict[str, int]:
        """Number of source networks per split."""
        return {s: sum(v == s for v in self.source_split.values()) for s in SPLITS}


def plan_splits(keys: Iterable[NetworkKey], config: SplitConfig) -> SplitPlan:
    """Split the groups of source networks of ``keys`` (see the module docstring); ``ValueError`` on duplicate
    ids, on copies whose source is missing, on a source in two groups, and on preset splits that differ within
    a group."""
    seen: set[str] = set()
    preset: dict[str, str] = {}
    group_of: dict[str, str] = {}
    copies: list[NetworkKey] = []
    for key in keys:
        if key.id in seen:
            raise ValueError(f"network id {key.id!r} appears twice")
        seen.add(key.id)
        if group_of.setdefault(key.source_id, key.group) != key.group:
            raise ValueError(f"network {key.id!r}: split_group {key.group!r} differs from its source's "
                             f"{group_of[key.source_id]!r}")
        if key.is_copy:
            copies.append(key)
        if key.preset is not None:
            if preset.setdefault(key.group, key.preset) != key.preset:
                raise ValueError(
                    f"network {key.id!r}: split {key.preset!r} differs from its source group's {preset[key.group]!r}"
                )
    missing = sorted(set(group_of) - seen)
    if missing:
        raise ValueError(f"augmented copies refer to {len(missing)} missing source networks, e.g. {missing[0]!r}")
    free = sorted(set(group_of.values()) - set(preset))
    order = np.random.default_rng(config.seed).permutation(len(free))
    n_train = round(len(free) * config.train)
    n_val = round(len(free) * config.val)
    group_split = dict(preset)
    for rank, i in enumerate(order):
        group_split[free[i]] = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
    assigned = {source: group_split[group] for source, group in group_of.items()}
    dropped = {c.id for c in copies if assigned[c.source_id] != "train"}
    return SplitPlan(assigned, dropped)
