"""The hidden activations a network may use: one record per activation.

Each :class:`Activation` names its function, the ``nn.Module`` that computes it, the group of scalars ``q``
with ``act(q z) = q act(z)`` (positive reals, signs, or only ``1``) and the integer ids graphs carry
(``act`` and ``group``). ``w0`` (sine frequency) and ``leaky_slope`` are the per-network parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ScalingGroup = Literal["positive", "sign", "none"]
GROUP_IDS: dict[str, int] = {"none": 0, "positive": 1, "sign": 2}


class Sine(nn.Module):
    """``sin(w0 * x)``: the SIREN activation."""

    def __init__(self, w0: float = 30.0) -> None:
        super().__init__()
        self.w0 = float(w0)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sin(self.w0 * x)

    def extra_repr(self) -> str:
        return f"w0={self.w0}"


@dataclass(frozen=True)
class Activation:
    """One activation: ``function(z, w0, leaky_slope)`` elementwise, ``module(w0, leaky_slope)`` the
    equivalent module (of type ``module_type``), its scaling ``group`` and the ids stored in graphs."""

    name: str
    id: int
    group: ScalingGroup
    function: Callable[[Tensor, float, float], Tensor]
    module: Callable[[float, float], nn.Module]
    module_type: type[nn.Module]

    @property
    def group_id(self) -> int:
        return GROUP_IDS[self.group]


_RECORDS: tuple[tuple[str, ScalingGroup, Callable[[Tensor, float, float], Tensor], Callable[[float, float], nn.Module],
                      type[nn.Module]], ...] = (
    ("relu", "positive", lambda z, w0, s: F.relu(z), lambda w0, s: nn.ReLU(), nn.ReLU),
    ("leaky_relu", "positive", lambda z, w0, s: F.leaky_relu(z, s), lambda w0, s: nn.LeakyReLU(s), nn.LeakyReLU),
    ("tanh", "sign", lambda z, w0, s: torch.tanh(z), lambda w0, s: nn.Tanh(), nn.Tanh),
    ("sine", "sign", lambda z, w0, s: torch.sin(w0 * z), lambda w0, s: Sine(w0), Sine),
    ("sigmoid", "none", lambda z, w0, s: torch.sigmoid(z), lambda w0, s: nn.Sigmoid(), nn.Sigmoid),
    ("gelu", "none", lambda z, w0, s: F.gelu(z), lambda w0, s: nn.GELU(), nn.GELU),
)
ACTIVATION_RECORDS: dict[str, Activation] = {
    name: Activation(name, i, group, function, module, module_type)
    for i, (name, group, function, module, module_type) in enumerate(_RECORDS)
}
ACTIVATIONS: tuple[str, ...] = tuple(ACTIVATION_RECORDS)


def activation(name: str) -> Activation:
    """The record of activation ``name``; ``ValueError`` listing the known ones otherwise."""
    try:
        return ACTIVATION_RECORDS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}") from None


def activation_of_module(module: nn.Module) -> Activation:
    """The record whose module type ``module`` is (``LeakyReLU`` before ``ReLU``: exact types only)."""
    for record in ACTIVATION_RECORDS.values():
        if type(module) is record.module_type:
            return record
    raise ValueError(f"unsupported activation module {type(module).__name__}")


def scaling_group(name: str) -> ScalingGroup:
    """The group of scalars ``q`` with ``act(q x) = q act(x)``: positive reals, signs, or trivial."""
    return activation(name).group
