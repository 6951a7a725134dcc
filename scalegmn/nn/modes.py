"""The symmetry switch: which scaling group each node's features are canonicalized for.

Mode per row: ``PLAIN`` (no scaling symmetry: I/O nodes, permutation-only graphs, GMN), ``POSITIVE``
(``q > 0``: ReLU, LeakyReLU) or ``SIGN`` (``q = ±1``: tanh, sine).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from scalegmn.core.activations import GROUP_IDS

Symmetry = Literal["permutation", "scale", "sign", "auto"]
SYMMETRIES: tuple[str, ...] = ("permutation", "scale", "sign", "auto")

PLAIN, POSITIVE, SIGN = GROUP_IDS["none"], GROUP_IDS["positive"], GROUP_IDS["sign"]


def check_symmetry_name(symmetry: str) -> None:
    if symmetry not in SYMMETRIES:
        raise ValueError(f"unknown symmetry {symmetry!r}; expected one of {', '.join(SYMMETRIES)}")


def graph_vector(data) -> Tensor:
    """``(N,)`` graph index of every node (zeros for a single graph)."""
    batch = getattr(data, "batch", None)
    if batch is None:
        return torch.zeros(data.num_nodes, dtype=torch.long, device=data.x.device)
    return batch


def node_modes(data, symmetry: str) -> Tensor:
    """``(N,)`` mode of every node: hidden nodes get their graph's group, I/O nodes are ``PLAIN``.

    ``auto``: each graph its own activation's group (``data.group``); ``scale``: positive scalings for
    every graph; ``sign``: signs for every graph; ``permutation``: no scaling symmetry at all (GMN).
    """
    check_symmetry_name(symmetry)
    hidden = data.hidden_mask
    if symmetry == "permutation":
        return torch.zeros_like(hidden, dtype=torch.long)
    if symmetry == "auto":
        group = data.group.to(hidden.device)[graph_vector(data)]
    else:
        group = torch.full(hidden.shape, POSITIVE if symmetry == "scale" else SIGN, dtype=torch.long,
                           device=hidden.device)
    return torch.where(hidden, group, torch.zeros_like(group))
