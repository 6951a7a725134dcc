"""Benchmark results: one row per training run (``reports/results.json``), aggregated over seeds.

Metrics are test-set values at the best validation epoch. Aggregates are the mean, the sample standard
deviation (``ddof=1``) and the half-width of the 95 % Student-t confidence interval of the mean over the seeds
whose value is finite (both NaN for a single seed: no spread is claimed from one run).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from scalegmn.registry import MODEL_NAMES
from scalegmn.tasks import TASKS as DEFINED_TASKS
from scalegmn.tasks import LOSS, Metric, known_metrics

METHOD_ORDER: tuple[str, ...] = MODEL_NAMES  # methods in the registry's order; other methods after them


@dataclass(frozen=True)
class TaskInfo:
    """What the report needs to know of a task: its title, the test metric that ranks its methods, its kind
    (``regression``, ``classification`` or ``editing``: how its ``predictions.csv`` / ``edit_examples.npz``
    are plotted) and its metrics (direction and label), all read from the task (:data:`scalegmn.tasks.TASKS`)."""

    title: str
    main_metric: str
    kind: str
    metrics: dict[str, Metric] = field(default_factory=dict)
    short: str = ""  # its column name in headline.json (the task's name for a task defined elsewhere)

    def higher_is_better(self, metric: str) -> bool | None:
        """The direction of ``metric`` (``None``: unknown, or a reference value that ranks nothing)."""
        known = self.metrics.get(metric)
        return None if known is None else known.higher_is_better

    def label(self, metric: str, arrow: bool = True) -> str:
        """Display name of a metric, with its direction arrow (``↑`` higher is better, ``↓`` lower) if known."""
        known = self.metrics.get(metric)
        return metric if known is None else known.display(arrow)


def is_scalegmn(method: str) -> bool:
    """Whether a method is one of the ScaleGMN variants (highlighted in plots)."""
    return method.startswith("scalegmn")


def ordered(names: set[str] | list[str], preferred: tuple[str, ...]) -> list[str]:
    """``names`` in the ``preferred`` order; a variant ``<known>-<suffix>`` (``gmn-aug``) right after the
    longest known name it extends, other unknown names after all of them, each group alphabetical."""
    rank = {name: i for i, name in enumerate(preferred)}

    def key(name: str) -> tuple[int, int, str]:
        if name in rank:
            return rank[name], 0, name
        base = max((known for known in rank if name.startswith(known + "-")), key=len, default=None)
        return (rank[base], 1, name) if base is not None else (len(rank), 0, name)

    return sorted(set(names), key=key)


RUN_STATUSES: tuple[str, ...] = ("ok", "not_applicable", "failed")


@dataclass
class RunResult:
    """One training run (``result.json`` of ``reports/runs/<task>/<method>/seed<k>/``); ``status`` is
    ``ok``, ``not_applicable`` or ``failed`` (then ``reason`` says why and ``test`` is empty)."""

    task: str
    method: str
    seed: int
    test: dict[str, float]
    status: str = "ok"
    reason: str = ""
    val: dict[str, float] = field(default_factory=dict)
    wall_seconds: float | None = None
    num_params: int | None = None
    train_graphs_per_s: float | None = None
    best_epoch: int | None = None
    epochs: int | None = None
    stopped_epoch: int | None = None  # the epoch early stopping ended the run at (None: not recorded)
    device: str | None = None
    run_dir: Path | None = None  # where its artefacts (predictions, dvclive/) are, relative to the working dir
    fingerprint: dict[str, Any] = field(default_factory=dict)  # what the run depended on (settings, dataset)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _metrics(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object of metric: number, got {type(value).__name__}")
    return {str(k): _number(v, f"{where}.{k}") for k, v in value.items()}


def _optional(row: dict[str, Any], key: str, where: str, kind: type) -> Any:
    value = row.get(key)
    return None if value is None else kind(_number(value, f"{where}.{key}"))


def _fingerprint(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def parse_run(row: Any, where: str) -> RunResult:
    """Validate one results row; errors name ``where`` (file and row) and the problem."""
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected an object, got {type(row).__name__}")
    for key in ("task", "method", "seed", "test"):
        if key not in row:
            raise ValueError(f"{where}: missing key {key!r}")
    for key in ("task", "method"):
        if not isinstance(row[key], str) or not row[key]:
            raise ValueError(f"{where}.{key}: expected a non-empty string, got {row[key]!r}")
    seed = _number(row["seed"], f"{where}.seed")
    if seed != int(seed):
        raise ValueError(f"{where}.seed: expected an integer, got {row['seed']!r}")
    status = str(row.get("status", "ok"))
    if status not in RUN_STATUSES:
        raise ValueError(f"{where}.status: expected one of {', '.join(RUN_STATUSES)}, got {status!r}")
    test = _metrics(row["test"], f"{where}.test")
    if not test and status == "ok":
        raise ValueError(f"{where}.test: no metrics")
    undefined = sorted(k for k, v in test.items() if not math.isfinite(v))
    if status == "ok" and undefined:
        raise ValueError(f"{where}.test: non-finite {', '.join(undefined)} in a run with status 'ok' "
                         "(a run without finite results must be recorded 'failed')")
    device = row.get("device")
    return RunResult(
        task=row["task"], method=row["method"], seed=int(seed), test=test, status=status,
        reason=str(row.get("reason") or ""),
        val=_metrics(row.get("val") or {}, f"{where}.val"),
        wall_seconds=_optional(row, "wall_seconds", where, float),
        num_params=_optional(row, "num_params", where, int),
        train_graphs_per_s=_optional(row, "train_graphs_per_s", where, float),
        best_epoch=_optional(row, "best_epoch", where, int),
        epochs=_optional(row, "epochs", where, int),
        stopped_epoch=_optional(row, "stopped_epoch", where, int),
        device=None if device is None else str(device),
        run_dir=None if row.get("run_dir") is None else Path(str(row["run_dir"])),
        fingerprint=_fingerprint(row.get("fingerprint"), f"{where}.fingerprint"),
    )


def load_results(path: str | Path) -> list[RunResult]:
    """Read ``results.json`` (a JSON list of run result objects); ``ValueError`` naming the file if bad."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: results file not found")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of run results, got {type(data).__name__}")
    if not data:
        raise ValueError(f"{path}: holds no runs")
    runs = [parse_run(row, f"{path}: row {i}") for i, row in enumerate(data)]
    seen: set[tuple[str, str, int]] = set()
    for i, run in enumerate(runs):
        key = (run.task, run.method, run.seed)
        if key in seen:
            raise ValueError(f"{path}: row {i}: duplicate run task={run.task} method={run.method} seed={run.seed}")
        seen.add(key)
    return runs


CONFIDENCE = 0.95


@dataclass
class Aggregate:
    """One metric over the seeds with a finite value (``count`` of ``total``): mean, sample std (``ddof=1``)
    and ``ci95``, the half-width of the 95 % t-interval of the mean (std and ci95 NaN below two seeds)."""

    mean: float
    std: float
    ci95: float
    count: int
    total: int

    @classmethod
    def of(cls, values: list[float]) -> Aggregate:
        finite = np.array([v for v in values if math.isfinite(v)], dtype=np.float64)
        n = len(finite)
        if n == 0:
            return cls(math.nan, math.nan, math.nan, 0, len(values))
        if n == 1:
            return cls(float(finite[0]), math.nan, math.nan, 1, len(values))
        std = float(finite.std(ddof=1))
        half = float(stats.t.ppf((1 + CONFIDENCE) / 2, n - 1)) * std / math.sqrt(n)
        return cls(float(finite.mean()), std, half, n, len(values))


@dataclass
class MethodStats:
    """One method on one task, aggregated over its seeds."""

    method: str
    runs: list[RunResult]
    metrics: dict[str, Aggregate]
    wall_seconds: float | None
    num_params: int | None
    train_graphs_per_s: float | None
    info: TaskInfo | None = None  # the task's facts (metric directions)

    @property
    def seeds(self) -> list[int]:
        return sorted(r.seed for r in self.runs)

    @property
    def best_epochs(self) -> list[tuple[int, int]]:
        """``(best epoch, epochs)`` of each run that records both, in seed order."""
        return [(r.best_epoch, r.epochs) for r in sorted(self.runs, key=lambda r: r.seed)
                if r.best_epoch is not None and r.epochs]

    @property
    def stopped_early(self) -> list[int]:
        """The epoch each run stopped at, in seed order, when early stopping ended any before its budget (else
        empty)."""
        runs = sorted(self.runs, key=lambda r: r.seed)
        stopped = [r.stopped_epoch if r.stopped_epoch is not None else r.epochs for r in runs if r.epochs]
        return stopped if any(s is not None and s < r.epochs for s, r in zip(stopped, runs)) else []

    @property
    def peaks_at_last_epoch(self) -> bool:
        """Most runs were best at their last epoch: still improving when training stopped (not converged)."""
        epochs = self.best_epochs
        return bool(epochs) and 2 * sum(best == last for best, last in epochs) > len(epochs)

    def best_run(self, metric: str) -> RunResult:
        """The seed with the best finite test ``metric`` in the task's direction for it (higher is better where
        unknown; seed order breaks ties; the lowest seed if none)."""
        higher = None if self.info is None else self.info.higher_is_better(metric)
        sign = 1.0 if higher is False else -1.0
        runs = sorted(self.runs, key=lambda r: r.seed)
        scored = [(sign * r.test[metric], i) for i, r in enumerate(runs)
                  if metric in r.test and math.isfinite(r.test[metric])]
        return runs[min(scored)[1]] if scored else runs[0]


def _mean_of(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


@dataclass
class TaskSummary:
    """All methods of one task: ``metrics`` ordered main metric first, ``methods`` in report order."""

    task: str
    info: TaskInfo
    metrics: list[str]
    methods: dict[str, MethodStats]
    not_applicable: dict[str, str] = field(default_factory=dict)

    def best(self, metric: str) -> set[str]:
        """Methods with the best finite mean of ``metric`` (ties all win); empty if it has no direction."""
        higher = self.info.higher_is_better(metric)
        if higher is None:
            return set()
        means = {m: s.metrics[metric].mean for m, s in self.methods.items()
                 if metric in s.metrics and math.isfinite(s.metrics[metric].mean)}
        if not means:
            return set()
        target = (max if higher else min)(means.values())
        return {m for m, v in means.items() if v == target}


def task_info(task: str, runs: list[RunResult]) -> TaskInfo:
    """Title, main metric, kind and metrics of a task: from :data:`scalegmn.tasks.TASKS` or, for a task
    defined elsewhere, its name as title, its runs' first metric of a direction some defined task knows as
    main metric and the kind of the defined tasks reporting that metric (``editing`` where they differ)."""
    if task in DEFINED_TASKS:
        defined = DEFINED_TASKS[task]
        metrics = {m.name: m for m in defined.metrics + (LOSS,)}
        return TaskInfo(defined.title, defined.selection_metric, defined.kind, metrics, defined.short)
    known = known_metrics()
    names = [m for r in runs for m in r.test]
    ranked = [m for m in names if m in known and known[m].higher_is_better is not None]
    main = (ranked or names or ["none"])[0]
    kinds = {t.kind for t in DEFINED_TASKS.values() if any(m.name == main for m in t.metrics)}
    return TaskInfo(task, main, kinds.pop() if len(kinds) == 1 else "editing", known, task)


def summarize(runs: list[RunResult]) -> list[TaskSummary]:
    """Aggregate the ``ok`` runs per task and method; tasks in the order of ``scalegmn.tasks``, unknown ones
    after; methods with only ``not_applicable`` runs, or with a ``failed`` seed (no partial mean is shown),
    are listed in ``not_applicable`` with the reason."""
    summaries = []
    for task in ordered({r.task for r in runs}, tuple(DEFINED_TASKS)):
        failed = {r.method: f"failed (seed {r.seed}): {r.reason}"
                  for r in runs if r.task == task and r.status == "failed"}
        task_runs = [r for r in runs if r.task == task and r.status == "ok" and r.method not in failed]
        skipped = {r.method: r.reason for r in runs if r.task == task and r.status == "not_applicable"} | failed
        info = task_info(task, task_runs)
        metrics = list(dict.fromkeys([info.main_metric] + [m for r in task_runs for m in r.test]))
        methods = {}
        for method in ordered({r.method for r in task_runs}, METHOD_ORDER):
            mruns = [r for r in task_runs if r.method == method]
            params = _mean_of([r.num_params for r in mruns])
            methods[method] = MethodStats(
                method=method,
                runs=mruns,
                metrics={m: Aggregate.of([r.test[m] for r in mruns if m in r.test])
                         for m in metrics if any(m in r.test for r in mruns)},
                wall_seconds=_mean_of([r.wall_seconds for r in mruns]),
                num_params=None if params is None else round(params),
                train_graphs_per_s=_mean_of([r.train_graphs_per_s for r in mruns]),
                info=info,
            )
        not_applicable = {m: skipped[m] for m in ordered(set(skipped) - set(methods), METHOD_ORDER)}
        summaries.append(TaskSummary(task, info, metrics, methods, not_applicable))
    return summaries


@dataclass(frozen=True)
class PairedComparison:
    """``reference`` vs ``other`` on ``metric`` over the ``n`` seeds both ran with a finite value (paired by
    seed): the mean of ``reference − other`` with the half-width of its 95 % t-interval, the two-sided p-value of
    the paired t-test (NaN below two seeds) and a verdict, ``better`` / ``worse`` for ``reference`` (in the
    metric's direction) when ``p < alpha``, else ``not distinguishable at n=<n>``."""

    reference: str
    other: str
    metric: str
    n: int
    mean_difference: float
    ci95: float
    p_value: float
    verdict: str


def paired_p_value(differences: Aggregate) -> float:
    """Two-sided p-value of the paired t-test of the seed-wise ``differences`` against 0 (NaN below two seeds;
    identical differences: 0 when non-zero, 1 when all zero)."""
    n = differences.count
    if n < 2:
        return math.nan
    if differences.std == 0.0:
        return 0.0 if differences.mean != 0.0 else 1.0
    t = differences.mean / (differences.std / math.sqrt(n))
    return float(2 * stats.t.sf(abs(t), n - 1))


def reference_method(summary: TaskSummary) -> str | None:
    """The method the others are compared against: ``scalegmn`` if it ran, else the first ScaleGMN variant."""
    variants = [m for m in summary.methods if is_scalegmn(m)]
    return "scalegmn" if "scalegmn" in summary.methods else (variants[0] if variants else None)


def augmentation_pairs(summary: TaskSummary) -> list[tuple[str, str]]:
    """``(augmented, plain)`` method pairs of the task that differ only in symmetry augmentation: every run of
    ``augmented`` trains on random symmetry copies (``augment.copies > 0``), no run of ``plain`` does, and, seed
    by seed, their fingerprints agree on everything else (the metanetwork trained, settings, dataset)."""
    ignored = {"method", "metanetwork", "augment"}

    def settings(run: RunResult) -> dict[str, Any]:
        return {k: v for k, v in run.fingerprint.items() if k not in ignored} | {
            "metanetwork": run.fingerprint.get("metanetwork") or run.method}

    def copies(run: RunResult) -> int:
        return int((run.fingerprint.get("augment") or {}).get("copies", 0))

    by_method = {m: {r.seed: r for r in stats.runs if r.fingerprint} for m, stats in summary.methods.items()}
    augmented = [m for m, runs in by_method.items() if runs and all(copies(r) > 0 for r in runs.values())]
    plain = [m for m, runs in by_method.items() if runs and all(copies(r) == 0 for r in runs.values())]
    pairs = []
    for a in augmented:
        for b in plain:
            seeds = by_method[a].keys() & by_method[b].keys()
            if seeds and all(settings(by_method[a][s]) == settings(by_method[b][s]) for s in seeds):
                pairs.append((a, b))
    return pairs


def paired_comparisons(summary: TaskSummary, alpha: float = 1 - CONFIDENCE, reference: str | None = None,
                       others: list[str] | None = None) -> list[PairedComparison]:
    """``reference`` (default: the :func:`reference_method` of the task) vs each of ``others`` (default: every
    other method of the task) on the main metric, paired by seed."""
    reference = reference or reference_method(summary)
    metric = summary.info.main_metric
    higher = summary.info.higher_is_better(metric)
    if reference is None or higher is None:
        return []

    def by_seed(method: str) -> dict[int, float]:
        return {r.seed: r.test[metric] for r in summary.methods[method].runs
                if metric in r.test and math.isfinite(r.test[metric])}

    mine = by_seed(reference)
    comparisons = []
    for other in summary.methods if others is None else others:
        if other == reference:
            continue
        theirs = by_seed(other)
        differences = Aggregate.of([mine[s] - theirs[s] for s in sorted(set(mine) & set(theirs))])
        p = paired_p_value(differences)
        if math.isfinite(p) and p < alpha:
            verdict = "better" if (differences.mean > 0) == higher else "worse"
        else:
            verdict = f"not distinguishable at n={differences.count}"
        comparisons.append(PairedComparison(reference, other, metric, differences.count, differences.mean,
                                            differences.ci95, p, verdict))
    return comparisons
