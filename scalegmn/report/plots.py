"""Report figures as PNG bytes, drawn with matplotlib's object API on the Agg canvas (no pyplot state)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scalegmn.report.results import TaskSummary, is_scalegmn

HIGHLIGHT = "#d62728"
HIGHLIGHT_DARK = "#7f0000"
BASE = "#4c72b0"
OTHERS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
DPI = 110


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG (no timestamp metadata, so equal figures give equal bytes)."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _color(method: str) -> str:
    return HIGHLIGHT if is_scalegmn(method) else BASE


def bar_chart(summary: TaskSummary, metric: str) -> bytes:
    """Mean ``metric`` per method with std error bars; ScaleGMN variants highlighted."""
    methods = [m for m, s in summary.methods.items() if metric in s.metrics]
    means = [summary.methods[m].metrics[metric].mean for m in methods]
    stds = [summary.methods[m].metrics[metric].std for m in methods]
    fig = Figure(figsize=(max(4.0, 0.8 * len(methods) + 1.5), 3.4), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(methods)), np.nan_to_num(means), yerr=np.nan_to_num(stds), capsize=4,
           color=[_color(m) for m in methods])
    ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right")
    ax.set_ylabel(summary.info.label(metric))
    ax.set_title(summary.info.title, fontsize=10)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(axis="y", alpha=0.3)
    return png_bytes(fig)


@dataclass
class ScatterPanel:
    """Predicted vs true target of one run (``true``, ``pred``: 1-D arrays of equal length)."""

    title: str
    true: np.ndarray
    pred: np.ndarray
    highlight: bool = False


def _panel_grid(count: int, size: float = 3.0, share: bool = True) -> tuple[Figure, np.ndarray]:
    """A figure with ``count`` panels, up to 4 per row (unused axes hidden)."""
    ncols = min(4, count)
    nrows = math.ceil(count / ncols)
    fig = Figure(figsize=(size * ncols, (size - 0.1) * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=share, sharey=share)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, axes


def scatter_grid(title: str, panels: Sequence[ScatterPanel], xlabel: str = "true test accuracy",
                 ylabel: str = "predicted") -> bytes:
    """One predicted-vs-true scatter per panel with the ``y = x`` diagonal, on shared axes."""
    fig, axes = _panel_grid(len(panels))
    values = np.concatenate([np.concatenate([p.true, p.pred]) for p in panels])
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    for ax, panel in zip(axes.flat, panels):
        color = HIGHLIGHT if panel.highlight else BASE
        ax.scatter(panel.true, panel.pred, s=6, alpha=0.6, color=color, linewidths=0)
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.7, linestyle="--")
        ax.set_title(panel.title, fontsize=9, color=color, fontweight="bold" if panel.highlight else "normal")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    return png_bytes(fig)


def line_colors(methods: Sequence[str]) -> dict[str, str]:
    """A colour per method: ScaleGMN variants in reds, the others from a palette without red."""
    reds = iter((HIGHLIGHT, HIGHLIGHT_DARK) * len(methods))
    others = iter(OTHERS * len(methods))
    return {m: next(reds) if is_scalegmn(m) else next(others) for m in methods}


def learning_curves(title: str, curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                    metric_label: str) -> bytes:
    """Per method ``(epochs, train_loss, val_metric)``: training loss (log scale if positive) and validation metric
    (displayed as ``metric_label``) against the epoch; ScaleGMN variants drawn thicker."""
    fig = Figure(figsize=(10.0, 3.3), layout="constrained")
    loss_ax, metric_ax = fig.subplots(1, 2)
    colors = line_colors(list(curves))
    for method, (epochs, loss, value) in curves.items():
        style = {"linewidth": 2.2 if is_scalegmn(method) else 1.1, "marker": "o" if len(epochs) <= 20 else None,
                 "markersize": 3, "label": method, "color": colors[method]}
        loss_ax.plot(epochs, loss, **style)
        metric_ax.plot(epochs, value, **style)
    losses = np.concatenate([loss for _, loss, _ in curves.values()])
    if bool((losses[np.isfinite(losses)] > 0).all()):
        loss_ax.set_yscale("log")
    loss_ax.set_ylabel("training loss")
    metric_ax.set_ylabel(f"validation {metric_label}")
    for ax in (loss_ax, metric_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.legend(*metric_ax.get_legend_handles_labels(), loc="outside right center", fontsize=7)
    fig.suptitle(title, fontsize=10)
    return png_bytes(fig)


@dataclass
class ConfusionPanel:
    """Confusion counts of one run: ``matrix[i, j]`` test networks of class ``i`` predicted as ``j``."""

    title: str
    matrix: np.ndarray
    highlight: bool = False


def confusion_grid(title: str, panels: Sequence[ConfusionPanel]) -> bytes:
    """One row-normalised confusion matrix per panel (rows: true class, columns: predicted class)."""
    fig, axes = _panel_grid(len(panels), share=False)
    for ax, panel in zip(axes.flat, panels):
        totals = panel.matrix.sum(axis=1, keepdims=True)
        ax.imshow(panel.matrix / np.maximum(totals, 1), cmap="Blues", vmin=0.0, vmax=1.0)
        k = panel.matrix.shape[0]
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.tick_params(labelsize=6)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        color = HIGHLIGHT if panel.highlight else BASE
        ax.set_title(panel.title, fontsize=9, color=color, fontweight="bold" if panel.highlight else "normal")
    fig.suptitle(title, fontsize=10)
    return png_bytes(fig)


def image_grid(title: str, columns: dict[str, np.ndarray], count: int) -> bytes:
    """The first ``count`` images of each column (arrays ``(n, H, W)`` or ``(n, H, W, C)``), side by side;
    grayscale rows share one colour scale."""
    count = min(count, *(len(a) for a in columns.values()))
    fig = Figure(figsize=(1.6 * len(columns), 1.6 * count + 0.5), layout="constrained")
    axes = fig.subplots(count, len(columns), squeeze=False)
    for i in range(count):
        row = np.stack([images[i] for images in columns.values()])
        lo, hi = float(row.min()), float(row.max())
        for j, image in enumerate(row):
            ax = axes[i, j]
            if image.ndim == 2:
                ax.imshow(image, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            else:
                ax.imshow(np.clip(image, 0.0, 1.0), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(list(columns)[j], fontsize=9)
    fig.suptitle(title, fontsize=10)
    return png_bytes(fig)


def histogram(title: str, xlabel: str, groups: dict[str, np.ndarray], bins: int) -> bytes:
    """Overlaid histograms of one quantity, one per group (e.g. per activation), on shared bins."""
    values = np.concatenate(list(groups.values()))
    edges = np.histogram_bin_edges(values, bins=bins)
    fig = Figure(figsize=(5.0, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for name, group in groups.items():
        ax.hist(group, bins=edges, alpha=0.6, label=f"{name} (n={len(group)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("networks")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return png_bytes(fig)
