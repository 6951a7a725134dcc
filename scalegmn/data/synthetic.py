"""Synthetic labelled zoos of random networks (benchmarks and test fixtures; no training involved)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from scalegmn.core.random_networks import random_cnn, random_siren
from scalegmn.core.weights import NetworkWeights

SMALL_CNN_ZOO_CHANNELS: tuple[int, ...] = (1, 16, 16, 16)


def synthetic_cnn_zoo(
    size: int,
    seed: int = 0,
    *,
    channels: tuple[int, ...] = SMALL_CNN_ZOO_CHANNELS,
    activations: tuple[str, ...] = ("relu", "tanh"),
    dtype: torch.dtype = torch.float32,
) -> Iterator[NetworkWeights]:
    """``size`` random CNNs with the Small CNN Zoo architecture by default (``channels`` convs 3x3 stride 2,
    global average pooling, dense -> 10), activations cycling through ``activations``, ids ``cnn-<i>`` and a
    random ``score`` in [0, 1). Streams: one network at a time."""
    g = torch.Generator().manual_seed(seed)
    for i in range(size):
        net = random_cnn(channels, 10, activations[i % len(activations)], generator=g, dtype=dtype)
        net.meta = {"id": f"cnn-{i}", "source": "synthetic-cnn", "score": float(torch.rand((), generator=g))}
        yield net


def synthetic_inr_zoo(size: int, seed: int = 0, *, dtype: torch.dtype = torch.float32) -> Iterator[NetworkWeights]:
    """``size`` random SIRENs 2->32->32->1 (w0 = 30, output offset 0.5) with ids ``inr-<i>`` and labels ``i % 10``."""
    g = torch.Generator().manual_seed(seed)
    for i in range(size):
        net = random_siren((2, 32, 32, 1), generator=g, dtype=dtype, output_offset=0.5)
        net.meta = {"id": f"inr-{i}", "source": "synthetic-inr", "label": i % 10}
        yield net
