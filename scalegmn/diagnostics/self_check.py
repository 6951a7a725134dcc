"""Numerical self-check of the augmentations: every symmetry must leave the forward pass unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren
from scalegmn.core.graph import from_graph, to_graph
from scalegmn.core.symmetry import phase_canonicalize, random_symmetry
from scalegmn.core.weights import NetworkWeights, forward


@dataclass
class CheckResult:
    network: str
    transform: str
    trials: int
    max_rel_error: float
    passed: bool


def _example_networks(generator: torch.Generator) -> dict[str, tuple[NetworkWeights, torch.Tensor]]:
    vec = torch.randn(64, 6, generator=generator, dtype=torch.float64)
    img = torch.randn(16, 1, 8, 8, generator=generator, dtype=torch.float64)
    grid = torch.rand(256, 2, generator=generator, dtype=torch.float64) * 2 - 1
    return {
        f"{act}_mlp": (random_mlp([6, 32, 32, 4], act, generator=generator), vec)
        for act in ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")
    } | {
        "siren_w0_30": (random_siren(generator=generator), grid),
        "relu_cnn": (random_cnn(generator=generator), img),
        "tanh_cnn": (random_cnn(activation="tanh", generator=generator), img),
    }


def _rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


def run_selfcheck(seed: int, trials: int, tolerance: float = 1e-9) -> list[CheckResult]:
    """Apply ``trials`` random symmetries (and graph round trips, phase canonicalization) per example
    network in float64 and report the largest relative change of the output."""
    generator = torch.Generator().manual_seed(seed)
    results = []
    for name, (net, x) in _example_networks(generator).items():
        reference = forward(net, x)
        transforms = {
            "random_symmetry": lambda: random_symmetry(net, generator),
            "graph_round_trip": lambda: from_graph(to_graph(random_symmetry(net, generator))),
        }
        if net.activation == "sine":
            transforms["phase_canonicalize"] = lambda: phase_canonicalize(random_symmetry(net, generator))
        for transform, make in transforms.items():
            err = max(_rel_error(forward(make(), x), reference) for _ in range(trials))
            results.append(CheckResult(name, transform, trials, err, err < tolerance))
    return results
