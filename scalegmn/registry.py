"""Metanetworks by name or import path: ``build_model(name, example, out_dim, **config)``.

Protocol: a model is an ``nn.Module`` constructed as ``Class(example=example, out_dim=out_dim, **config)``
where ``example`` is one :func:`scalegmn.graph.to_graph` graph (used to infer sizes). Its forward takes a
PyG ``Batch`` of such graphs (:func:`scalegmn.graph.collate`) and returns ``(num_graphs, out_dim)``;
equivariant models (``equivariant=True``) return ``(node_out (N, 1), edge_out (E, K))`` aligned with
``batch.x`` / ``batch.edge_attr``. Any class following it can be named ``package.module:Class``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial

from torch import nn

from scalegmn.baselines import NFN, FlatMLP, StatNN
from scalegmn.nn import ScaleGMN

BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "scalegmn": partial(ScaleGMN, symmetry="auto"),
    "scalegmn-b": partial(ScaleGMN, symmetry="auto", bidirectional=True),
    # The factorized ScaleGMN-B keeps the reciprocal bound it was measured with (its reciprocals of raw
    # denormal weights diverged to NaN with the per-edge models' smaller eps).
    "gmn": partial(ScaleGMN, symmetry="permutation"),
    "scalegmn-fast": partial(ScaleGMN, symmetry="auto", edges="factorized"),
    "scalegmn-b-fast": partial(ScaleGMN, symmetry="auto", bidirectional=True, edges="factorized", recip_eps=1e-12),
    "gmn-fast": partial(ScaleGMN, symmetry="permutation", edges="factorized"),
    "statnn": StatNN,
    "mlp": FlatMLP,
    "nfn-np": partial(NFN, variant="np"),
    "nfn-hnp": partial(NFN, variant="hnp"),
}
MODEL_NAMES: tuple[str, ...] = tuple(BUILDERS)
EQUIVARIANT_MODELS: tuple[str, ...] = ("scalegmn", "scalegmn-b", "gmn", "scalegmn-fast", "scalegmn-b-fast",
                                       "gmn-fast")


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


def build_model(name: str, example, out_dim: int, **config) -> nn.Module:
    """Build metanetwork ``name`` for graphs like ``example`` with ``out_dim`` outputs."""
    builder = resolve(name)
    if config.get("equivariant") and name in BUILDERS and name not in EQUIVARIANT_MODELS:
        raise ValueError(f"model {name!r} has no equivariant variant; use one of {', '.join(EQUIVARIANT_MODELS)}")
    try:
        model = builder(example=example, out_dim=out_dim, **config)
    except TypeError as err:  # an unknown option, or a class that does not follow the protocol
        raise ValueError(f"model {name!r} cannot be built as {name}(example=..., out_dim=..., "
                         f"{', '.join(f'{k}=...' for k in config)}): {err}; see the protocol in "
                         "scalegmn.registry") from None
    if not isinstance(model, nn.Module):
        raise ValueError(f"model {name!r} built a {type(model).__name__}, not a torch.nn.Module")
    return model
