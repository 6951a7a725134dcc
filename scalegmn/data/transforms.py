"""Graph transforms (PyG style: callables on a ``Data``, here also on a whole ``Batch`` at once).

:class:`RandomSymmetry` replaces a network by a random function-preserving permutation/scaling of it,
drawn from ``(seed, epoch, row, copy)`` (``row``: the graph's ``dataset_row``, or its position in the batch
when it has none; ``copy``: the
batch's ``copy_number`` attribute when present, else 1), so the same graph gets the same copy in a resumed run
and on every DDP rank; the same draw is repeated until :meth:`RandomSymmetry.set_epoch` moves to the next
epoch (our loader calls it; with another loader call it once per epoch). In a batch, graphs
with ``copy_number == 0`` are left as they are. :class:`PhaseCanonicalize` brings every sine network to a
canonical form (``phase`` or ``full``, :data:`scalegmn.core.symmetry.CANONICAL_FORMS`). Both keep every other
attribute (targets, ids) and never modify their input.
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Data

from scalegmn.core.symmetry import (canonicalize_phases, check_canonical_form, sample_group_element,
                                    transform_weights)
from scalegmn.core.weight_batch import WeightBatch, graph_architectures


def draw_seed(*parts: int) -> int:
    """A 63-bit seed from integers (stable across runs and platforms)."""
    digest = hashlib.sha256("\x00".join(str(int(p)) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def _per_graph(data: Data, name: str, default: float, dtype: torch.dtype) -> Tensor:
    """A graph-level attribute as a ``(B,)`` CPU tensor of ``dtype`` (one graph: ``(1,)``)."""
    value = getattr(data, name, None)
    if value is None:
        return torch.full((len(graph_architectures(data)),), default, dtype=dtype)
    return torch.as_tensor(value, dtype=dtype).reshape(-1).cpu()


def _activations(data: Data) -> list[str]:
    value = data.activation
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _with_weights(data: Data, groups: list[tuple[Tensor, WeightBatch]]) -> Data:
    """A shallow copy of ``data`` whose ``x`` / ``edge_attr`` hold the groups' (new) weights."""
    out = copy.copy(data)
    out.x, out.edge_attr = WeightBatch.graph_features(data, groups)
    return out


@dataclass
class RandomSymmetry:
    """A random permutation (``permute``) and scaling (``scale``: ``q = exp(U[-max_log_scale,
    max_log_scale])`` for ReLU-like, ``±1`` for tanh/sine) of every hidden layer, then the sine networks'
    ``canonicalize`` form (``none``, ``phase``: the signs drawn stay, ``full``: they are undone); see the module
    docstring for the draw."""

    permute: bool = True
    scale: bool = True
    max_log_scale: float = math.log(4.0)
    canonicalize: str = "none"
    seed: int = 0
    epoch: int = 0

    accepts_batch = True

    def __post_init__(self) -> None:
        check_canonical_form(self.canonicalize)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __call__(self, data: Data) -> Data:
        count = len(graph_architectures(data))
        index = _per_graph(data, "dataset_row", -1, torch.long) if "dataset_row" in data else torch.arange(count)
        copies = _per_graph(data, "copy_number", 1, torch.long)
        activations = _activations(data)
        groups = []
        for indices, weights in WeightBatch.from_graphs(data):
            perms: list[list[Tensor]] = [[] for _ in range(weights.arch.num_layers - 1)]
            scales: list[list[Tensor]] = [[] for _ in perms]
            hidden = weights.arch.layer_sizes[1:-1]
            for g in indices.cpu().tolist():
                if int(copies[g]) == 0:
                    element = sample_group_element(hidden, activations[g], torch.Generator(), permute=False,
                                                   scale=False)
                else:
                    generator = torch.Generator().manual_seed(
                        draw_seed(self.seed, self.epoch, int(index[g]), int(copies[g])))
                    element = sample_group_element(hidden, activations[g], generator, permute=self.permute,
                                                   scale=self.scale, max_log_scale=self.max_log_scale)
                for l in range(len(perms)):
                    perms[l].append(element.permutations[l])
                    scales[l].append(element.scales[l])
            device = weights.weights[0].device
            moved = transform_weights(weights, [torch.stack(p).to(device) for p in perms],
                                      [torch.stack(q).to(device) for q in scales])
            if self.canonicalize != "none":
                moved = _canonical(moved, indices, activations, _per_graph(data, "w0", 1.0, torch.float64),
                                   self.canonicalize, copies)
            groups.append((indices, moved))
        return _with_weights(data, groups)


def _canonical(weights: WeightBatch, indices: Tensor, activations: list[str], w0: Tensor, form: str,
               only: Tensor | None = None) -> WeightBatch:
    """The sine networks of a group (and, with ``only``, those with ``only > 0``) in canonical ``form``."""
    rows = indices.cpu().tolist()
    pick = torch.tensor([activations[g] == "sine" and (only is None or int(only[g]) > 0) for g in rows])
    if not bool(pick.any()):
        return weights
    canonical = canonicalize_phases(weights, w0[indices.cpu()], form)
    mask = pick.to(weights.weights[0].device)
    return WeightBatch(weights.arch,
                       [torch.where(mask.view(-1, *[1] * (a.dim() - 1)), a, b)
                        for a, b in zip(canonical.weights, weights.weights)],
                       [torch.where(mask.view(-1, 1), a, b) for a, b in zip(canonical.biases, weights.biases)])


@dataclass
class PhaseCanonicalize:
    """Every sine network in canonical ``form`` (``phase`` or ``full``,
    :func:`scalegmn.core.symmetry.phase_canonicalize`); other activations are left as they are."""

    form: str = "full"

    accepts_batch = True

    def __post_init__(self) -> None:
        if check_canonical_form(self.form) == "none":
            raise ValueError("PhaseCanonicalize needs form 'phase' or 'full' (for 'none' use no transform)")

    def __call__(self, data: Data) -> Data:
        activations = _activations(data)
        if "sine" not in activations:
            return data
        w0 = _per_graph(data, "w0", 1.0, torch.float64)
        return _with_weights(data, [(indices, _canonical(weights, indices, activations, w0, self.form))
                                    for indices, weights in WeightBatch.from_graphs(data)])


@dataclass
class AugmentConfig:
    """Symmetry copies of the training networks, drawn on the fly: ``copies`` per network per epoch
    (0: none) with :class:`RandomSymmetry`'s ``permute`` / ``scale`` / ``max_log_scale``; the epoch also has
    every network once as it is when ``keep_originals`` (``copies=1, keep_originals=False``: classic data
    augmentation, each network replaced by a fresh copy every epoch, the same number of steps as without)."""

    copies: int = 0
    permute: bool = True
    scale: bool = True
    max_log_scale: float = math.log(4.0)
    keep_originals: bool = True

    def __post_init__(self) -> None:
        if self.copies < 0:
            raise ValueError(f"copies must be >= 0, got {self.copies}")
        if not self.keep_originals and not self.copies:
            raise ValueError("keep_originals: false needs copies >= 1 (an epoch would have no networks)")
        if not (self.max_log_scale >= 0 and math.isfinite(self.max_log_scale)):
            raise ValueError(f"max_log_scale must be finite and >= 0, got {self.max_log_scale}")

    def transform(self, seed: int, canonicalize: str = "none") -> RandomSymmetry | None:
        """The transform that draws the copies (``None`` without copies)."""
        if not self.copies:
            return None
        return RandomSymmetry(self.permute, self.scale, self.max_log_scale, canonicalize, seed)


@dataclass
class Compose:
    """Transforms applied in order; accepts whole batches when every one of them does."""

    transforms: list

    @property
    def accepts_batch(self) -> bool:  # type: ignore[override]
        return all(getattr(t, "accepts_batch", False) for t in self.transforms)

    def __call__(self, data: Data) -> Data:
        for t in self.transforms:
            data = t(data)
        return data
