"""scalegmn: benchmark suite and data pipeline for metanetworks (ScaleGMN and baselines).

The stable public API is the names below; scripts should import them from ``scalegmn`` rather than from the
internal modules, whose layout may change::

    from scalegmn import NetworkWeights, forward, random_symmetry, to_graph, collate, open_dataset, build_model

Networks: :class:`NetworkWeights` (one network), :func:`forward` (its functional forward pass),
:class:`WeightBatch` (per-layer weights of many networks of one architecture). Symmetries:
:func:`random_symmetry`, :func:`apply_symmetry`, :func:`phase_canonicalize`, and the dataset transforms
:class:`RandomSymmetry` and :class:`PhaseCanonicalize`. Graphs: :func:`to_graph`, :func:`from_graph`,
:func:`collate`. Data: :func:`open_dataset` (a PyG ``Dataset``), :class:`GraphLoader`, the zoo readers
:func:`load_networks`, :func:`read_small_cnn_zoo` and :func:`read_dws_inrs`. Models and training:
:func:`build_model`, :func:`train`, :class:`TrainConfig`, :func:`check_symmetry`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "NetworkWeights": "scalegmn.core.weights",
    "Architecture": "scalegmn.core.weights",
    "forward": "scalegmn.core.weights",
    "WeightBatch": "scalegmn.core.weight_batch",
    "random_symmetry": "scalegmn.core.symmetry",
    "apply_symmetry": "scalegmn.core.symmetry",
    "sample_symmetry": "scalegmn.core.symmetry",
    "phase_canonicalize": "scalegmn.core.symmetry",
    "to_graph": "scalegmn.core.graph",
    "from_graph": "scalegmn.core.graph",
    "collate": "scalegmn.core.graph",
    "RandomSymmetry": "scalegmn.data.transforms",
    "PhaseCanonicalize": "scalegmn.data.transforms",
    "open_dataset": "scalegmn.data.reader",
    "GraphLoader": "scalegmn.data.loader",
    "InMemoryGraphDataset": "scalegmn.data.dataset",
    "load_networks": "scalegmn.zoo.load",
    "read_small_cnn_zoo": "scalegmn.zoo.small_cnn_zoo",
    "read_dws_inrs": "scalegmn.zoo.inr_readers",
    "build_model": "scalegmn.registry",
    "train": "scalegmn.run.trainer",
    "TrainConfig": "scalegmn.run.config",
    "check_symmetry": "scalegmn.diagnostics.symmetry_checker",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """The public names, imported on first use (``import scalegmn`` stays cheap and free of import cycles)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'scalegmn' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
