"""What a task optimises and measures: targets, per-graph losses, split metrics and saved outputs.

An objective sees model outputs batch by batch (``prediction``/``target``/``loss``) and whole splits at
once (``metrics``, ``save_outputs``). Losses are per graph (shape ``(B,)``) so that the training loop can
normalise by the global batch size (exact gradient averaging under DDP).
"""

from __future__ import annotations

import abc
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch

from scalegmn.io import atomic_file
from scalegmn.tasks.inr import dilate, render_batch
from scalegmn.tasks.metrics import accuracy, mse, regression_metrics


class Objective(abc.ABC):
    """Targets, loss and metrics of one task (see the module docstring)."""

    selection_metric: str
    maximize: bool
    out_dim: int = 1

    def wrap(self, model: nn.Module) -> nn.Module:
        """The trainable module around a metanetwork (identity for invariant tasks)."""
        return model

    @abc.abstractmethod
    def target(self, batch: Batch) -> Tensor:
        """Training target of every graph of ``batch``: ``(B, ...)``."""

    def prediction(self, output: Tensor) -> Tensor:
        """Model output → prediction in float32, ``(B, ...)`` aligned with :meth:`target`."""
        return output.float()

    @abc.abstractmethod
    def loss(self, prediction: Tensor, target: Tensor) -> Tensor:
        """Per-graph loss ``(B,)``."""

    @abc.abstractmethod
    def metrics(self, prediction: Tensor, target: Tensor) -> dict[str, float]:
        """Metrics of a whole split from its concatenated predictions and targets."""

    @abc.abstractmethod
    def save_outputs(self, out_dir: Path, ids: list[str], prediction: Tensor, target: Tensor) -> None:
        """Write the task's test outputs (``predictions.csv`` or ``edit_examples.npz``) atomically."""


def _write_predictions(out_dir: Path, ids: list[str], true: np.ndarray, pred: np.ndarray) -> None:
    frame = pd.DataFrame({"id": ids, "true": true, "pred": pred})
    with atomic_file(out_dir / "predictions.csv") as tmp:
        frame.to_csv(tmp, index=False)


class ScoreRegression(Objective):
    """Generalization prediction: regress each CNN's test accuracy (``score``) with an MSE loss.

    Targets are z-scored with the mean/std of the training rows when ``normalize`` (metrics and saved
    predictions are always in the original units).
    """

    selection_metric = "kendall_tau"
    maximize = True

    def __init__(self, train_scores: np.ndarray, normalize: bool = True) -> None:
        self.mean = float(np.mean(train_scores)) if normalize else 0.0
        std = float(np.std(train_scores)) if normalize else 1.0
        self.std = std if std > 0 else 1.0

    def target(self, batch: Batch) -> Tensor:
        return (batch.score.float() - self.mean) / self.std

    def prediction(self, output: Tensor) -> Tensor:
        return output.float().reshape(-1)

    def loss(self, prediction: Tensor, target: Tensor) -> Tensor:
        return (prediction - target) ** 2

    def _original_units(self, values: Tensor) -> np.ndarray:
        return values.double().numpy() * self.std + self.mean

    def metrics(self, prediction: Tensor, target: Tensor) -> dict[str, float]:
        return regression_metrics(self._original_units(target), self._original_units(prediction))

    def save_outputs(self, out_dir: Path, ids: list[str], prediction: Tensor, target: Tensor) -> None:
        _write_predictions(out_dir, ids, self._original_units(target), self._original_units(prediction))


class LabelClassification(Objective):
    """INR classification: cross-entropy over ``num_classes`` logits; metric accuracy."""

    selection_metric = "accuracy"
    maximize = True

    def __init__(self, num_classes: int) -> None:
        if num_classes < 2:
            raise ValueError(f"classification needs at least 2 classes, found {num_classes}")
        self.out_dim = num_classes

    def target(self, batch: Batch) -> Tensor:
        return batch.label

    def loss(self, prediction: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(prediction, target, reduction="none")

    def metrics(self, prediction: Tensor, target: Tensor) -> dict[str, float]:
        return {"accuracy": accuracy(target.numpy(), prediction.argmax(dim=1).numpy())}

    def save_outputs(self, out_dir: Path, ids: list[str], prediction: Tensor, target: Tensor) -> None:
        _write_predictions(out_dir, ids, target.numpy(), prediction.argmax(dim=1).numpy())


class WeightEditor(nn.Module):
    """An equivariant metanetwork turned into an INR editor.

    ``forward(batch)`` adds ``alpha * Δ`` (the model's node/edge outputs, which transform like biases and
    weights) to the graph features and renders the edited INRs: ``(B, C, size, size)``. Rendering runs in
    float32 outside autocast (sine networks with ``w0 = 30`` do not survive half precision).
    """

    def __init__(self, model: nn.Module, size: int, alpha: float, learn_alpha: bool) -> None:
        super().__init__()
        self.model = model
        self.size = size
        alpha_t = torch.tensor(float(alpha))
        if learn_alpha:
            self.alpha = nn.Parameter(alpha_t)
        else:
            self.register_buffer("alpha", alpha_t)

    def forward(self, batch: Batch) -> Tensor:
        out = self.model(batch)
        if not isinstance(out, tuple) or len(out) != 2:
            raise ValueError("INR editing needs an equivariant model returning (node_out, edge_out)")
        node_out, edge_out = out
        device_type = batch.x.device.type
        with torch.autocast(device_type, enabled=False):
            x = batch.x.float() + self.alpha * node_out.float()
            edge_attr = batch.edge_attr.float() + self.alpha * edge_out.float()
            return render_batch(batch, self.size, x=x, edge_attr=edge_attr)


class DilationEditing(Objective):
    """INR editing: make the rendered INR the 3×3 grayscale dilation of its original rendering.

    ``target`` stacks ``(original, dilated)`` renderings ``(B, 2, C, H, W)``; the loss and the ``mse``
    metric compare the edited rendering with the dilated one. ``identity_mse`` is the error of leaving the
    network unedited (a reference any useful editor beats).
    """

    selection_metric = "mse"
    maximize = False

    def __init__(self, size: int, alpha: float = 0.0, learn_alpha: bool = True, num_examples: int = 16) -> None:
        self.size = size
        self.alpha = alpha
        self.learn_alpha = learn_alpha
        self.num_examples = num_examples

    def wrap(self, model: nn.Module) -> nn.Module:
        return WeightEditor(model, self.size, self.alpha, self.learn_alpha)

    @torch.no_grad()
    def target(self, batch: Batch) -> Tensor:
        with torch.autocast(batch.x.device.type, enabled=False):
            original = render_batch(batch, self.size, x=batch.x.float(), edge_attr=batch.edge_attr.float())
        return torch.stack([original, dilate(original)], dim=1)

    def loss(self, prediction: Tensor, target: Tensor) -> Tensor:
        return ((prediction - target[:, 1]) ** 2).flatten(1).mean(dim=1)

    def metrics(self, prediction: Tensor, target: Tensor) -> dict[str, float]:
        return {"mse": mse(target[:, 1].numpy(), prediction.numpy()),
                "identity_mse": mse(target[:, 1].numpy(), target[:, 0].numpy())}

    def save_outputs(self, out_dir: Path, ids: list[str], prediction: Tensor, target: Tensor) -> None:
        n = min(self.num_examples, len(ids))

        def images(t: Tensor) -> np.ndarray:
            arr = t[:n].numpy()  # (n, C, H, W)
            return arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)

        with atomic_file(out_dir / "edit_examples.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, original=images(target[:, 0]), edited=images(prediction),
                         target=images(target[:, 1]), id=np.array(ids[:n]))

