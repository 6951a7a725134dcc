"""Baseline metanetworks (DESIGN §7): StatNN, an MLP on flattened weights, NFN-NP / NFN-HNP."""

from scalegmn.baselines.flat_mlp import FlatMLP
from scalegmn.baselines.nfn import NFN
from scalegmn.baselines.statnn import StatNN

__all__ = ["FlatMLP", "NFN", "StatNN"]
