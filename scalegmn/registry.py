"""Metanetworks by name or import path: ``build_model(name, example, out_dim, **config)``.

Protocol: a model is an ``nn.Module`` constructed as ``Class(example=example, out_dim=out_dim, **config)``
where ``example`` is one :func:`scalegmn.core.graph.to_graph` graph (used to infer sizes). Its forward takes a
PyG ``Batch`` of such graphs (:func:`scalegmn.core.graph.collate`) and returns ``(num_graphs, out_dim)``;
equivariant models (``equivariant=True``) return ``(node_out (N, 1), edge_out (E, K))`` aligned with
``batch.x`` / ``batch.edge_attr``. Any class following it can be named ``package.module:Class``.

A model class says whether it can be equivariant: ``supports_equivariant = True`` (a class that builds both
kinds, with an ``equivariant`` property or attribute on the instance) or ``equivariant = True`` (always
equivariant). A class with neither counts as invariant only (:func:`supports_equivariant`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn

from scalegmn.baselines import NFN, FlatMLP, StatNN
from scalegmn.nn import ScaleGMN

# in report order (scalegmn.report lists methods in this order): baselines first, the ScaleGMN variants last
BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "statnn": StatNN,
    "mlp": FlatMLP,
    "nfn-np": partial(NFN, variant="np"),
    "nfn-hnp": partial(NFN, variant="hnp"),
    "gmn-fast": partial(ScaleGMN, symmetry="permutation", edges="factorized"),
    "gmn": partial(ScaleGMN, symmetry="permutation"),
    "scalegmn-fast": partial(ScaleGMN, symmetry="auto", edges="factorized"),
    # The factorized ScaleGMN-B keeps the reciprocal bound it was measured with (its reciprocals of raw
    # denormal weights diverged to NaN with the per-edge models' smaller eps).
    "scalegmn-b-fast": partial(ScaleGMN, symmetry="auto", bidirectional=True, edges="factorized", recip_eps=1e-12),
    "scalegmn": partial(ScaleGMN, symmetry="auto"),
    "scalegmn-b": partial(ScaleGMN, symmetry="auto", bidirectional=True),
}
MODEL_NAMES: tuple[str, ...] = tuple(BUILDERS)


def resolve(name: str) -> Callable[..., nn.Module]:
    """The constructor registered as ``name``, or the class at import path ``package.module:Class``."""
    if name in BUILDERS:
        return BUILDERS[name]
    if ":" not in name:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)} "
                         "or an import path 'package.module:Class'")
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"model {name!r}: cannot import module {module_name!r} ({err})") from err
    cls = getattr(module, attr, None)
    if cls is None or not callable(cls):
        raise ValueError(f"model {name!r}: module {module_name!r} has no class {attr!r}")
    return cls


def model_class(builder: Callable[..., Any]) -> Callable[..., Any]:
    """The class (or function) behind a constructor: ``functools.partial`` wrappers removed."""
    while isinstance(builder, partial):
        builder = builder.func
    return builder


def supports_equivariant(model: str | Callable[..., Any]) -> bool:
    """Whether a model (a registered name, an import path or a class/factory) declares that it can be built
    with ``equivariant=True``: its class has ``supports_equivariant = True`` or ``equivariant = True``.
    Classes without either count as invariant only."""
    cls = model_class(resolve(model) if isinstance(model, str) else model)
    declared = getattr(cls, "supports_equivariant", None)
    if declared is None:
        declared = getattr(cls, "equivariant", False)
    return declared is True


def equivariant_models() -> tuple[str, ...]:
    """The registered models that can be equivariant (asked of their classes)."""
    return tuple(name for name in MODEL_NAMES if supports_equivariant(name))


def build_model(name: str, example, out_dim: int, **config) -> nn.Module:
    """Build metanetwork ``name`` for graphs like ``example`` with ``out_dim`` outputs."""
    builder = resolve(name)
    if config.get("equivariant") and not supports_equivariant(builder):
        raise ValueError(f"model {name!r} has no equivariant variant (its class declares no "
                         f"supports_equivariant = True); use one of {', '.join(equivariant_models())}")
    try:
        model = builder(example=example, out_dim=out_dim, **config)
    except TypeError as err:  # an unknown option, or a class that does not follow the protocol
        raise ValueError(f"model {name!r} cannot be built as {name}(example=..., out_dim=..., "
                         f"{', '.join(f'{k}=...' for k in config)}): {err}; see the protocol in "
                         "scalegmn.registry") from None
    if not isinstance(model, nn.Module):
        raise ValueError(f"model {name!r} built a {type(model).__name__}, not a torch.nn.Module")
    return model
