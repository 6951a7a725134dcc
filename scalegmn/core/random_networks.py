"""Randomly initialised example networks (for tests, symmetry checks and benchmarks)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from scalegmn.core.weights import NetworkWeights


def _uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    return (torch.rand(shape, generator=generator, dtype=dtype) * 2.0 - 1.0) * bound


def random_mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    *,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
    w0: float = 1.0,
    output_offset: float = 0.0,
) -> NetworkWeights:
    """An MLP with layer sizes ``sizes`` (input first), PyTorch-default-like uniform init."""
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(n_in)
        weights.append(_uniform((n_out, n_in), bound, generator, dtype))
        biases.append(_uniform((n_out,), bound, generator, dtype))
    return NetworkWeights(weights, biases, activation, w0=w0, output_offset=output_offset)


def random_siren(
    sizes: Sequence[int] = (2, 32, 32, 1),
    *,
    w0: float = 30.0,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
    output_offset: float = 0.0,
) -> NetworkWeights:
    """A SIREN with the initialisation of Sitzmann et al. (first layer ``U(-1/n, 1/n)``, then
    ``U(-sqrt(6/n)/w0, sqrt(6/n)/w0)``); biases spread over several periods of the sine."""
    weights, biases = [], []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / n_in if l == 0 else math.sqrt(6.0 / n_in) / w0
        weights.append(_uniform((n_out, n_in), bound, generator, dtype))
        biases.append(_uniform((n_out,), 4.0 * math.pi / w0, generator, dtype))
    return NetworkWeights(weights, biases, "sine", w0=w0, output_offset=output_offset)


def random_cnn(
    channels: Sequence[int] = (1, 16, 16, 16),
    num_classes: int = 10,
    activation: str = "relu",
    *,
    kernel_size: int = 3,
    stride: int = 2,
    padding: int = 1,
    pooling: str = "avg",
    flatten_size: int = 1,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
) -> NetworkWeights:
    """Convs ``channels[0] -> ... -> channels[-1]``, pooling (or flatten), then a linear head."""
    weights, biases = [], []
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        bound = 1.0 / math.sqrt(c_in * kernel_size**2)
        weights.append(_uniform((c_out, c_in, kernel_size, kernel_size), bound, generator, dtype))
        biases.append(_uniform((c_out,), bound, generator, dtype))
    fan_in = channels[-1] * (flatten_size if pooling == "flatten" else 1)
    weights.append(_uniform((num_classes, fan_in), 1.0 / math.sqrt(fan_in), generator, dtype))
    biases.append(_uniform((num_classes,), 1.0 / math.sqrt(fan_in), generator, dtype))
    n_conv = len(channels) - 1
    return NetworkWeights(
        weights,
        biases,
        activation,
        strides=[stride] * n_conv + [1],
        paddings=[padding] * n_conv + [0],
        pooling=pooling,  # type: ignore[arg-type]
    )
