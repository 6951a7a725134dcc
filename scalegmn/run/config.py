"""The settings of one training run: :class:`TrainConfig` (every knob, type- and range-checked)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import yaml

from scalegmn.config import ConfigError, check_keys, from_mapping
from scalegmn.core.symmetry import CANONICAL_FORMS
from scalegmn.data.transforms import AugmentConfig
from scalegmn.tasks import TASK_OPTION_KEYS, TASKS

AMP_DTYPES: tuple[str, ...] = ("bfloat16", "float16")
SCHEDULES: tuple[str, ...] = ("constant", "cosine")  # the learning rate after the warm-up


@dataclass
class TrainConfig:
    """Every knob of one training run (``model`` is passed to ``build_model`` as keyword arguments).

    ``num_threads`` > 0 sets ``torch.set_num_threads`` for the run (on a busy CPU one thread can be many times faster
    than oversubscribed intra-op threads); ``warmup_epochs`` is the length of the linear warm-up, unless
``warmup_steps`` (optimizer steps, as the official configs give it) is set; ``schedule`` is the learning rate
    after it (``constant``, as the official configs, or ``cosine``: annealed to 0 at the last step). ``augment``:
    random symmetry copies of the training networks drawn on the fly from the run's seed
    (:class:`scalegmn.data.transforms.AugmentConfig`); ``canonicalize``: the canonical form of every sine network
    of every split (and every copy): ``none`` (as trained), ``phase`` (``w0 b`` shifted into ``[-pi/2, pi/2)``,
    signs kept) or ``full`` (``phase`` plus one sign per neuron: removes the sign symmetry);
    :data:`scalegmn.core.symmetry.CANONICAL_FORMS`.

    ``patience``: stop once that many epochs in a row brought no better validation selection metric (``None``:
    train every epoch; the official configs use 50 of 200), never before ``min_epochs``; the result is the test
    metric at the best validation epoch either way, and records ``stopped_epoch``. The warm-up and the cosine
    schedule are laid out over ``epochs``, so a stopped run trained exactly the first epochs of the full one.

    ``task_options`` holds the task's own options (its :attr:`~scalegmn.tasks.Task.options_type`, e.g.
    ``image_size`` of ``inr-editing``, ``normalize_target`` of generalization prediction); they may be given
    as flat keys in :meth:`from_dict` / :meth:`with_overrides` (``image_size: 8``, ``--config image_size=8``)
    and may include options of other tasks (the run's task reads its own).
    """

    epochs: int = 20
    batch_size: int = 32
    eval_batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.01
    grad_clip: float = 10.0
    warmup_epochs: float = 1.0
    warmup_steps: int | None = None
    schedule: str = "constant"
    patience: int | None = None
    min_epochs: int = 0
    amp: bool = False
    amp_dtype: str = "bfloat16"
    compile: bool = False
    device: str = "auto"
    num_threads: int = 0
    cache_graphs: bool = True
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    canonicalize: str = "none"
    find_unused_parameters: bool = True
    progress: bool = True
    model: dict[str, Any] = field(default_factory=dict)
    task_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs", ">= 1"), (self.batch_size >= 1, "batch_size", ">= 1"),
            (self.eval_batch_size >= 1, "eval_batch_size", ">= 1"), (self.lr > 0, "lr", "> 0"),
            (self.weight_decay >= 0, "weight_decay", ">= 0"), (self.grad_clip > 0, "grad_clip", "> 0"),
            (self.warmup_epochs >= 0, "warmup_epochs", ">= 0"), (self.num_threads >= 0, "num_threads", ">= 0"),
            (self.warmup_steps is None or self.warmup_steps >= 0, "warmup_steps", ">= 0 or null"),
            (self.amp_dtype in AMP_DTYPES, "amp_dtype", f"one of {', '.join(AMP_DTYPES)}"),
            (self.schedule in SCHEDULES, "schedule", f"one of {', '.join(SCHEDULES)}"),
            (self.patience is None or self.patience >= 1, "patience", ">= 1 or null"),
            (self.min_epochs >= 0, "min_epochs", ">= 0"),
            (self.canonicalize in CANONICAL_FORMS, "canonicalize", f"one of {', '.join(CANONICAL_FORMS)}"),
        ]
        for ok, key, rule in checks:
            if not ok:
                raise ConfigError(f"{key} must be {rule}, got {getattr(self, key)!r}")
        self.task_options = check_task_options(self.task_options)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config") -> "TrainConfig":
        """A config from a mapping, type- and range-checked; :class:`ConfigError` naming ``where``. Task
        options may be flat keys (``image_size: 8``) or under ``task_options``."""
        values = copy.deepcopy(dict(values))
        check_keys(values, [f.name for f in fields(cls) if f.init] + list(TASK_OPTION_KEYS), where)
        flat = {k: values.pop(k) for k in TASK_OPTION_KEYS if k in values}
        if flat:
            nested = values.get("task_options") or {}
            if not isinstance(nested, dict):
                raise ConfigError(f"{where}: task_options: expected a mapping, got {nested!r}")
            values["task_options"] = {**nested, **flat}
        return from_mapping(cls, values, where)

    def with_overrides(self, overrides: Sequence[str], where: str = "--config") -> "TrainConfig":
        """Apply ``key=value`` strings (values parsed as YAML; ``model.hidden=64`` sets a model option,
        ``augment.copies=2`` an augmentation option; a task option such as ``image_size=8`` goes to
        :attr:`task_options`)."""
        values = asdict(self)
        for item in overrides:
            key, sep, raw = item.partition("=")
            if not sep or not key:
                raise ConfigError(f"{where} {item!r}: not of the form key=value")
            value = yaml.safe_load(raw)
            head, dot, rest = key.partition(".")
            if dot and isinstance(values.get(head), dict):  # model.hidden=64, augment.copies=2
                values[head][rest] = value
            elif key in TASK_OPTION_KEYS:
                values["task_options"][key] = value
            else:
                values[key] = value
        return TrainConfig.from_dict(values, where)

    def fingerprint(self) -> dict[str, Any]:
        """The options that change the result (checked when resuming); the task options are not among them
        (they depend on the task: :func:`run_fingerprint` adds the task's)."""
        values = asdict(self)
        for key in ("progress", "device", "num_threads", "compile", "cache_graphs", "eval_batch_size", "task_options"):
            values.pop(key)
        return values

    def for_task(self, task: Task, where: str = "config") -> "TrainConfig":
        """This config with only ``task``'s options, every one of them set (defaults filled in): what a run
        of ``task`` records."""
        return replace(self, task_options=asdict(task.options(self.task_options, where)))


def check_task_options(values: dict[str, Any], where: str = "task_options") -> dict[str, Any]:
    """``values`` (options of any task) checked by the tasks' options dataclasses: keys no task knows are
    refused (did-you-mean), values type- and range-checked; returns the coerced values."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a mapping of task options, got {values!r}")
    check_keys(values, list(TASK_OPTION_KEYS), where, "task option")
    out = dict(values)
    for options_type in dict.fromkeys(t.options_type for t in TASKS.values()):
        names = [f.name for f in fields(options_type) if f.init]
        typed = from_mapping(options_type, {k: v for k, v in values.items() if k in names}, where)
        out |= {k: getattr(typed, k) for k in values if k in names}
    return out
