"""Training-throughput benchmark of a metanetwork: graphs/s for forward + backward + AdamW step."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from scalegmn.core.random_networks import random_cnn, random_siren
from scalegmn.core.graph import collate, to_graph
from scalegmn.runtime import retain_freed_memory

BENCH_ARCHITECTURES: dict[str, tuple[int, ...]] = {  # CNN channels (10 classes), or the SIREN's layer sizes
    "small-cnn-zoo": (1, 16, 16, 16),
    "digits-cnn": (1, 8, 8, 8),
    "digits-inr": (2, 32, 32, 1),
}


def bench_network(architecture: str, generator: torch.Generator):
    """A random float32 network of a benchmark architecture: a ReLU CNN, or a SIREN for ``*-inr``."""
    sizes = BENCH_ARCHITECTURES[architecture]
    if architecture.endswith("-inr"):
        return random_siren(sizes, generator=generator, dtype=torch.float32, output_offset=0.5)
    return random_cnn(sizes, 10, generator=generator, dtype=torch.float32)


@dataclass
class TrainBenchmark:
    """Throughput of ``repeats`` timed runs of ``steps`` training steps each (after ``warmup`` steps)."""

    model: str
    architecture: str
    batch_size: int
    threads: int
    num_params: int
    nodes_per_graph: int
    edges_per_graph: int
    graphs_per_s: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    @property
    def best(self) -> float:
        return max(self.graphs_per_s)

    @property
    def median(self) -> float:
        return statistics.median(self.graphs_per_s)


def benchmark_training(
    models: str | list[str] = "scalegmn",
    architecture: str = "small-cnn-zoo",
    *,
    batch_size: int = 64,
    steps: int = 10,
    warmup: int = 2,
    repeats: int = 3,
    threads: int = 2,
    seed: int = 0,
    progress: Callable[[str, int, float], None] | None = None,
    **config,
) -> list[TrainBenchmark]:
    """Train each of ``models`` (registry names) on one fixed batch of random ReLU CNNs of ``architecture``
    (MSE to random targets, AdamW lr 1e-3, weight decay 0.01, grad-clip 10, float32, CPU), with
    ``threads`` torch threads (restored afterwards). Repeats are interleaved across models, so that a
    change of load on the machine affects every model alike; one result per model, in order."""
    if architecture not in BENCH_ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; expected one of {', '.join(BENCH_ARCHITECTURES)}")
    names = [models] if isinstance(models, str) else list(models)
    retain_freed_memory()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _run(names, architecture, batch_size, steps, warmup, repeats, threads, seed, progress, config)
    finally:
        torch.set_num_threads(previous_threads)


def _training_step(net: torch.nn.Module, batch, target: torch.Tensor) -> Callable[[], None]:
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        out = net(batch)
        if isinstance(out, tuple):
            loss = sum(o.square().mean() for o in out)
        else:
            loss = (out - target).square().mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()

    return step


def _run(names, architecture, batch_size, steps, warmup, repeats, threads, seed, progress, config) -> list[TrainBenchmark]:
    from scalegmn.registry import build_model

    gen = torch.Generator().manual_seed(seed)
    graphs = [to_graph(bench_network(architecture, gen)) for _ in range(batch_size)]
    batch = collate(graphs)
    target = torch.randn(batch_size, 1, generator=gen)
    results, steppers = [], []
    for name in names:
        torch.manual_seed(seed)
        net = build_model(name, graphs[0], 1, **config)
        step = _training_step(net, batch, target)
        for _ in range(warmup):
            step()
        steppers.append(step)
        results.append(TrainBenchmark(name, architecture, batch_size, threads, sum(p.numel() for p in net.parameters()),
                                      graphs[0].num_nodes, int(graphs[0].edge_attr.shape[0])))
    for r in range(repeats):
        for result, step in zip(results, steppers):
            start = time.perf_counter()
            for _ in range(steps):
                step()
            result.graphs_per_s.append(batch_size * steps / (time.perf_counter() - start))
            if progress is not None:
                progress(result.model, r, result.graphs_per_s[-1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for result in results:
        result.peak_rss_mb = peak
    return results


def speed_ratios(results: list[TrainBenchmark]) -> dict[str, float]:
    """Best graphs/s of every model ``X`` over that of ``X-fast`` when both are in ``results``
    (the per-edge layer's cost relative to the factorized one)."""
    best = {r.model: r.best for r in results}
    return {name: value / best[f"{name}-fast"] for name, value in best.items() if f"{name}-fast" in best}
