"""Rows with and without scaling symmetry: ScaleEq nets on the first, plain MLPs on the second.

A row is a node (its own mode) or an edge message (its receiver's mode, see :mod:`modes`). Rows with a
scaling symmetry (POSITIVE, SIGN) may only go through scale-equivariant maps; PLAIN rows (I/O neurons,
activations without a scaling group, every row of a permutation-only GMN) go through ordinary MLPs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from scalegmn.nn.equivariant import ScaleEq
from scalegmn.nn.invariant import mlp
from scalegmn.nn.modes import PLAIN

MAX_RUNS = 4


@dataclass
class RowSplit:
    """The partition of ``R`` rows by mode, computed once per batch and reused by every layer.

    Rows sorted by kind (edges, see :class:`~scalegmn.nn.per_edge.EdgeGraph`) form a few contiguous
    ``runs`` ``(start, end, plain)``, processed as slices. Otherwise (nodes) ``scaled``/``plain`` are row
    indices and ``order`` puts ``[scaled rows, plain rows]`` back into row order.
    """

    mode: Tensor
    runs: list[tuple[int, int, bool]] | None
    scaled: Tensor | None = None
    plain: Tensor | None = None
    order: Tensor | None = None

    @classmethod
    def of(cls, mode: Tensor) -> "RowSplit":
        plain = mode == PLAIN
        cuts = [0] + ((plain[1:] != plain[:-1]).nonzero().squeeze(1) + 1).tolist() + [mode.numel()]
        if len(cuts) - 1 <= MAX_RUNS:
            flags = plain[torch.tensor(cuts[:-1], device=mode.device)].tolist() if mode.numel() else []
            return cls(mode, [(a, b, f) for a, b, f in zip(cuts[:-1], cuts[1:], flags)])
        scaled_idx = (~plain).nonzero().squeeze(1)
        plain_idx = plain.nonzero().squeeze(1)
        order = torch.argsort(torch.cat([scaled_idx, plain_idx]))
        return cls(mode, None, scaled_idx, plain_idx, order)


class RowNet(nn.Module):
    """``(R, in_dim) -> (R, out_dim)``: ``layers`` stacked ScaleEq on scaled rows, an MLP of ``layers + 1``
    linear layers on PLAIN rows. ``scaled=False`` (GMN) builds the MLP only. ``layer_norm``: LayerNorm
    before every SiLU (inside the ScaleEq gates too, where it only sees invariant features)."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int, layers: int, inv_layers: int, scaled: bool,
                 layer_norm: bool = False) -> None:
        super().__init__()
        self.eq = (nn.ModuleList(ScaleEq(in_dim if i == 0 else out_dim, out_dim, hidden, inv_layers,
                                         layer_norm=layer_norm)
                                 for i in range(layers)) if scaled else None)
        self.plain = mlp(in_dim, hidden, out_dim, layers + 1, layer_norm)

    def _rows(self, x: Tensor, mode: Tensor, plain: bool) -> Tensor:
        if plain:
            return self.plain(x)
        assert self.eq is not None, "a permutation-only RowNet got rows with a scaling symmetry"
        for layer in self.eq:
            x = layer(x, mode)
        return x

    def forward(self, x: Tensor, rows: RowSplit) -> Tensor:
        if rows.runs is not None:
            if len(rows.runs) == 1:
                return self._rows(x, rows.mode, rows.runs[0][2])
            sizes = [b - a for a, b, _ in rows.runs]
            return torch.cat([self._rows(xs, ms, p) for xs, ms, (_, _, p)
                              in zip(x.split(sizes), rows.mode.split(sizes), rows.runs)])
        scaled = self._rows(x[rows.scaled], rows.mode[rows.scaled], False)
        return torch.cat([scaled, self.plain(x[rows.plain])]).index_select(0, rows.order)
