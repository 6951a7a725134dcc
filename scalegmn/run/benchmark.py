"""The benchmark runner: every (task × method × seed) on the same stored splits, one row per run.

Run settings come from one mapping (the ``train:`` section of ``params.yaml`` is one)::

    defaults: {epochs: 20, batch_size: 32, ...}          # TrainConfig fields, shared model options under `model`
    tasks:    {inr-editing: {image_size: 8, ...}, ...}   # per task
    methods:  {scalegmn: {model: {hidden: 32}}, ...}     # per method; `metanetwork:` names a plug-in's class
    runs:     {genpred-relu: {statnn: {lr: 3e-3}}, ...}  # per task, then method: one (task, method) only

merged in that order (``model`` options as :func:`resolve_config` says). A method is a built-in name, an
entry point of ``scalegmn.metanetworks``, an import path, or a ``methods`` key whose ``metanetwork`` is one of
those (``layer-norms: {metanetwork: "scalegmn_layer_norms:LayerNorms"}``; :func:`metanetwork`). Runs are written to
:func:`run_dir`; results are the runs' ``result.json`` records (``scalegmn.run.trainer``), collected into
``results.json`` and a tidy CSV.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scalegmn.io import atomic_file, write_json
from scalegmn.config import ConfigError, check_keys
from scalegmn.registry import metanetwork, method_slug, model_options, resolve
from scalegmn.tasks import TASKS, get_task
from scalegmn.run.checkpoint import fingerprint_diff
from scalegmn.run.config import TrainConfig
from scalegmn.run.trainer import NonFiniteError, read_result, run_fingerprint, train
from scalegmn.workers import process_pool

SETTINGS_KEYS: tuple[str, ...] = ("defaults", "tasks", "methods", "runs")
# read by the pipeline (pipelines/train.py; the task x method matrices of dvc.yaml), not by resolve_config
BENCHMARK_KEYS: tuple[str, ...] = ("seeds", "workers", "datasets", "genpred", "inr_classification", "inr_editing")


def _table(settings: dict[str, Any], section: str, where: str) -> dict[str, Any]:
    table = settings.get(section) or {}
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: section {section!r} must be a mapping")
    return table


def resolve_config(settings: dict[str, Any], task: str, method: str, where: str = "train settings") -> TrainConfig:
    """The :class:`TrainConfig` of one (task, method) from layered settings (see the module docstring);
    top-level keys must be :data:`SETTINGS_KEYS` or :data:`BENCHMARK_KEYS` (the latter are not read here) and
    ``tasks`` keys task names; a :class:`ConfigError` names ``where`` and the key otherwise.

    Model options: ``defaults.model`` and ``tasks.<task>.model`` are shared defaults, each given only to a
    metanetwork whose constructor takes it (:func:`~scalegmn.registry.model_options`): one ``hidden: 32`` sizes
    every built-in without breaking a plug-in that has no ``hidden``. ``methods.<method>.model`` and
    ``runs.<task>.<method>.model`` are the method's own and strict: an option its constructor does not take is
    an error naming the method and the option. Shared defaults stay (rather than options per method only) so
    that the built-ins are sized in one place, as the profiles do.
    """
    check_keys(settings, list(SETTINGS_KEYS + BENCHMARK_KEYS), where, "section")
    check_keys(_table(settings, "tasks", where), list(TASKS), f"{where}: tasks", "task")
    check_keys(_table(settings, "runs", where), list(TASKS), f"{where}: runs", "task")
    spec = metanetwork(settings, method, where)
    here = f"{where} ({task}/{method})"
    layers = [("defaults", settings.get("defaults"))]
    runs = _table(settings, "runs", where).get(task) or {}
    if not isinstance(runs, dict):
        raise ConfigError(f"{where}: runs: {task}: expected a mapping of method: settings, got {runs!r}")
    layers += [("tasks", _table(settings, "tasks", where).get(task)),
               ("methods", _table(settings, "methods", where).get(method)), ("runs", runs.get(method))]
    values: dict[str, Any] = {}
    shared: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for section, layer in layers:
        if layer is not None and not isinstance(layer, dict):
            raise ConfigError(f"{where}: settings for {task}/{method} must be mappings, got {layer!r}")
        layer = copy.deepcopy(layer or {})
        if section == "methods":
            layer.pop("metanetwork", None)
        model = layer.pop("model", None) or {}
        if not isinstance(model, dict):
            raise ConfigError(f"{here}: {section}: model: expected a mapping of model options, got {model!r}")
        (own if section in ("methods", "runs") else shared).update(model)
        values |= layer
    try:
        accepted = model_options(resolve(spec))
    except ValueError as err:
        raise ConfigError(f"{here}: {err}") from None
    if accepted is not None:
        check_keys(own, list(accepted), f"{here}: method {method!r} ({spec})", "model option")
    values["model"] = {k: v for k, v in shared.items() if accepted is None or k in accepted} | own
    return TrainConfig.from_dict(values, here)


def run_dir(root: str | Path, task: str, method: str, seed: int) -> Path:
    """``root/<task>/<method slug>/seed<k>`` (:func:`~scalegmn.registry.method_slug`: ``pkg.mod:Class`` is
    ``pkg.mod.Class``)."""
    return Path(root) / task / method_slug(method) / f"seed{seed}"


@dataclass
class Benchmark:
    """What to run: tasks × methods × seeds, the dataset (directory or object) of each zoo kind
    (``cnn``/``inr``) or task name, the layered settings and how to verify the datasets."""

    tasks: list[str]
    methods: list[str]
    seeds: list[int]
    datasets: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    verify: bool | None = None  # shard checksums: see scalegmn.data.open_dataset
    where: str = "train settings"  # where the settings came from, for error messages

    def dataset_for(self, task: str) -> Any:
        path = self.datasets.get(task) or self.datasets.get(get_task(task).zoo)
        if path is None:
            raise ValueError(f"no dataset for task {task!r}: give one for {get_task(task).zoo!r} or {task!r}")
        return path

    def run_one(self, task: str, method: str, seed: int, out_root: str | Path, resume: bool = True,
                overrides: list[str] | None = None) -> dict[str, Any]:
        """Train one run into :func:`run_dir`; a failed run is recorded (``status: failed``) and returned.

        With ``resume`` a finished run's ``result.json`` is reused only when it records this run's
        fingerprint (same configuration and dataset content); one of another configuration is refused with
        a message (rerun with ``resume=False`` to replace it); a failed or interrupted run is trained again
        (from its checkpoint).
        """
        config = resolve_config(self.settings, task, method, self.where).with_overrides(overrides or [])
        previous = self.finished(task, method, seed, out_root, config) if resume else None
        if previous is not None:
            return previous
        return self.train_into(task, method, seed, run_dir(out_root, task, method, seed), config, resume)

    def train_into(self, task: str, method: str, seed: int, out: Path, config: TrainConfig,
                   resume: bool = True) -> dict[str, Any]:
        """Train one run into directory ``out`` (from its checkpoint with ``resume``); returns its result
        record, ``status: failed`` for a run that went non-finite."""
        dataset = self.dataset_for(task)
        try:
            result = train(task, metanetwork(self.settings, method, self.where), dataset, seed=seed, out_dir=out,
                           config=config, method=method, resume=resume, verify=self.verify)
        except NonFiniteError as err:
            assert err.result is not None
            return err.result
        assert result is not None
        return result

    def finished(self, task: str, method: str, seed: int, out_root: str | Path,
                 config: TrainConfig) -> dict[str, Any] | None:
        """The reusable finished result of one run trained with ``config``, or ``None`` when it must be
        trained (none yet, or failed); ``ValueError`` naming the run directory when it holds a run of another
        configuration or dataset, or one written without a fingerprint (by an older version)."""
        out = run_dir(out_root, task, method, seed)
        if not (out / "result.json").is_file():
            return None
        previous = read_result(out)
        if previous.get("status") == "failed":
            return None
        wanted = run_fingerprint(task, method, seed, self.dataset_for(task), config,
                                 metanetwork(self.settings, method, self.where))
        if previous.get("fingerprint") == wanted:
            return previous
        if previous.get("fingerprint") is None:
            why = "was written without a fingerprint (by an older version)"
        else:
            why = f"holds a finished run of another configuration ({fingerprint_diff(previous['fingerprint'], wanted)})"
        raise ValueError(f"{out}: {why}; rerun with --no-resume to replace it, or choose another --out")

    def run(self, out_root: str | Path, resume: bool = True, overrides: list[str] | None = None,
            workers: int = 1) -> list[dict[str, Any]]:
        """Every run, in task, method, seed order; returns the result records (failed runs included), each
        with its ``run_dir`` (as :func:`collect_results`). Every
        task, dataset, method name and configuration, and with ``resume`` every finished result, is checked
        before the first run starts. ``workers > 1`` trains that many runs at once, each in its own worker
        process (:func:`~scalegmn.workers.process_pool`) with the run's own ``num_threads``; every run's outputs
        are the same as in one process."""
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        for task in self.tasks:
            get_task(task)
            self.dataset_for(task)
            for method in self.methods:
                method_slug(method)
                config = resolve_config(self.settings, task, method, self.where).with_overrides(overrides or [])
                for seed in self.seeds if resume else ():
                    self.finished(task, method, seed, out_root, config)
        jobs = [(t, m, s) for t in self.tasks for m in self.methods for s in self.seeds]
        if workers == 1 or len(jobs) == 1:
            records = [self.run_one(t, m, s, out_root, resume, overrides) for t, m, s in jobs]
        else:
            with process_pool(min(workers, len(jobs)), [__name__]) as pool:
                futures = [pool.submit(self.run_one, t, m, s, out_root, resume, overrides) for t, m, s in jobs]
                records = [future.result() for future in futures]
        return [record | {"run_dir": str(run_dir(out_root, t, m, s))} for record, (t, m, s) in zip(records, jobs)]


def find_run_dirs(runs_root: str | Path) -> list[Path]:
    """Every ``<task>/<method>/seed<k>`` directory under ``runs_root`` that holds a ``result.json``."""
    return [p.parent for p in sorted(Path(runs_root).glob("*/*/seed*/result.json"))]


def collect_results(run_dirs: Iterable[str | Path]) -> list[dict[str, Any]]:
    """The ``result.json`` record of each run directory, with its ``run_dir``, sorted by task, method, seed;
    ``ValueError`` naming a directory without a readable result."""
    results = [read_result(Path(d)) | {"run_dir": str(d)} for d in run_dirs]
    return sorted(results, key=lambda r: (r["task"], r["method"], int(r["seed"])))


def results_frame(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Tidy table, one row per run: identity, status, ``test_<metric>``/``val_<metric>`` columns, best
    epoch, epochs (the budget), the epoch it stopped at, wall seconds, parameter count, training throughput and
    device."""
    rows = []
    for r in results:
        row = {k: r.get(k) for k in ("task", "method", "seed", "status")}
        row |= {f"test_{k}": v for k, v in (r.get("test") or {}).items()}
        row |= {f"val_{k}": v for k, v in (r.get("val") or {}).items()}
        row |= {k: r.get(k) for k in ("best_epoch", "epochs", "stopped_epoch", "wall_seconds", "num_params",
                                      "train_graphs_per_s", "device")}
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Method × task table of the test selection metric, ``mean ± std`` over seeds (sample std; the mean
    alone for one seed; ``n/a`` where the method cannot do the task, ``failed`` where a seed failed: no
    partial mean is shown)."""
    cells: dict[tuple[str, str], str] = {}
    for (task, method), group in frame.groupby(["task", "method"], sort=True):
        column = f"test_{get_task(task).selection_metric}"
        ok = group[group["status"] == "ok"]
        values = ok[column].astype(float) if column in ok else pd.Series(dtype=float)
        if (group["status"] == "failed").any():
            cells[(method, task)] = f"failed ({int((group['status'] == 'failed').sum())} of {len(group)} seeds)"
        elif values.empty:
            cells[(method, task)] = "n/a"
        else:
            std = values.std(ddof=1) if len(values) > 1 else math.nan
            cells[(method, task)] = f"{values.mean():.4f} ± {std:.4f}" if not math.isnan(std) else f"{values.mean():.4f}"
    table = pd.Series(cells).unstack().fillna("")  # "": not run
    table.index.name, table.columns.name = "method", "task"
    return table


def write_results(results: list[dict[str, Any]], json_path: str | Path, csv_path: str | Path | None = None) -> pd.DataFrame:
    """Write ``results.json`` (the list of result records) and the tidy CSV, atomically; returns the table."""
    write_json(json_path, results)
    frame = results_frame(results)
    if csv_path is not None:
        with atomic_file(csv_path) as tmp:
            frame.to_csv(tmp, index=False)
    return frame

