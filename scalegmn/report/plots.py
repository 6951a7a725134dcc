"""Report figures, drawn with matplotlib's object API (no pyplot state) and rendered as PNG (for the HTML
page), SVG and PDF (vector, for papers): each figure function returns ``{format: bytes}``.

Reference lines are drawn where a task has one: chance level (Kendall τ 0, accuracy 1/classes) and the image
oracle's accuracy for INR classification, the unedited images' MSE for editing, ``y = x`` in predicted-vs-true
plots. Axis limits of scatter plots are robust (0.5-99.5 percentiles of the targets, padded), so one outlier
does not squash the rest; points outside are counted in the panel title."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator, ScalarFormatter

from scalegmn.report.results import TaskSummary, is_scalegmn

HIGHLIGHT = "#d62728"
HIGHLIGHT_DARK = "#7f0000"
BASE = "#4c72b0"
OTHERS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
REFERENCE = "#333333"
DPI = 150
# format -> metadata that would differ between runs (dropped, so equal figures give equal bytes)
FORMATS: dict[str, dict[str, None]] = {"png": {"Software": None}, "svg": {"Date": None},
                                       "pdf": {"CreationDate": None}}


def render(fig: Figure) -> dict[str, bytes]:
    """``fig`` as PNG (``DPI``), SVG (text kept as text) and PDF bytes, each deterministic."""
    FigureCanvasAgg(fig)
    files = {}
    with matplotlib.rc_context({"svg.hashsalt": "scalegmn", "svg.fonttype": "none"}):
        for fmt, metadata in FORMATS.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
            files[fmt] = buffer.getvalue()
    return files


def _color(method: str) -> str:
    return HIGHLIGHT if is_scalegmn(method) else BASE


# the line style and its name of the first, second and third reference line of a panel
REFERENCE_STYLES: tuple[tuple[str, str], ...] = (("--", "dashed"), (":", "dotted"), ("-.", "dash-dotted"))


def _references(ax, references: Sequence[tuple[str, float]]) -> None:
    """Labelled horizontal reference lines (chance level, image oracle, unedited baseline), finite ones only."""
    for (label, value), (style, _) in zip(references, REFERENCE_STYLES):
        if math.isfinite(value):
            ax.axhline(value, color=REFERENCE, linewidth=0.9, linestyle=style, label=label, zorder=1.5)


def reference_note(references: Sequence[tuple[str, float]]) -> str:
    """``dashed: chance 0.1, dotted: image oracle 0.984``: the reference lines of a figure, in drawing order."""
    return ", ".join(f"{name}: {label} {value:.3g}" for (label, value), (_, name) in zip(references, REFERENCE_STYLES))


def bar_chart(summary: TaskSummary, metric: str, references: Sequence[tuple[str, float]] = ()) -> dict[str, bytes]:
    """Mean ``metric`` per method with 95 % interval error bars and every seed as a dot; ScaleGMN
    variants highlighted; ``references``: ``(label, value)`` lines such as the chance level (dashed, then dotted).
    The y axis spans the seeds, means and references (and 0), so an interval from few seeds may run past the
    frame."""
    methods = [m for m, s in summary.methods.items() if metric in s.metrics]
    stats = [summary.methods[m].metrics[metric] for m in methods]
    fig = Figure(figsize=(max(4.0, 0.8 * len(methods) + 1.5), 3.4), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(methods))
    ax.bar(x, np.nan_to_num([a.mean for a in stats]), yerr=np.nan_to_num([a.ci95 for a in stats]), capsize=4,
           color=[_color(m) for m in methods], alpha=0.85)
    shown = [a.mean for a in stats]
    for i, method in enumerate(methods):
        seeds = [r.test[metric] for r in summary.methods[method].runs if metric in r.test]
        shown += seeds
        ax.scatter(np.full(len(seeds), x[i]) + np.linspace(-0.15, 0.15, len(seeds)), seeds, s=10,
                   color="black", zorder=3, linewidths=0)
    finite = [v for v in shown + [value for _, value in references] if math.isfinite(v)]
    if finite:  # the seeds, means and references decide the axis; a wider interval is cut at the frame
        lo, hi = min(0.0, *finite), max(0.0, *finite)
        pad = 0.15 * (hi - lo or 1.0)
        ax.set_ylim(lo - (pad if lo < 0 else 0.0), hi + pad)
    if references:
        _references(ax, references)
        ax.legend(fontsize=7, loc="best")
    ax.set_xticks(x, methods, rotation=30, ha="right")
    ax.set_ylabel(summary.info.label(metric))
    ax.set_title(summary.info.title, fontsize=10)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(axis="y", alpha=0.3)
    return render(fig)


@dataclass
class ScatterPanel:
    """Predicted vs true targets of one method: ``seeds`` maps each seed to its ``(true, pred)`` 1-D arrays;
    ``best`` is drawn in colour on top, the other seeds in grey."""

    title: str
    seeds: dict[int, tuple[np.ndarray, np.ndarray]]
    best: int
    highlight: bool = False


def robust_limits(values: np.ndarray, pad: float = 0.05) -> tuple[float, float]:
    """The 0.5-99.5 percentile range of the finite ``values``, padded by ``pad`` of its width each side."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return 0.0, 1.0
    lo, hi = (float(q) for q in np.percentile(finite, [0.5, 99.5]))
    width = hi - lo or max(abs(hi), 1.0)
    return lo - pad * width, hi + pad * width


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
                 ylabel: str = "predicted") -> dict[str, bytes]:
    """One predicted-vs-true scatter per method (all seeds, the best one in colour) with the ``y = x``
    diagonal, on shared robust limits (:func:`robust_limits` of the true targets)."""
    fig, axes = _panel_grid(len(panels))
    lo, hi = robust_limits(np.concatenate([t for p in panels for t, _ in p.seeds.values()]))
    for ax, panel in zip(axes.flat, panels):
        color = HIGHLIGHT if panel.highlight else BASE
        order = [s for s in panel.seeds if s != panel.best] + [panel.best]
        outside = 0
        for seed in order:
            true, pred = panel.seeds[seed]
            best = seed == panel.best
            ax.scatter(true, pred, s=6 if best else 4, alpha=0.7 if best else 0.35, linewidths=0,
                       color=color if best else "#9a9a9a", label=f"seed {seed}" + (" (best)" if best else ""))
            outside += int(np.sum((pred < lo) | (pred > hi) | (true < lo) | (true > hi)))
        ax.plot([lo, hi], [lo, hi], color=REFERENCE, linewidth=0.8, linestyle="--", label="y = x")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        note = f"\n{outside} points outside the axes" if outside else ""
        ax.set_title(panel.title + note, fontsize=8, color=color, fontweight="bold" if panel.highlight else "normal")
        ax.legend(fontsize=6, loc="upper left", markerscale=2)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    return render(fig)


def line_colors(methods: Sequence[str]) -> dict[str, str]:
    """A colour per method: ScaleGMN variants in reds, the others from a palette without red."""
    reds = iter((HIGHLIGHT, HIGHLIGHT_DARK) * len(methods))
    others = iter(OTHERS * len(methods))
    return {m: next(reds) if is_scalegmn(m) else next(others) for m in methods}


def learning_curves(title: str, curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                    metric_label: str, references: Sequence[tuple[str, float]] = ()) -> dict[str, bytes]:
    """Per method ``(epochs, train_loss, val_metric)``: training loss (log scale if positive) and validation metric
    (displayed as ``metric_label``, with the ``references`` lines) against the epoch; ScaleGMN variants drawn
    thicker."""
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
        loss_ax.yaxis.set_major_formatter(ScalarFormatter())
        # within a decade a few minor ticks are labelled (1, 2, 5 times a power of ten), never all of them
        loss_ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
    _references(metric_ax, references)
    loss_ax.set_ylabel("training loss")
    metric_ax.set_ylabel(f"validation {metric_label}")
    for ax in (loss_ax, metric_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.legend(*metric_ax.get_legend_handles_labels(), loc="outside right center", fontsize=7)
    fig.suptitle(title, fontsize=10)
    return render(fig)


@dataclass
class ConfusionPanel:
    """Confusion counts of one run: ``matrix[i, j]`` test networks of class ``i`` predicted as ``j``."""

    title: str
    matrix: np.ndarray
    highlight: bool = False


def confusion_grid(title: str, panels: Sequence[ConfusionPanel]) -> dict[str, bytes]:
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
        ax.set_title(panel.title.replace(" (", "\n("), fontsize=8, color=color,
                     fontweight="bold" if panel.highlight else "normal")
    fig.suptitle(title, fontsize=10)
    return render(fig)


def image_grid(title: str, columns: dict[str, np.ndarray], count: int) -> dict[str, bytes]:
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
    return render(fig)


def histogram(title: str, xlabel: str, groups: dict[str, np.ndarray], bins: int) -> dict[str, bytes]:
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
    return render(fig)
