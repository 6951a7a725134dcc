"""Metanetworks by name, entry point or import path: ``build_model(name, example, out_dim, **config)``.

Protocol: a model is an ``nn.Module`` constructed as ``Class(example=example, out_dim=out_dim, **config)``
where ``example`` is one :func:`scalegmn.core.graph.to_graph` graph (used to infer sizes). Its forward takes a
PyG ``Batch`` of such graphs (:func:`scalegmn.core.graph.collate`) and returns ``(num_graphs, out_dim)``;
equivariant models (``equivariant=True``) return ``(node_out (N, 1), edge_out (E, K))`` aligned with
``batch.x`` / ``batch.edge_attr``. Any class following it can be named ``package.module:Class``.

A model class says whether it can be equivariant: ``supports_equivariant = True`` (a class that builds both
kinds, with an ``equivariant`` property or attribute on the instance) or ``equivariant = True`` (always
equivariant). A class with neither counts as invariant only (:func:`supports_equivariant`). Its options are
its constructor's keyword parameters, or the fields of its ``options_type`` dataclass when it takes ``**config``
(:func:`model_options`).

A name resolves (:func:`resolve`) as a built-in (:data:`BUILDERS`), else as an import path, else as an entry
point of the group :data:`ENTRY_POINT_GROUP` of an installed package (``layer-norms = "pkg:Class"`` in its
``pyproject.toml``). Folders and files are named by :func:`method_slug`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from functools import partial
from typing import Any

from torch import nn

from scalegmn.baselines import NFN, FlatMLP, StatNN
from scalegmn.config import ConfigError
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


ENTRY_POINT_GROUP = "scalegmn.metanetworks"
METHOD_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")  # a built-in, entry-point or settings method name
METHOD_NAME_RULE = "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
IMPORT_PATH = re.compile(r"(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):(?P<attr>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)",
                         re.ASCII)


def method_slug(method: str) -> str:
    """The folder and file name of a method: a name (``[a-z0-9][a-z0-9._-]*``) is its own slug, an import path
    ``package.module:Class`` becomes ``package.module.Class``; ``ValueError`` for anything else."""
    if METHOD_NAME.fullmatch(method):
        return method
    path = IMPORT_PATH.fullmatch(method)
    if path is None:
        raise ValueError(f"method {method!r} is neither a name ({METHOD_NAME_RULE}) nor an import path "
                         "'package.module:Class'")
    return f"{path['module']}.{path['attr']}"


def entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """The installed packages' metanetworks: entry points of the group :data:`ENTRY_POINT_GROUP`, by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def resolve(name: str) -> Callable[..., nn.Module]:
    """The constructor of model ``name``: a built-in, an import path ``package.module:Class``, or an entry point
    of the group :data:`ENTRY_POINT_GROUP`, tried in that order; ``ValueError`` saying what was tried."""
    if name in BUILDERS:
        return BUILDERS[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as err:
            raise ValueError(f"model {name!r}: cannot import module {module_name!r} ({err})") from err
        for part in attr.split("."):
            obj = getattr(obj, part, None)
        if obj is None or not callable(obj):
            raise ValueError(f"model {name!r}: module {module_name!r} has no class {attr!r}")
        return obj
    installed = entry_points()
    if name not in installed:
        raise ValueError(f"unknown model {name!r}: not a built-in ({', '.join(MODEL_NAMES)}), not an entry point "
                         f"of the group {ENTRY_POINT_GROUP!r} (installed: {', '.join(installed) or 'none'}) and not "
                         "an import path 'package.module:Class'")
    point = installed[name]
    try:
        obj = point.load()
    except (ImportError, AttributeError) as err:
        package = f" of {point.dist.name}" if point.dist else ""
        raise ValueError(f"model {name!r}: cannot load its entry point {point.value!r}{package} ({err})") from err
    if not callable(obj):
        raise ValueError(f"model {name!r}: entry point {point.value!r} is not a class")
    return obj


def model_options(builder: Callable[..., Any]) -> tuple[str, ...] | None:
    """The options a constructor takes besides ``example`` and ``out_dim``: its keyword parameters, or the
    fields of its class's ``options_type`` dataclass when it takes ``**config``; ``None`` (any option) for
    ``**config`` without ``options_type`` or a constructor without a readable signature."""
    declared = getattr(model_class(builder), "options_type", None)
    if is_dataclass(declared):
        return tuple(f.name for f in fields(declared) if f.init)
    try:
        params = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): the build itself will say
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                 and p.name not in ("example", "out_dim"))


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


def metanetwork(settings: dict[str, Any], method: str, where: str = "train settings") -> str:
    """The model ``method`` trains: its ``methods.<method>.metanetwork`` (a built-in, entry-point or import-path
    name), else ``method`` itself; method names in ``methods`` must be :data:`~scalegmn.registry.METHOD_NAME`
    (they name folders and DVC stages), a :class:`ConfigError` says so otherwise."""
    methods = settings.get("methods") or {}
    if not isinstance(methods, dict):
        raise ConfigError(f"{where}: section 'methods' must be a mapping")
    for name in methods:
        if not isinstance(name, str) or not METHOD_NAME.fullmatch(name):
            raise ConfigError(f"{where}: methods: method name {name!r} is not {METHOD_NAME_RULE} (it names "
                              "folders and DVC stages); name the method, e.g. 'layer-norms', and give its class "
                              "as metanetwork: 'package.module:Class'")
    entry = methods.get(method)
    spec = entry.get("metanetwork", method) if isinstance(entry, dict) else method
    if not isinstance(spec, str):
        raise ConfigError(f"{where}: methods: {method}: metanetwork: expected a model name or import path, "
                          f"got {spec!r}")
    return spec
