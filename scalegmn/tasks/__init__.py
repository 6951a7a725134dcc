"""Benchmark tasks (DESIGN §8). Each task kind is one class that owns its facts: the rows it uses
(:meth:`Task.select`), its objective, its metrics with their direction and display label, the metric that
selects the best epoch, its title, the chance level where one is defined, which models apply and its own
typed options.

- ``genpred-relu`` / ``genpred-tanh`` / ``genpred-mixed`` (:class:`GeneralizationPrediction`): CNNs with a
  ``score`` (ReLU / tanh / all); MSE on the (z-scored) score; Kendall τ, R², MSE.
- ``inr-classification`` (:class:`INRClassification`): INRs with a ``label``; cross-entropy; accuracy.
- ``inr-editing`` (:class:`INREditing`): sine INRs, equivariant models only; MSE of the edited rendering to
  the 3×3-dilated original.

Task options are read from the same settings mapping as the training options (``params.yaml``
``train.tasks.<task>``): :meth:`Task.options` takes the keys of its own options dataclass and refuses keys
that no task knows (with a did-you-mean).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from scalegmn.config import check_keys, from_mapping
from scalegmn.tasks.objectives import DilationEditing, LabelClassification, Objective, ScoreRegression

SPLITS: tuple[str, ...] = ("train", "val", "test")


class NotApplicableError(ValueError):
    """The method cannot do the task (e.g. an invariant-only model asked to edit weights)."""


@dataclass(frozen=True)
class Metric:
    """A metric a task reports: its key in the results, its display label and its direction
    (``higher_is_better``: ``True`` ↑, ``False`` ↓, ``None`` a reference value that ranks nothing)."""

    name: str
    label: str
    higher_is_better: bool | None = None

    @property
    def arrow(self) -> str:
        return {True: " ↑", False: " ↓", None: ""}[self.higher_is_better]

    def display(self, arrow: bool = True) -> str:
        """The label, with the direction arrow if ``arrow`` and the metric has a direction."""
        return self.label + (self.arrow if arrow else "")


LOSS = Metric("loss", "loss", higher_is_better=False)  # every split's mean loss (reported by the trainer)


@dataclass(frozen=True)
class NoOptions:
    """Options of a task that has none."""


@dataclass(frozen=True)
class RegressionOptions:
    """Generalization prediction: ``normalize_target`` z-scores the score with the training rows' mean/std."""

    normalize_target: bool = True


@dataclass(frozen=True)
class EditingOptions:
    """INR editing: the rendering size (required: 8 for digits-inr, 28 for MNIST INRs), the initial edit
    scale ``edit_alpha`` and whether it is learned, and how many test examples are saved."""

    image_size: int | None = None
    edit_alpha: float = 0.0
    learn_alpha: bool = True
    num_examples: int = 16

    def __post_init__(self) -> None:
        if self.image_size is not None and self.image_size < 1:
            raise ValueError(f"image_size must be >= 1 or null, got {self.image_size!r}")
        if self.num_examples < 0:
            raise ValueError(f"num_examples must be >= 0, got {self.num_examples!r}")


def _field_names(cls: type) -> list[str]:
    return [f.name for f in fields(cls) if f.init]


@dataclass(frozen=True)
class Task(abc.ABC):
    """A benchmark task; one subclass per task kind (see the module docstring).

    Attributes:
        name: task name (``genpred-relu``, ...).
        zoo: the kind of zoo it reads, ``"cnn"`` or ``"inr"``.
        title: its title in the report.
        short: a short column name for it (the keys of ``reports/headline.json``, which ``dvc exp show`` shows).
    Class attributes:
        kind: ``"regression"``, ``"classification"`` or ``"editing"`` (how the report plots its outputs).
        metrics: the metrics its objective reports, selection metric first.
        selection_metric: the validation metric that selects the best epoch.
        requires_equivariant: needs a model with node/edge outputs (``build_model(..., equivariant=True)``).
        options_type: its options dataclass (read by :meth:`options`).
    """

    name: str
    zoo: str
    title: str
    short: str

    kind: ClassVar[str]
    metrics: ClassVar[tuple[Metric, ...]]
    selection_metric: ClassVar[str]
    requires_equivariant: ClassVar[bool] = False
    options_type: ClassVar[type] = NoOptions

    # -- facts
    @property
    def equivariant(self) -> bool:
        """Alias of :attr:`requires_equivariant`."""
        return self.requires_equivariant

    def metric(self, name: str) -> Metric | None:
        """The metric called ``name`` (also ``loss``), or ``None`` if this task does not report it."""
        return next((m for m in self.metrics + (LOSS,) if m.name == name), None)

    @property
    def maximize(self) -> bool:
        """Whether a higher :attr:`selection_metric` is better."""
        metric = self.metric(self.selection_metric)
        assert metric is not None and metric.higher_is_better is not None
        return metric.higher_is_better

    def chance_levels(self, frame: pd.DataFrame | None = None) -> dict[str, float]:
        """The value of each metric with a defined chance level for an uninformed predictor (``frame``: the
        dataset's rows, where the level depends on the data); ``{}`` where none is defined."""
        return {}

    def applies_to(self, supports_equivariant: bool) -> bool:
        """Whether a model that does (or does not) support equivariant outputs can do this task."""
        return supports_equivariant or not self.requires_equivariant

    # -- rows
    @abc.abstractmethod
    def select(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask over ``frame``'s rows: the networks this task uses (any split)."""

    @property
    @abc.abstractmethod
    def selection_rule(self) -> str:
        """The rows :meth:`select` keeps, in words (for error messages)."""

    def rows(self, frame: pd.DataFrame) -> dict[str, Tensor]:
        """Row indices per split (ascending). Val/test keep original networks only (a zoo that stores
        symmetry copies, ``aug_seed >= 0``, is evaluated on the networks they were made from)."""
        keep = np.asarray(self.select(frame), dtype=bool)
        original = frame["aug_seed"].to_numpy() < 0
        out = {}
        for split in SPLITS:
            mask = keep & (frame["split"] == split).to_numpy()
            if split != "train":
                mask &= original
            out[split] = torch.from_numpy(frame["row"].to_numpy()[mask]).long()
        return out

    # -- options and objective
    def options(self, values: Mapping[str, Any] | None = None, where: str = "task options") -> Any:
        """This task's :attr:`options_type` from ``values``, which may also hold other tasks' options (a
        ``defaults`` layer configures every task; those keys are ignored here); a key no task knows is a
        :class:`~scalegmn.config.ConfigError` naming ``where`` (with a did-you-mean)."""
        values = dict(values or {})
        check_keys(values, list(TASK_OPTION_KEYS), where, "task option")
        mine = _field_names(self.options_type)
        return from_mapping(self.options_type, {k: v for k, v in values.items() if k in mine}, f"{where} ({self.name})")

    def check_options(self, options: Any) -> None:
        """``ValueError`` when ``options`` cannot run this task (e.g. a required option unset)."""

    @abc.abstractmethod
    def objective(self, frame: pd.DataFrame, train_rows: Tensor, options: Any = None) -> Objective:
        """The objective, fitted to the training rows where it needs to be (target normalisation);
        ``options``: an :attr:`options_type` instance or a mapping of its keys (``None``: the defaults)."""

    def _typed(self, options: Any) -> Any:
        if options is None or isinstance(options, Mapping):
            return self.options(options)
        if not isinstance(options, self.options_type):
            raise TypeError(f"task {self.name}: expected {self.options_type.__name__}, got {type(options).__name__}")
        return options


@dataclass(frozen=True)
class GeneralizationPrediction(Task):
    """Regress each CNN's test accuracy (``score``) from its weights; ``activations`` keeps only networks with
    these activations (``None``: all)."""

    activations: tuple[str, ...] | None = None

    kind: ClassVar[str] = "regression"
    metrics: ClassVar[tuple[Metric, ...]] = (Metric("kendall_tau", "Kendall τ", True), Metric("r2", "R²", True),
                                             Metric("mse", "MSE", False))
    selection_metric: ClassVar[str] = "kendall_tau"
    options_type: ClassVar[type] = RegressionOptions

    def chance_levels(self, frame: pd.DataFrame | None = None) -> dict[str, float]:
        """Kendall τ 0: a constant or random ranking of the networks."""
        return {"kendall_tau": 0.0}

    def select(self, frame: pd.DataFrame) -> np.ndarray:
        keep = np.isfinite(frame["score"].to_numpy(dtype=np.float64))
        if self.activations is not None:
            keep &= frame["activation"].isin(self.activations).to_numpy()
        return keep

    @property
    def selection_rule(self) -> str:
        return f"CNNs with a finite score, activations {', '.join(self.activations or ('any',))}"

    def objective(self, frame: pd.DataFrame, train_rows: Tensor, options: Any = None) -> Objective:
        opts = self._typed(options)
        scores = frame.set_index("row").loc[train_rows.numpy(), "score"].to_numpy(dtype=np.float64)
        return ScoreRegression(scores, normalize=opts.normalize_target)


@dataclass(frozen=True)
class INRClassification(Task):
    """Classify INRs by the label of the signal they represent (cross-entropy over ``max label + 1`` classes)."""

    kind: ClassVar[str] = "classification"
    metrics: ClassVar[tuple[Metric, ...]] = (Metric("accuracy", "accuracy", True),)
    selection_metric: ClassVar[str] = "accuracy"

    @staticmethod
    def num_classes(frame: pd.DataFrame) -> int:
        return int(frame["label"].max()) + 1

    def chance_levels(self, frame: pd.DataFrame | None = None) -> dict[str, float]:
        """Accuracy ``1 / num_classes`` (needs the rows, ``frame``, to count the classes)."""
        if frame is None or not len(frame):
            return {}
        return {"accuracy": 1.0 / self.num_classes(frame)}

    def select(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["label"].to_numpy() >= 0

    @property
    def selection_rule(self) -> str:
        return "INRs with a label"

    def objective(self, frame: pd.DataFrame, train_rows: Tensor, options: Any = None) -> Objective:
        self._typed(options)
        return LabelClassification(self.num_classes(frame))


@dataclass(frozen=True)
class INREditing(Task):
    """Edit sine INRs so that they render the 3×3 dilation of their image (equivariant models only)."""

    kind: ClassVar[str] = "editing"
    metrics: ClassVar[tuple[Metric, ...]] = (Metric("mse", "MSE", False),
                                             Metric("identity_mse", "MSE of the unedited"))
    selection_metric: ClassVar[str] = "mse"
    requires_equivariant: ClassVar[bool] = True
    options_type: ClassVar[type] = EditingOptions

    def select(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame["activation"] == "sine").to_numpy()

    @property
    def selection_rule(self) -> str:
        return "INRs with sine activations"

    def check_options(self, options: Any) -> None:
        if self._typed(options).image_size is None:
            raise ValueError(f"task {self.name} needs the image size: set image_size "
                             "(8 for digits-inr, 28 for MNIST INRs)")

    def objective(self, frame: pd.DataFrame, train_rows: Tensor, options: Any = None) -> Objective:
        opts = self._typed(options)
        self.check_options(opts)
        return DilationEditing(size=int(opts.image_size), alpha=opts.edit_alpha, learn_alpha=opts.learn_alpha,
                               num_examples=opts.num_examples)


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        GeneralizationPrediction("genpred-relu", "cnn", "Generalization prediction — ReLU CNNs", "relu", ("relu",)),
        GeneralizationPrediction("genpred-tanh", "cnn", "Generalization prediction — tanh CNNs", "tanh", ("tanh",)),
        GeneralizationPrediction("genpred-mixed", "cnn", "Generalization prediction — mixed activations", "mixed"),
        INRClassification("inr-classification", "inr", "INR classification", "cls"),
        INREditing("inr-editing", "inr", "INR editing (dilation)", "edit"),
    )
}
# every option key of some task (a settings layer shared by all tasks may hold any of them)
TASK_OPTION_KEYS: tuple[str, ...] = tuple(dict.fromkeys(
    k for t in TASKS.values() for k in _field_names(t.options_type)))


def get_task(name: str) -> Task:
    """The task called ``name``; ``ValueError`` listing the known tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}") from None


def known_metrics() -> dict[str, Metric]:
    """Every metric some task reports (``loss`` included), by name: the facts of :data:`TASKS`, for results
    of tasks defined elsewhere."""
    out: dict[str, Metric] = {}
    for task in TASKS.values():
        for metric in task.metrics + (LOSS,):
            out.setdefault(metric.name, metric)
    return out


__all__ = ["LOSS", "TASKS", "TASK_OPTION_KEYS", "EditingOptions", "GeneralizationPrediction", "INRClassification",
           "INREditing", "Metric", "NoOptions", "NotApplicableError", "Objective", "RegressionOptions", "Task",
           "get_task", "known_metrics"]
