"""Benchmark tasks (DESIGN §8): which rows of a graph dataset a task uses and what it optimises.

| task | rows | objective |
| --- | --- | --- |
| ``genpred-relu`` / ``genpred-tanh`` / ``genpred-mixed`` | CNNs with a ``score`` (ReLU / tanh / all) | MSE on the (z-scored) score; Kendall τ, R², MSE |
| ``inr-classification`` | INRs with a ``label`` | cross-entropy; accuracy |
| ``inr-editing`` | INRs (equivariant models only) | MSE of the edited rendering to the 3×3-dilated original |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from scalegmn.tasks.objectives import DilationEditing, LabelClassification, Objective, ScoreRegression

SPLITS: tuple[str, ...] = ("train", "val", "test")
OBJECTIVES: dict[str, type[Objective]] = {
    "regression": ScoreRegression,
    "classification": LabelClassification,
    "editing": DilationEditing,
}


class NotApplicableError(ValueError):
    """The method cannot do the task (e.g. an invariant-only model asked to edit weights)."""


@dataclass(frozen=True)
class Task:
    """A benchmark task: the rows it uses and the kind of objective.

    Attributes:
        name: task name (``genpred-relu``, ...).
        zoo: the kind of zoo it reads, ``"cnn"`` or ``"inr"``.
        kind: ``"regression"`` (target ``score``), ``"classification"`` (``label``) or ``"editing"``.
        activations: keep only networks with these activations (``None``: all).
        equivariant: needs a model with node/edge outputs (``build_model(..., equivariant=True)``).
    """

    name: str
    zoo: str
    kind: str
    activations: tuple[str, ...] | None = None
    equivariant: bool = False

    @property
    def selection_metric(self) -> str:
        """The validation metric that selects the best epoch (``kendall_tau``, ``accuracy`` or ``mse``)."""
        return OBJECTIVES[self.kind].selection_metric

    @property
    def maximize(self) -> bool:
        return OBJECTIVES[self.kind].maximize

    def rows(self, frame: pd.DataFrame, eval_augmented: bool = False) -> dict[str, Tensor]:
        """Row indices per split (ascending). Val/test keep originals only unless ``eval_augmented``."""
        keep = np.ones(len(frame), dtype=bool)
        if self.activations is not None:
            keep &= frame["activation"].isin(self.activations).to_numpy()
        if self.kind == "regression":
            keep &= np.isfinite(frame["score"].to_numpy(dtype=np.float64))
        elif self.kind == "classification":
            keep &= frame["label"].to_numpy() >= 0
        elif self.kind == "editing":
            keep &= (frame["activation"] == "sine").to_numpy()
        original = frame["aug_seed"].to_numpy() < 0
        out = {}
        for split in SPLITS:
            mask = keep & (frame["split"] == split).to_numpy()
            if split != "train" and not eval_augmented:
                mask &= original
            out[split] = torch.from_numpy(frame["row"].to_numpy()[mask]).long()
        return out

    def objective(self, frame: pd.DataFrame, train_rows: Tensor, config: dict[str, Any]) -> Objective:
        """The objective, fitted to the training rows where it needs to be (target normalisation).

        ``config`` keys used: ``normalize_target`` (regression), ``image_size``, ``edit_alpha``,
        ``learn_alpha``, ``num_examples`` (editing).
        """
        by_row = frame.set_index("row")
        if self.kind == "regression":
            scores = by_row.loc[train_rows.numpy(), "score"].to_numpy(dtype=np.float64)
            return ScoreRegression(scores, normalize=bool(config.get("normalize_target", True)))
        if self.kind == "classification":
            return LabelClassification(int(frame["label"].max()) + 1)
        return DilationEditing(
            size=int(config["image_size"]),
            alpha=float(config.get("edit_alpha", 0.0)),
            learn_alpha=bool(config.get("learn_alpha", True)),
            num_examples=int(config.get("num_examples", 16)),
        )


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("genpred-relu", "cnn", "regression", ("relu",)),
        Task("genpred-tanh", "cnn", "regression", ("tanh",)),
        Task("genpred-mixed", "cnn", "regression"),
        Task("inr-classification", "inr", "classification"),
        Task("inr-editing", "inr", "editing", equivariant=True),
    )
}


def get_task(name: str) -> Task:
    """The task called ``name``; ``ValueError`` listing the known tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}") from None


__all__ = ["TASKS", "NotApplicableError", "Objective", "Task", "get_task"]
