"""Symmetry checker: how much a metanetwork's outputs change under its inputs' symmetries.

For each graph, random hidden-neuron permutations and/or scalings from the network's activation group
(:func:`scalegmn.core.symmetry.sample_symmetry`) are applied to the weights (``from_graph`` -> ``apply_symmetry``
-> ``to_graph``). Invariant models should give the same ``(B, out_dim)``; equivariant models (tuple
outputs) should give outputs that, read as parameters (:meth:`scalegmn.core.weight_batch.WeightBatch.from_graphs`), are
the original outputs transformed the same way. Runs in float64 on a copy of the model.

What a model claims is its ``symmetries`` attribute (``"permutation"``, ``"scaling"``; none if it has no such
attribute): each row records whether the transform was claimed and whether it held, so a baseline that is
not scale invariant by design is not a failure, while a claimed symmetry that does not hold is.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from scalegmn.core.graph import collate, from_graph, to_graph
from scalegmn.core.symmetry import SymmetryTransform, apply_symmetry, sample_symmetry
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import NetworkWeights

TRANSFORMS: dict[str, tuple[bool, bool]] = {
    "permutation": (True, False),
    "scaling": (False, True),
    "permutation+scaling": (True, True),
}
# the symmetries each transform is made of (a model claims a transform when it claims all of them)
PARTS: dict[str, frozenset[str]] = {t: frozenset(t.split("+")) for t in TRANSFORMS}
THRESHOLD = 1e-4


@dataclass
class SymmetryCheck:
    """One row: the largest relative output change of ``model`` over all graphs and trials, whether it is
    below the threshold (``holds``) and whether the model claims this symmetry (``claimed``)."""

    model: str
    transform: str
    max_rel_change: float
    holds: bool
    claimed: bool
    kind: str

    @property
    def passed(self) -> bool:
        """A claimed symmetry holds (an unclaimed one is measured for reference only)."""
        return self.holds or not self.claimed

    def to_dict(self) -> dict:
        return asdict(self)


def _rel(a: Tensor, b: Tensor) -> float:
    return float((a - b).norm() / a.norm().clamp_min(1e-12))


def _params(batch, out: tuple[Tensor, Tensor], nets: list[NetworkWeights]) -> list[NetworkWeights]:
    """Equivariant outputs aligned with ``batch`` read as parameters of each network's architecture."""
    result: list[NetworkWeights] = list(nets)
    for indices, params in WeightBatch.from_graphs(batch, *out):
        rows = indices.tolist()
        for i, net in zip(rows, params.networks([nets[i] for i in rows])):
            result[i] = net
    return result


def _flat(net: NetworkWeights) -> Tensor:
    return torch.cat([t.reshape(-1) for t in net.weights + net.biases])


def check_symmetry(
    model: nn.Module,
    graphs: list,
    generator: torch.Generator,
    trials: int = 3,
    *,
    name: str | None = None,
    max_log_scale: float = math.log(4.0),
    threshold: float = THRESHOLD,
) -> list[SymmetryCheck]:
    """Rows for ``permutation``, ``scaling`` and ``permutation+scaling`` (``max_log_scale``: positive
    scalings ``q = exp(u)``, ``|u| <= max_log_scale``; default ``q`` in ``[1/4, 4]``)."""
    if not graphs:
        raise ValueError("check_symmetry needs at least one graph")
    net_model = copy.deepcopy(model).double().eval()
    nets = [from_graph(g).to(torch.float64) for g in graphs]
    widths = [int(g.edge_attr.shape[1]) for g in graphs]
    label = name or type(model).__name__
    claims = frozenset(getattr(model, "symmetries", ()))

    def run(networks: list[NetworkWeights]):
        batch = collate([to_graph(n, w) for n, w in zip(networks, widths)])
        with torch.no_grad():
            out = net_model(batch)
        return _params(batch, out, networks) if isinstance(out, tuple) else out

    base = run(nets)
    equivariant = isinstance(base, list)  # equivariant outputs come back as networks
    rows = []
    for transform, (permute, scale) in TRANSFORMS.items():
        worst = 0.0
        for _ in range(trials):
            ts: list[SymmetryTransform] = [
                sample_symmetry(n, generator, permute=permute, scale=scale, max_log_scale=max_log_scale) for n in nets
            ]
            moved = [apply_symmetry(n, t) for n, t in zip(nets, ts)]
            out = run(moved)
            if equivariant:
                for b, t, g in zip(base, ts, out):
                    worst = max(worst, _rel(_flat(apply_symmetry(b, t)), _flat(g)))
            else:
                for y, y2 in zip(base, out):
                    worst = max(worst, _rel(y, y2))
        rows.append(SymmetryCheck(label, transform, worst, worst < threshold, PARTS[transform] <= claims,
                                  "equivariance" if equivariant else "invariance"))
    return rows


def example_graphs(kind: str, activations: list[str], count: int, generator: torch.Generator) -> list:
    """``count`` float64 example graphs of one architecture (``cnn``: 1-8-8-8 convs -> 10; ``mlp``:
    2-16-16-3; ``siren``: 2-32-32-1), activations cycled from ``activations`` (SIRENs are always sine)."""
    from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren

    makers = {
        "cnn": lambda act: random_cnn((1, 8, 8, 8), 10, act, generator=generator),
        "mlp": lambda act: random_mlp((2, 16, 16, 3), act, generator=generator),
        "siren": lambda act: random_siren((2, 32, 32, 1), generator=generator),
    }
    if kind not in makers:
        raise ValueError(f"unknown example kind {kind!r}; expected one of {', '.join(makers)}")
    if count < 1:
        raise ValueError("need at least one example network")
    return [to_graph(makers[kind](activations[i % len(activations)])) for i in range(count)]


@dataclass(frozen=True)
class SymmetryCheckConfig:
    """The example networks a model is checked on (:func:`example_graphs`: ``networks`` of ``kind``,
    ``activations`` cycled) and ``trials`` random transforms of each type, all drawn from ``seed``."""

    kind: str = "cnn"
    activations: tuple[str, ...] = ("relu", "tanh")
    networks: int = 4
    trials: int = 3
    seed: int = 0


def check_model(model: str, config: SymmetryCheckConfig = SymmetryCheckConfig(),
                options: dict | None = None, name: str | None = None) -> list[SymmetryCheck]:
    """:func:`check_symmetry` of metanetwork ``model`` (a registered name, an entry point or an import path,
    built with model ``options`` and 2 outputs) on the example graphs of ``config``; rows labelled ``name``
    (default ``model``)."""
    from scalegmn.registry import build_model

    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    graphs = example_graphs(config.kind, list(config.activations), config.networks, generator)
    net = build_model(model, graphs[0], 2, **(options or {}))
    return check_symmetry(net, graphs, generator, config.trials, name=name or model)


def check_summary(model: str, rows: list[SymmetryCheck], config: SymmetryCheckConfig, seconds: float) -> str:
    """``check-symmetry: MODEL: H/C claimed symmetries hold (U unclaimed measured), T transformed networks in S s``."""
    claimed = [r for r in rows if r.claimed]
    return (f"check-symmetry: {model}: {sum(r.holds for r in claimed)}/{len(claimed)} claimed symmetries hold "
            f"({len(rows) - len(claimed)} unclaimed measured), "
            f"{len(rows) * config.trials * config.networks} transformed networks in {seconds:.2f} s")
