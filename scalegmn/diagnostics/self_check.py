"""Numerical self-check of the augmentations: every symmetry must leave the forward pass unchanged."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren
from scalegmn.core.graph import from_graph, to_graph
from scalegmn.core.symmetry import phase_canonicalize, random_symmetry
from scalegmn.core.weights import NetworkWeights, forward


@dataclass(frozen=True)
class SelfCheckConfig:
    """How hard the self-check looks: ``trials`` random symmetries per network and transform, drawn from
    ``seed``; an output that moves by ``tolerance`` (relative, float64) or more fails."""

    seed: int = 0
    trials: int = 5
    tolerance: float = 1e-9

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ValueError(f"trials must be >= 1, got {self.trials}")


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


def run_selfcheck(config: SelfCheckConfig = SelfCheckConfig()) -> list[CheckResult]:
    """Apply ``config.trials`` random symmetries (and graph round trips, phase canonicalization) per example
    network in float64 and report the largest relative change of the output."""
    seed, trials, tolerance = config.seed, config.trials, config.tolerance
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


def selfcheck_record(results: list[CheckResult]) -> dict:
    """The JSON record of a self-check: ``checks``, ``passed``, the worst ``max_rel_error`` and every row."""
    return {"checks": len(results), "passed": sum(r.passed for r in results),
            "max_rel_error": max(r.max_rel_error for r in results), "results": [asdict(r) for r in results]}


def selfcheck_summary(results: list[CheckResult], seconds: float) -> str:
    """``selfcheck: P/N checks passed, M transformed networks in S s``."""
    passed, trials = sum(r.passed for r in results), sum(r.trials for r in results)
    return f"selfcheck: {passed}/{len(results)} checks passed, {trials} transformed networks in {seconds:.2f} s"
