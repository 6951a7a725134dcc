"""Assemble the benchmark report from results, run artefacts, zoos, checks and environment facts, and
write it: ``report.md``, ``report.html``, ``summary.json``, ``headline.json``, ``tables/`` (Markdown, CSV and
LaTeX booktabs) and ``plots/`` (PNG, SVG and PDF figures and the CSV data behind them, ``plots/data/``).

Every input is a list of the files to read (never a folder to scan), so a report shows exactly the outputs
its pipeline declares; run artefacts are found through each result's ``run_dir``."""

from __future__ import annotations

import io
import math
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scalegmn.io import atomic_dir, check_output_dir, write_json, write_text
from scalegmn.report.checks import load_check_files, passed, symmetry_rows
from scalegmn.report.document import Code, Document, Image, Section, Table, Text, latex_table, markdown_table, \
    render_html, render_markdown
from scalegmn.report.environment import hardware, package_versions
from scalegmn.report.plots import ConfusionPanel, ScatterPanel, bar_chart, confusion_grid, histogram, image_grid, \
    learning_curves, reference_note, scatter_grid
from scalegmn.report.results import METHOD_ORDER, PairedComparison, RunResult, TaskSummary, augmentation_pairs, \
    is_scalegmn, load_results, ordered, paired_comparisons, summarize
from scalegmn.registry import method_slug
from scalegmn.report.runs import EDIT_EXAMPLES_FILE, PREDICTIONS_FILE, confusion_matrix, read_edit_examples, \
    read_predictions
from scalegmn.run.history import HISTORY_FILE, read_history
from scalegmn.report.tables import MISSING, comparison_table, format_seconds, metric_frame, overview_table, \
    augmentation_table, pivot_check_table, records_table, symmetry_table, task_frame, task_table, \
    verdict_table
from scalegmn.report.timings import group_stages, read_timings
from scalegmn.report.zoos import ZooStats, histogram_frame, zoo_stats
from scalegmn.tasks import TASKS as DEFINED_TASKS
from scalegmn.tasks.image_oracle import read_image_oracle


@dataclass
class ReportInputs:
    """What the report reads; every input but ``results`` is optional (its section then says so).

    ``results``: the run records (each with its ``run_dir``); ``zoos``: zoo directories; ``symmetry``: the
    symmetry checker's files (one per model); ``timings``: stage timing files (:func:`scalegmn.timing.record_stage`);
    ``oracles``: image oracle records (:mod:`scalegmn.tasks.image_oracle`), the reference of INR classification.
    """

    results: Path
    zoos: list[Path] = field(default_factory=list)
    oracles: list[Path] = field(default_factory=list)
    symmetry: list[Path] = field(default_factory=list)
    selfcheck: Path | None = None
    params: Path | None = None
    timings: list[Path] = field(default_factory=list)
    histogram_bins: int = 20
    edit_examples: int = 4


CURVES_FILE = "data/curves.csv"  # under plots/: panel, task, method, seed, epoch, value (the dvc.yaml plot)


@dataclass
class ReportOutputs:
    """What :func:`build_report` wrote."""

    directory: Path
    files: list[Path]
    tasks: int
    methods: int
    runs: int
    images: int
    seconds: float

    def summary_line(self) -> str:
        return (f"report: {self.runs} runs, {self.methods} methods, {self.tasks} tasks, {self.images} plots "
                f"in {self.seconds:.1f} s -> {self.directory / 'report.html'}")


def slug(name: str) -> str:
    """A file-name-safe form of a task or zoo name (methods: :func:`scalegmn.registry.method_slug`, as their
    run folders)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "unnamed"


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.6g")
    return buffer.getvalue().encode()


def _finite(value: float) -> float | None:
    """``value`` to 6 significant digits, ``None`` for NaN (JSON has no NaN)."""
    return float(f"{value:.6g}") if math.isfinite(value) else None


def _missing_note(what: str, path: Path | None, option: str) -> Text:
    if path is None:
        return Text(f"No {what} given (`{option}`); section omitted.")
    return Text(f"No {what}: `{path}` not found; section omitted.")


def _missing_files(paths: list[Path]) -> list[Path]:
    return [p for p in paths if not p.exists()]


def headline(tasks: list[TaskSummary]) -> dict[str, dict[str, float]]:
    """``{task short name: {method: mean main metric}}`` to 4 decimals, finite means only: the one metrics file
    of the pipeline, short enough for ``dvc exp show`` to show every task × method in a terminal."""
    table: dict[str, dict[str, float]] = {}
    for summary in tasks:
        metric = summary.info.main_metric
        means = {m: round(s.metrics[metric].mean, 4) for m, s in summary.methods.items()
                 if metric in s.metrics and math.isfinite(s.metrics[metric].mean)}
        if means:
            table[summary.info.short or summary.task] = means
    return table

class _Builder:
    """Collects the document sections and the side files (tables, plot data) while reading inputs."""

    def __init__(self, inputs: ReportInputs) -> None:
        self.inputs = inputs
        self.files: dict[str, bytes] = {}
        self.task_metrics: dict[str, dict[str, Any]] = {}
        self.check_counts: dict[str, dict[str, int]] = {}
        self.curves: list[pd.DataFrame] = []  # long-format learning curves, for `dvc plots` (CURVES_FILE)
        self.runs = load_results(inputs.results)
        self.ok_runs = sum(r.status == "ok" for r in self.runs)
        self.tasks = summarize(self.runs)
        self.methods = ordered({r.method for r in self.runs}, METHOD_ORDER)
        self.oracles = {path: read_image_oracle(path) for path in inputs.oracles}
        self.references = {t.task: self._references(t) for t in self.tasks}
        self.verdicts = {t.task: paired_comparisons(t) for t in self.tasks}  # each task's reference vs the others

    def _table_files(self, name: str, table: Table, frame: pd.DataFrame) -> None:
        self.files[f"tables/{name}.md"] = (markdown_table(table) + "\n").encode()
        self.files[f"tables/{name}.csv"] = _csv(frame)
        self.files[f"tables/{name}.tex"] = latex_table(table, name).encode()

    # ------------------------------------------------------------------ results
    def overview(self) -> Section:
        table = overview_table(self.tasks, self.methods, self.references)
        frame = pd.concat([task_frame(t) for t in self.tasks], ignore_index=True)
        self._table_files("overview", table, frame)
        blocks: list[Table] = [table]
        if any(self.verdicts.values()):
            blocks.append(self._comparison_files("verdicts", verdict_table(self.tasks, self.verdicts, self.methods),
                                                 self.verdicts))
        augmented = {t.task: [c for aug, plain in augmentation_pairs(t)
                              for c in paired_comparisons(t, reference=aug, others=[plain])] for t in self.tasks}
        if any(augmented.values()):
            blocks.append(self._comparison_files("augmentation", augmentation_table(self.tasks, augmented),
                                                 augmented))
        return Section("Results overview", blocks)

    def _comparison_files(self, name: str, table: Table, comparisons: dict[str, list[PairedComparison]]) -> Table:
        """Write ``table`` and its comparisons (one CSV row each, with the task) under ``tables/<name>``."""
        self._table_files(name, table, pd.DataFrame.from_records(
            [{"task": task, **asdict(c)} for task, compared in comparisons.items() for c in compared]))
        return table

    def task_sections(self) -> list[Section]:
        sections = []
        for summary in self.tasks:
            metric = summary.info.main_metric
            references = self.references[summary.task]
            ran = {r.method for r in self.runs if r.task == summary.task}  # ok, failed or not applicable
            table = task_table(summary, [m for m in self.methods if m in ran], references)
            self._table_files(slug(summary.task), table, task_frame(summary))
            comparisons = self.verdicts[summary.task]
            self.files[f"plots/data/bars/{slug(summary.task)}.csv"] = _csv(metric_frame(summary, metric))
            note = f"; lines: {reference_note(references)}" if references else ""
            blocks: list[Table | Text | Image] = [table]
            if summary.not_applicable:
                blocks.append(Text("No result (not applicable or failed): " + "; ".join(
                    f"`{m}` ({reason or 'no reason given'})" for m, reason in summary.not_applicable.items()) + "."))
            blocks.append(Image(f"{slug(summary.task)}_bars", bar_chart(summary, metric, references),
                                f"{summary.info.title}: {summary.info.label(metric)} per method, mean over seeds "
                                f"with its 95 % interval (cut at the frame where wider); dots: the seeds{note}."))
            if comparisons:
                compared = comparison_table(summary, comparisons)
                self._table_files(f"{slug(summary.task)}_paired", compared,
                                  pd.DataFrame.from_records([asdict(c) for c in comparisons]))
                blocks.append(compared)
            blocks += self._predictions(summary) + self._edits(summary) + self._curves(summary)
            sections.append(Section(f"{summary.info.title} (`{summary.task}`)", blocks))
            self.task_metrics[summary.task] = self._task_summary(summary) | {
                "references": {label: _finite(value) for label, value in references},
                "paired": [{k: _finite(v) if isinstance(v, float) else v for k, v in asdict(c).items()}
                           for c in comparisons]}
        return sections

    @staticmethod
    def _task_summary(summary: TaskSummary) -> dict[str, Any]:
        metric = summary.info.main_metric
        best = ordered(summary.best(metric), METHOD_ORDER)
        stats = summary.methods[best[0]].metrics[metric] if best else None
        def numbers(agg) -> dict[str, Any]:
            return {"mean": _finite(agg.mean), "std": _finite(agg.std), "ci95": _finite(agg.ci95), "n": agg.count}

        return {"metric": metric, "best_method": best[0] if best else None,
                "best_mean": None if stats is None else _finite(stats.mean),
                "best_std": None if stats is None else _finite(stats.std),
                "methods": {m: numbers(s.metrics[metric]) for m, s in summary.methods.items() if metric in s.metrics}}

    def summary(self) -> dict[str, Any]:
        """Per task the best method on its main metric and every method's mean, sample std, 95 % interval
        half-width and seed count; pass counts of the checks (NaN written as null)."""
        return {"runs": self.ok_runs, "tasks": self.task_metrics, **self.check_counts}

    def _references(self, summary: TaskSummary) -> list[tuple[str, float]]:
        """The task's reference values of its main metric, ``(label, value)``: the chance level (classes counted
        from the saved predictions) and, for classification of INRs, each image oracle's test accuracy; for
        editing, the mean MSE of the unedited images."""
        metric = summary.info.main_metric
        if summary.info.kind == "editing":
            unedited = [r.test["identity_mse"] for s in summary.methods.values() for r in s.runs
                        if "identity_mse" in r.test]
            return [("unedited images", float(sum(unedited) / len(unedited)))] if unedited else []
        task = DEFINED_TASKS.get(summary.task)
        if task is None:
            return []
        frame = None
        if summary.info.kind == "classification":
            found = self._runs_with(summary, PREDICTIONS_FILE, best_only=True)
            if not found:
                return []
            frame = read_predictions(found[0][2]).rename(columns={"true": "label"})
        level = task.chance_levels(frame).get(metric)
        references = [] if level is None else [("chance", level)]
        if summary.info.kind == "classification" and task.zoo == "inr" and metric == "accuracy":
            several = len(self.oracles) > 1
            references += [(f"image oracle ({path.stem})" if several else "image oracle", oracle.accuracy)
                           for path, oracle in self.oracles.items()]
        return references

    def _runs_with(self, summary: TaskSummary, filename: str, best_only: bool) -> list[tuple[str, RunResult, Path]]:
        """``(method, run, path)`` of the runs whose ``run_dir`` holds ``filename``: each method's best seed on
        the main metric (``best_only``) or all its seeds, best first."""
        found = []
        for method, stats in summary.methods.items():
            best = stats.best_run(summary.info.main_metric)
            runs = [best] if best_only else [best] + [r for r in stats.runs if r is not best]
            for run in runs:
                if run.run_dir is not None and (run.run_dir / filename).is_file():
                    found.append((method, run, run.run_dir / filename))
        return found

    def _best_runs(self, summary: TaskSummary, filename: str) -> list[tuple[str, RunResult, Path]]:
        return self._runs_with(summary, filename, best_only=True)

    def _predictions(self, summary: TaskSummary) -> list[Image]:
        """Regression: predicted vs true scatter of every seed (the best in colour); classification: confusion
        matrices of the best seed of each method."""
        metric, kind, task = summary.info.main_metric, summary.info.kind, slug(summary.task)
        if kind not in ("regression", "classification"):
            return []
        scatters: dict[str, ScatterPanel] = {}
        confusions = []
        for method, run, path in self._runs_with(summary, PREDICTIONS_FILE, best_only=kind != "regression"):
            frame = read_predictions(path)
            value = run.test.get(metric, math.nan)
            title = f"{method} (best: seed {run.seed}, {summary.info.label(metric, arrow=False)} {value:.3f})"
            if kind == "regression":
                if method not in scatters:  # the best seed comes first
                    self.files[f"plots/data/predictions/{task}_{method_slug(method)}.csv"] = _csv(
                        frame.rename(columns={"true": "target", "pred": "prediction"}))
                    scatters[method] = ScatterPanel(title, {}, run.seed, is_scalegmn(method))
                scatters[method].seeds[run.seed] = (frame["true"].to_numpy(), frame["pred"].to_numpy())
            else:
                matrix = confusion_matrix(frame, path)
                self.files[f"plots/data/confusion/{task}_{method_slug(method)}.csv"] = _csv(
                    frame[["true", "pred"]].round().astype("int64").rename(
                        columns={"true": "actual", "pred": "predicted"}))
                confusions.append(ConfusionPanel(title, matrix, is_scalegmn(method)))
        images = []
        if scatters:
            images.append(Image(f"{task}_predictions", scatter_grid(summary.info.title, list(scatters.values())),
                                f"{summary.info.title}: predicted vs true test accuracy of the test networks, "
                                "every seed of each method (best seed in colour, ScaleGMN in red, the others grey); "
                                "dashed: y = x; axes: the 0.5-99.5 percentile range of the targets."))
        if confusions:
            images.append(Image(f"{task}_confusion", confusion_grid(summary.info.title, confusions),
                                f"{summary.info.title}: confusion matrices on the test INRs (rows normalised), "
                                "best seed of each method (ScaleGMN in red)."))
        return images

    def _curves(self, summary: TaskSummary) -> list[Image]:
        """Training loss and validation main metric per epoch, best seed of each method."""
        metric, task = summary.info.main_metric, slug(summary.task)
        curves = {}
        for method, run, path in self._best_runs(summary, HISTORY_FILE):
            history = read_history(path.parents[1])  # path: <run dir>/dvclive/metrics.json
            column = f"val_{metric}"
            if "train_loss" not in history.columns or column not in history.columns:
                continue
            frame = history[["epoch", "train_loss", column]].rename(columns={column: "val_metric"})
            for name, panel in (("train_loss", "training loss"),
                                ("val_metric", f"validation {summary.info.label(metric)}")):
                self.curves.append(pd.DataFrame({"panel": f"{summary.task}: {panel}", "task": summary.task,
                                                 "method": method, "seed": run.seed, "epoch": frame["epoch"],
                                                 "value": frame[name]}))
            curves[method] = (frame["epoch"].to_numpy(), frame["train_loss"].to_numpy(),
                              frame["val_metric"].to_numpy())
        if not curves:
            return []
        references = self.references[summary.task]
        return [Image(f"{task}_curves", learning_curves(summary.info.title, curves, summary.info.label(metric),
                                                        references),
                      f"{summary.info.title}: training loss and validation {summary.info.label(metric)} per epoch, "
                      "best seed of each method" + (f"; lines: {reference_note(references)}." if references else "."))]

    def _edits(self, summary: TaskSummary) -> list[Image]:
        if summary.info.kind != "editing":
            return []
        images = []
        for method, run, path in self._best_runs(summary, EDIT_EXAMPLES_FILE):
            ex = read_edit_examples(path)
            png = image_grid(f"{method} (seed {run.seed})",
                             {"original": ex.original, "edited": ex.edited, "target": ex.target},
                             self.inputs.edit_examples)
            images.append(Image(f"{slug(summary.task)}_edits_{method_slug(method)}", png, f"{summary.info.title}: "
                                f"original, edited and target images, {method} (seed {run.seed})."))
        return images

    # ------------------------------------------------------------------ zoos
    def zoo_section(self) -> Section:
        section = Section("Model zoos")
        if not self.inputs.zoos:
            section.blocks.append(Text("No zoos given (`--zoo`); section omitted."))
            return section
        stats = []
        for path in self.inputs.zoos:
            if not path.exists():
                section.blocks.append(Text(f"Zoo `{path}` not found; not described."))
                continue
            zoo = zoo_stats(path)
            stats.append(zoo)
            section.blocks += self._zoo_histograms(zoo)
        if stats:
            section.blocks.insert(0, self._zoo_table(stats))
        return section

    @staticmethod
    def _mean_std(values: pd.Series) -> str:
        if values.empty:
            return MISSING
        return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}" if len(values) > 1 else f"{values.mean():.3f}"

    def _zoo_table(self, zoos: list[ZooStats]) -> Table:
        rows = []
        for z in zoos:
            activations, hidden = (", ".join(f"{a} {n:,}" for a, n in sorted(Counter(z.networks[c]).items()))
                                   for c in ("activation", "hidden"))
            rows.append([z.name, str(z.path), f"{z.size:,}", activations, hidden,
                         self._mean_std(z.values("score")["score"]), self._mean_std(z.values("psnr")["psnr"])])
        return Table(["zoo", "path", "networks", "activations", "hidden widths", "test accuracy", "PSNR (dB)"], rows,
                     caption="Zoos: size, activations, hidden widths (networks of each), mean ± sample std of the "
                     "members' test accuracy and fitting PSNR.")

    def _zoo_histograms(self, zoo: ZooStats) -> list[Image | Text]:
        blocks: list[Image | Text] = []
        bins = self.inputs.histogram_bins
        for column, label, by in (("score", "test accuracy", "activation"), ("psnr", "PSNR (dB)", None)):
            data = zoo.values(column)
            if data.empty:
                continue
            groups = ({str(a): g[column].to_numpy() for a, g in data.groupby(by)} if by
                      else {zoo.name: data[column].to_numpy()})
            name = f"zoo_{slug(zoo.name)}_{column}"
            self.files[f"plots/data/histograms/{slug(zoo.name)}_{column}.csv"] = _csv(
                histogram_frame(data[column].to_numpy(), bins, "value"))
            blocks.append(Image(name, histogram(f"{zoo.name}: {label}", label, groups, bins),
                                f"Zoo `{zoo.name}`: histogram of the members' {label}"
                                + (f", by {by}." if by else ".")))
        if not blocks:
            blocks.append(Text(f"Zoo `{zoo.name}` has no `score` or `psnr` metadata to plot."))
        return blocks

    # ------------------------------------------------------------------ checks
    def symmetry_section(self) -> Section:
        """Claimed vs observed symmetries per model: a model passes when every symmetry it claims holds;
        the symmetries it does not claim are measured and shown for reference."""
        section = Section("Symmetry checks of the metanetworks")
        paths = self.inputs.symmetry
        if not paths:
            section.blocks.append(Text("No symmetry checks given; section omitted."))
            return section
        if missing := _missing_files(paths):
            section.blocks.append(Text("Not found: " + ", ".join(f"`{p}`" for p in missing) + "."))
        rows = symmetry_rows([p for p in paths if p.exists()])
        if not rows:
            return section
        models = ordered({str(r["model"]) for r in rows}, METHOD_ORDER)
        claimed = [r for r in rows if r["claimed"]]
        holding = [m for m in models if all(r["holds"] for r in claimed if r["model"] == m)]
        self.check_counts["symmetry"] = {"models": len(models), "models_holding_claims": len(holding),
                                         "claimed": len(claimed), "claimed_held": sum(r["holds"] for r in claimed)}
        failing = [m for m in models if m not in holding]
        verdict = f"Holds where claimed: **{len(holding)}/{len(models)} models**" + (
            f" (claimed but not holding: {', '.join(f'`{m}`' for m in failing)})." if failing else ".")
        table = symmetry_table(rows, models)
        self._table_files("symmetry", table, pd.DataFrame.from_records(rows))
        section.blocks += [Text(verdict + " A model claims what it is built to be invariant (or equivariant) to, "
                                "its `symmetries`; the symmetries it does not claim are measured for reference "
                                "(a baseline without scale symmetry is expected to change under scaling)."), table]
        return section

    def check_section(self, key: str, title: str, path: Path | None, option: str, pivot: tuple[str, str, str],
                      verdict: str, caption: str) -> Section:
        """The rows of a check file as a ``pivot`` = (index, column, value) table when every row has those
        fields, else one line per row; failures in bold; pass counts go to the summary."""
        section = Section(title)
        if path is None or not path.exists():
            section.blocks.append(_missing_note(f"{key} results", path, option))
            return section
        rows = load_check_files([path])
        ok = sum(passed(r) for r in rows)
        self.check_counts[key] = {"checks": len(rows), "passed": ok}
        if rows and all(all(k in r for k in pivot) for r in rows):
            table = pivot_check_table(rows, *pivot, caption=caption, order=METHOD_ORDER)
        else:
            table = records_table(rows, caption)
        self._table_files(key, table, pd.DataFrame.from_records(rows))
        section.blocks += [Text(f"**{ok}/{len(rows)}** {verdict} (from `{path}`)."), table]
        return section

    # ------------------------------------------------------------------ environment
    def environment_sections(self) -> list[Section]:
        params = Section("Parameters", level=3)
        path = self.inputs.params
        if path is not None and path.is_file():
            params.blocks += [Text(f"From `{path}`:"), Code(path.read_text(), "yaml")]
        else:
            params.blocks.append(_missing_note("params file", path, "--params"))
        versions = package_versions()
        packages = Table(["package", "version"], [[k, v] for k, v in versions.items()])
        devices = Counter(r.device or "unknown" for r in self.runs if r.status == "ok")
        facts = hardware() | {"training devices": ", ".join(f"{d} ({n} runs)" for d, n in sorted(devices.items()))}
        machine = Table(["property", "value"], [[k, v] for k, v in facts.items()])
        return [Section("Environment", [Text("Where and with what this report was produced.")]), params,
                Section("Packages", [packages], level=3), Section("Hardware", [machine], level=3),
                self._timings_section()]

    def _timings_section(self) -> Section:
        section = Section("Timings", level=3)
        paths = [p for p in self.inputs.timings if p.exists()]
        if paths:
            groups = group_stages({k: v for p in paths for k, v in read_timings(p).items()})
            total = sum(s for _, s in groups.values())
            rows = [[stage, str(n), format_seconds(s), f"{100 * s / total:.1f} %" if total else MISSING]
                    for stage, (n, s) in groups.items()]
            rows.append(["total", str(sum(n for n, _ in groups.values())), format_seconds(total),
                         "100.0 %" if total else MISSING])
            section.blocks.append(Table(["stage", "runs", "wall time", "share"], rows, {(len(rows) - 1, 0)},
                                        f"Per-stage wall time, matrix stages summed (from {len(paths)} timing "
                                        "files of this pipeline's stages)."))
        else:
            section.blocks.append(Text("No stage timings given; table omitted."))
        train = [[t.task, str(sum(len(s.runs) for s in t.methods.values())),
                  format_seconds(sum(r.wall_seconds or 0.0 for s in t.methods.values() for r in s.runs))]
                 for t in self.tasks]
        section.blocks.append(Table(["task", "runs", "training wall time (sum)"], train, caption="Training wall "
                                    "time per task, summed over methods and seeds (from the results)."))
        return section

    # ------------------------------------------------------------------ document
    def document(self) -> Document:
        skipped = len(self.runs) - self.ok_runs
        intro = [Text(f"{self.ok_runs} runs" + (f" (and {skipped} not applicable)" if skipped else "")
                      + f" of {len(self.methods)} methods on {len(self.tasks)} tasks, read from "
                      f"`{self.inputs.results}`. Metrics are on the test split at the best validation epoch; "
                      "tables give mean ± sample std (ddof 1) over n seeds (n stated; the mean alone, n=1, for one "
                      "seed) and the Student-t 95 % interval of the mean, best mean in bold "
                      "(↑ higher is better, ↓ lower is better); — marks a method not run on a task. Figures are "
                      "in `plots/` as PNG, SVG and PDF; tables in `tables/` as Markdown, CSV and LaTeX (booktabs).")]
        without = sum(r.run_dir is None or not r.run_dir.is_dir() for r in self.runs if r.status == "ok")
        if without:
            intro.append(Text(f"{without} runs have no run directory to read; their prediction, confusion, editing "
                              "and learning-curve plots are omitted."))
        sections = [self.overview(), *self.task_sections(), self.zoo_section(), self.symmetry_section(),
                    self.check_section("selfcheck", "Augmentation self-check", self.inputs.selfcheck,
                                       "--selfcheck", ("network", "transform", "max_rel_error"), "checks passed",
                                       "Largest relative change of example networks' forward pass under each "
                                       "weight transformation, float64; ✓ passed, ✗ failed."),
                    *self.environment_sections()]
        if self.curves:
            self.files[f"plots/{CURVES_FILE}"] = _csv(pd.concat(self.curves, ignore_index=True))
        return Document("ScaleGMN benchmark report", intro, sections)


def _write_directory(path: Path, files: dict[str, bytes], overwrite: bool) -> None:
    """Replace directory ``path`` atomically by one holding ``files`` (relative name → bytes)."""
    with atomic_dir(path, f"report-{path.name}", overwrite=overwrite) as tmp:
        tmp.mkdir()
        for name, content in files.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def build_report(inputs: ReportInputs, out: str | Path, overwrite: bool = False) -> ReportOutputs:
    """Read every input, then write ``report.md``, ``report.html``, ``summary.json``, ``headline.json``,
    ``tables/`` and ``plots/`` under ``out`` (each replaced atomically; nothing is written if reading fails;
    ``tables/`` and ``plots/`` replace folders of unrelated files only with ``overwrite``)."""
    start = time.perf_counter()
    out = Path(out)
    builder = _Builder(inputs)
    doc = builder.document()
    plots = {f"plots/{name}": data for image in doc.images for name, data in image.filenames.items()}
    for directory in ("tables", "plots"):
        check_output_dir(out / directory, f"report-{directory}", overwrite=overwrite)
    for directory in ("tables", "plots"):
        prefix = f"{directory}/"
        files = {k[len(prefix):]: v for k, v in (builder.files | plots).items() if k.startswith(prefix)}
        _write_directory(out / directory, files, overwrite)
    write_text(out / "report.md", render_markdown(doc))
    write_text(out / "report.html", render_html(doc))
    write_json(out / "summary.json", builder.summary())
    write_json(out / "headline.json", headline(builder.tasks))
    written = [out / name for name in ("report.md", "report.html", "summary.json", "headline.json", "tables", "plots")]
    return ReportOutputs(out, written, len(builder.tasks), len(builder.methods), builder.ok_runs, len(doc.images),
                         time.perf_counter() - start)
