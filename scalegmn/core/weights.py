"""The network data type that carries every input network through the system.

A :class:`NetworkWeights` is a feed-forward network: zero or more ``Conv2d`` layers followed by zero or
more ``Linear`` layers, one activation after every layer but the last, and (between the last conv and
the first linear layer) either global average pooling or a flatten. Weights use PyTorch layouts:
Linear ``(out, in)``, Conv2d ``(out, in, kh, kw)``; biases ``(out,)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from scalegmn.core.activations import Sine, activation, activation_of_module

Pooling = Literal["avg", "flatten"]


class OutputOffset(nn.Module):
    """Adds a constant to the network output (the DWS INRs add +0.5)."""

    def __init__(self, offset: float) -> None:
        super().__init__()
        self.offset = float(offset)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.offset

    def extra_repr(self) -> str:
        return f"offset={self.offset}"


@dataclass(frozen=True)
class Architecture:
    """The structure of a network, independent of its weight values and activation.

    ``layer_sizes[l]`` is the number of neurons (channels) of node layer ``l``; layer ``0`` is the input.
    ``kernel_shapes[l]`` is ``(kh, kw)`` for a conv layer ``l`` (0-based weight layer) and ``None`` for
    a linear one. ``flatten_size`` is the number of spatial positions per channel that a flatten
    feeds into the first linear layer (1 with global average pooling or without convs).
    """

    layer_sizes: tuple[int, ...]
    kernel_shapes: tuple[tuple[int, int] | None, ...]
    strides: tuple[int, ...]
    paddings: tuple[int, ...]
    pooling: Pooling = "avg"
    flatten_size: int = 1

    @property
    def num_layers(self) -> int:
        return len(self.layer_sizes) - 1

    @property
    def num_convs(self) -> int:
        return sum(k is not None for k in self.kernel_shapes)

    @property
    def key(self) -> str:
        """A short string that identifies the architecture (used to share edge indices)."""
        kernels = ",".join("l" if k is None else f"{k[0]}x{k[1]}" for k in self.kernel_shapes)
        return (
            f"sizes={'-'.join(map(str, self.layer_sizes))};kernels={kernels};"
            f"strides={','.join(map(str, self.strides))};paddings={','.join(map(str, self.paddings))};"
            f"pool={self.pooling};flat={self.flatten_size}"
        )


@dataclass
class NetworkWeights:
    """One feed-forward network (MLP, SIREN or CNN) and its metadata.

    Attributes:
        weights: per layer, Linear ``(out, in)`` or Conv2d ``(out, in, kh, kw)``.
        biases: per layer, ``(out,)``.
        activation: one of :data:`scalegmn.core.activations.ACTIVATIONS`, applied after every layer except the last.
        strides, paddings: per layer (used by conv layers only; linear layers hold 1 and 0).
        pooling: ``"avg"`` (global average pooling) or ``"flatten"`` between convs and linears.
        w0: frequency of sine activations, ``sin(w0 * z)`` (every hidden layer).
        output_offset: constant added to the output (DWS INRs: 0.5).
        leaky_slope: negative slope of ``leaky_relu``.
        meta: id, source zoo, label, score, hyper-parameters... (free-form, JSON-serialisable).
    """

    weights: list[Tensor]
    biases: list[Tensor]
    activation: str
    strides: list[int] | None = None
    paddings: list[int] | None = None
    pooling: Pooling = "avg"
    w0: float = 1.0
    output_offset: float = 0.0
    leaky_slope: float = 0.01
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.weights = list(self.weights)
        self.biases = list(self.biases)
        n = len(self.weights)
        self.strides = [1] * n if self.strides is None else [int(s) for s in self.strides]
        self.paddings = [0] * n if self.paddings is None else [int(p) for p in self.paddings]
        self.validate()

    # ----------------------------------------------------------------- structure
    @property
    def num_layers(self) -> int:
        return len(self.weights)

    @property
    def is_conv(self) -> list[bool]:
        return [w.dim() == 4 for w in self.weights]

    @property
    def layer_sizes(self) -> list[int]:
        """Neurons (channels) per node layer, input first: ``[n_0, ..., n_L]``."""
        first = self.weights[0]
        return [int(first.shape[1])] + [int(w.shape[0]) for w in self.weights]

    @property
    def flatten_size(self) -> int:
        """Spatial positions per channel that the flatten feeds to the first linear layer."""
        for l in range(1, self.num_layers):
            if self.is_conv[l - 1] and not self.is_conv[l]:
                channels = self.weights[l - 1].shape[0]
                return int(self.weights[l].shape[1]) // int(channels)
        return 1

    @property
    def architecture(self) -> Architecture:
        return Architecture(
            layer_sizes=tuple(self.layer_sizes),
            kernel_shapes=tuple(
                (int(w.shape[2]), int(w.shape[3])) if w.dim() == 4 else None for w in self.weights
            ),
            strides=tuple(self.strides),
            paddings=tuple(self.paddings),
            pooling=self.pooling,
            flatten_size=self.flatten_size,
        )

    @property
    def dtype(self) -> torch.dtype:
        return self.weights[0].dtype

    @property
    def num_parameters(self) -> int:
        return sum(w.numel() for w in self.weights) + sum(b.numel() for b in self.biases)

    # ----------------------------------------------------------------- validation
    def validate(self) -> None:
        """Raise ``ValueError`` naming the layer if shapes, values or the activation are wrong."""
        activation(self.activation)
        if self.pooling not in ("avg", "flatten"):
            raise ValueError(f"unknown pooling {self.pooling!r}; expected 'avg' or 'flatten'")
        n = len(self.weights)
        if n == 0:
            raise ValueError("a network needs at least one layer")
        for name, seq in (("biases", self.biases), ("strides", self.strides), ("paddings", self.paddings)):
            if len(seq) != n:
                raise ValueError(f"{n} weight tensors but {len(seq)} {name}")
        seen_linear = False
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            if w.dim() not in (2, 4):
                raise ValueError(
                    f"layer {l}: weight must be 2-D (linear) or 4-D (conv), got shape {tuple(w.shape)}"
                )
            if w.dim() == 4 and seen_linear:
                raise ValueError(f"layer {l}: conv layer after a linear layer is not supported")
            seen_linear = seen_linear or w.dim() == 2
            if b.shape != (w.shape[0],):
                raise ValueError(
                    f"layer {l}: bias shape {tuple(b.shape)} does not match {w.shape[0]} output units"
                )
            if w.dtype != self.weights[0].dtype or b.dtype != self.weights[0].dtype:
                raise ValueError(f"layer {l}: dtype differs from layer 0 ({self.weights[0].dtype})")
            if not bool(torch.isfinite(w).all()):
                raise ValueError(f"layer {l}: weight contains non-finite values (NaN or inf)")
            if not bool(torch.isfinite(b).all()):
                raise ValueError(f"layer {l}: bias contains non-finite values (NaN or inf)")
            if self.strides[l] < 1 or self.paddings[l] < 0:
                raise ValueError(f"layer {l}: stride must be >= 1 and padding >= 0")
            if l == 0:
                continue
            prev_out = int(self.weights[l - 1].shape[0])
            fan_in = int(w.shape[1])
            if self.is_conv[l - 1] and w.dim() == 2 and self.pooling == "flatten":
                if fan_in % prev_out != 0:
                    raise ValueError(
                        f"layer {l}: {fan_in} inputs are not a multiple of the {prev_out} channels "
                        f"of layer {l - 1} (flatten)"
                    )
            elif fan_in != prev_out:
                raise ValueError(
                    f"layer {l}: expects {fan_in} inputs but layer {l - 1} has {prev_out} outputs"
                )
        if not math.isfinite(self.w0) or not math.isfinite(self.output_offset):
            raise ValueError("w0 and output_offset must be finite")

    # ----------------------------------------------------------------- helpers
    def replace_params(self, weights: list[Tensor], biases: list[Tensor]) -> "NetworkWeights":
        """A copy with new parameter tensors and the same architecture, activation and metadata."""
        return replace(self, weights=list(weights), biases=list(biases), meta=dict(self.meta))

    def to(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> "NetworkWeights":
        return self.replace_params(
            [w.to(device=device, dtype=dtype) for w in self.weights],
            [b.to(device=device, dtype=dtype) for b in self.biases],
        )

    def equals(self, other: "NetworkWeights") -> bool:
        """Bit-exact equality of parameters, architecture, activation settings and metadata."""
        return (
            self.architecture == other.architecture
            and self.activation == other.activation
            and self.w0 == other.w0
            and self.output_offset == other.output_offset
            and self.leaky_slope == other.leaky_slope
            and self.meta == other.meta
            and all(a.dtype == b.dtype and torch.equal(a, b) for a, b in zip(self.weights, other.weights))
            and all(a.dtype == b.dtype and torch.equal(a, b) for a, b in zip(self.biases, other.biases))
        )

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """Every field as tensors and JSON-like values (``meta`` as canonical JSON): the one record all our
        on-disk formats (zoo parts, dataset rows, graphs) are written from; :meth:`from_dict` inverts it."""
        return {
            "weights": [w.contiguous() for w in self.weights],
            "biases": [b.contiguous() for b in self.biases],
            "activation": self.activation,
            "strides": list(self.strides),
            "paddings": list(self.paddings),
            "pooling": self.pooling,
            "w0": float(self.w0),
            "output_offset": float(self.output_offset),
            "leaky_slope": float(self.leaky_slope),
            "meta": json.dumps(self.meta, sort_keys=True),
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "NetworkWeights":
        """The network of a :meth:`to_dict` record (validated)."""
        return cls(
            list(record["weights"]),
            list(record["biases"]),
            record["activation"],
            strides=[int(v) for v in record["strides"]],
            paddings=[int(v) for v in record["paddings"]],
            pooling=record["pooling"],
            w0=float(record["w0"]),
            output_offset=float(record["output_offset"]),
            leaky_slope=float(record["leaky_slope"]),
            meta=json.loads(record["meta"]),
        )

    # ----------------------------------------------------------------- torch modules
    def activation_module(self) -> nn.Module:
        return activation(self.activation).module(self.w0, self.leaky_slope)

    def to_module(self) -> nn.Sequential:
        """An equivalent ``nn.Sequential`` (parameters copied)."""
        modules: list[nn.Module] = []
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            if l > 0 and self.is_conv[l - 1] and w.dim() == 2:
                if self.pooling == "avg":
                    modules.append(nn.AdaptiveAvgPool2d(1))
                modules.append(nn.Flatten())
            if w.dim() == 4:
                layer: nn.Module = nn.Conv2d(
                    w.shape[1], w.shape[0], tuple(w.shape[2:]), stride=self.strides[l], padding=self.paddings[l]
                )
            else:
                layer = nn.Linear(w.shape[1], w.shape[0])
            layer = layer.to(dtype=w.dtype, device=w.device)
            with torch.no_grad():
                layer.weight.copy_(w)
                layer.bias.copy_(b)
            modules.append(layer)
            if l < self.num_layers - 1:
                modules.append(self.activation_module())
        if self.output_offset != 0.0:
            modules.append(OutputOffset(self.output_offset))
        return nn.Sequential(*modules)

    @classmethod
    def from_module(cls, seq: nn.Sequential, **meta: Any) -> "NetworkWeights":
        """Read a ``Sequential`` of Linear/Conv2d, activations, pooling/flatten and ``OutputOffset``."""
        weights: list[Tensor] = []
        biases: list[Tensor] = []
        strides: list[int] = []
        paddings: list[int] = []
        activations: list[nn.Module] = []
        pooling: Pooling = "flatten"
        offset = 0.0
        for i, m in enumerate(seq):
            where = f"module {i} ({type(m).__name__})"
            if offset != 0.0:
                raise ValueError(f"{where}: OutputOffset must be the last module")
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                if m.bias is None:
                    raise ValueError(f"{where}: layers without bias are not supported")
                if isinstance(m, nn.Conv2d):
                    if m.groups != 1 or tuple(m.dilation) != (1, 1):
                        raise ValueError(f"{where}: grouped or dilated convolutions are not supported")
                    if m.stride[0] != m.stride[1] or not isinstance(m.padding, tuple) or m.padding[0] != m.padding[1]:
                        raise ValueError(f"{where}: only equal, numeric stride and padding are supported")
                    strides.append(int(m.stride[0]))
                    paddings.append(int(m.padding[0]))
                else:
                    strides.append(1)
                    paddings.append(0)
                if len(activations) < len(weights):
                    raise ValueError(f"{where}: two layers without an activation between them")
                weights.append(m.weight.detach().clone())
                biases.append(m.bias.detach().clone())
            elif _is_activation(m):
                if len(activations) != len(weights) - 1:
                    raise ValueError(f"{where}: activation must follow a Linear or Conv2d layer")
                activations.append(m)
            elif isinstance(m, nn.AdaptiveAvgPool2d):
                if m.output_size not in (1, (1, 1)):
                    raise ValueError(f"{where}: only AdaptiveAvgPool2d(1) is supported")
                pooling = "avg"
            elif isinstance(m, nn.Flatten):
                pass
            elif isinstance(m, OutputOffset):
                offset = m.offset
            else:
                raise ValueError(f"{where}: unsupported module")
        if not weights:
            raise ValueError("the Sequential has no Linear or Conv2d layer")
        if len(activations) != len(weights) - 1:
            raise ValueError("the last layer must not be followed by an activation")
        names = {activation_of_module(a).name for a in activations} or {"relu"}
        if len(names) != 1:
            raise ValueError(f"all hidden layers must share one activation, found {sorted(names)}")
        act = activations[0] if activations else None
        return cls(
            weights,
            biases,
            names.pop(),
            strides=strides,
            paddings=paddings,
            pooling=pooling if any(w.dim() == 4 for w in weights) else "avg",
            w0=act.w0 if isinstance(act, Sine) else 1.0,
            output_offset=offset,
            leaky_slope=act.negative_slope if isinstance(act, nn.LeakyReLU) else 0.01,
            meta=dict(meta),
        )


def _is_activation(m: nn.Module) -> bool:
    try:
        activation_of_module(m)
    except ValueError:
        return False
    return True


def apply_activation(net: NetworkWeights, z: Tensor) -> Tensor:
    """The hidden activation of ``net`` applied elementwise to ``z``."""
    return activation(net.activation).function(z, net.w0, net.leaky_slope)


def forward(net: NetworkWeights, x: Tensor) -> Tensor:
    """The functional forward pass.

    Args:
        x: ``(batch, n_in)`` for MLPs/SIRENs, ``(batch, channels, H, W)`` for CNNs.
    Returns:
        ``(batch, n_out)`` (or ``(batch, C, H', W')`` for an all-conv network).
    """
    h = x
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        if w.dim() == 4:
            h = F.conv2d(h, w, b, stride=net.strides[l], padding=net.paddings[l])
        else:
            if h.dim() == 4:
                h = h.mean(dim=(2, 3)) if net.pooling == "avg" else h.flatten(1)
            h = F.linear(h, w, b)
        if l < net.num_layers - 1:
            h = apply_activation(net, h)
    return h + net.output_offset if net.output_offset != 0.0 else h
