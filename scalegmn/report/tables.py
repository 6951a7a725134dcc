"""Result tables in the style of the ScaleGMN paper: methods × metrics, mean ± sample std over seeds (the
mean alone, marked ``n=1``, for one seed), the 95 % interval of the main metric's mean, the best mean per
column in bold, "—" where a method was not run on a task."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from scalegmn.report.checks import failed_fields
from scalegmn.report.document import Table
from scalegmn.report.results import Aggregate, MethodStats, PairedComparison, TaskSummary

MISSING = "—"


def decimals_for(means: Sequence[float]) -> int:
    """Decimals that show the largest finite ``|mean|`` with about 3 significant digits (at least 3)."""
    finite = [abs(m) for m in means if math.isfinite(m) and m != 0]
    if not finite:
        return 3
    return min(8, max(3, 2 - math.floor(math.log10(max(finite)))))


def format_aggregate(agg: Aggregate | None, decimals: int) -> str:
    """``mean ± std`` (sample std); ``mean (n=1)`` for one seed; ``(k/n seeds)`` appended when some seeds
    were NaN; "—" when absent."""
    if agg is None:
        return MISSING
    if agg.count == 0:
        return "nan"
    text = f"{agg.mean:.{decimals}f} ± {agg.std:.{decimals}f}" if agg.count > 1 else f"{agg.mean:.{decimals}f} (n=1)"
    return text if agg.count == agg.total else f"{text} ({agg.count}/{agg.total} seeds)"


def format_interval(agg: Aggregate | None, decimals: int) -> str:
    """``[low, high]``, the 95 % t-interval of the mean; "—" below two seeds."""
    if agg is None or agg.count < 2:
        return MISSING
    return f"[{agg.mean - agg.ci95:.{decimals}f}, {agg.mean + agg.ci95:.{decimals}f}]"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_count(value: float | None) -> str:
    return MISSING if value is None else f"{round(value):,}"


def metric_decimals(summary: TaskSummary, metric: str) -> int:
    """:func:`decimals_for` the means of ``metric`` over the task's methods."""
    return decimals_for([s.metrics[metric].mean for s in summary.methods.values() if metric in s.metrics])


def format_difference(value: float, decimals: int) -> str:
    """A signed difference (``+0.016``); "—" when undefined."""
    return f"{value:+.{decimals}f}" if math.isfinite(value) else MISSING


def format_p(p: float) -> str:
    """A p-value rounded to 3 decimals, ``< 0.001`` where that rounds to 0; "—" when undefined."""
    if not math.isfinite(p):
        return MISSING
    return "< 0.001" if p < 0.0005 else f"{p:.3f}"


def format_best_epochs(stats: MethodStats) -> str:
    """``"37, 60, 60 / 60 †"``: each seed's best epoch / the epochs budgeted (``†``: most seeds peaked at the
    last), then ``"(stopped 57, 60, 60)"`` when early stopping ended a run before its budget."""
    epochs = stats.best_epochs
    if not epochs:
        return MISSING
    lasts = sorted({last for _, last in epochs})
    text = f"{', '.join(str(best) for best, _ in epochs)} / {', '.join(map(str, lasts))}"
    text = text + " †" if stats.peaks_at_last_epoch else text
    stopped = stats.stopped_early
    return f"{text} (stopped {', '.join(map(str, stopped))})" if stopped else text


def task_table(summary: TaskSummary, methods: Sequence[str], references: Sequence[tuple[str, float]] = ()) -> Table:
    """Rows ``methods`` (those without runs on this task show "—"), columns the test metrics, the 95 %
    interval of the main metric, then seeds, parameter count, mean wall time per run and training throughput;
    then a row per reference ``(label, value)`` of the main metric (chance, image oracle)."""
    main = summary.info.main_metric
    columns = (["method"] + [summary.info.label(m) for m in summary.metrics]
               + [f"95 % CI ({summary.info.label(main, arrow=False)})", "seeds", "best epoch", "params",
                  "wall time / run", "train graphs/s"])
    decimals = {m: metric_decimals(summary, m) for m in summary.metrics}
    best = {m: summary.best(m) for m in summary.metrics}
    rows, bold = [], set()
    for i, method in enumerate(methods):
        stats = summary.methods.get(method)
        if stats is None:
            rows.append([method] + [MISSING] * (len(columns) - 1))
            continue
        cells = [format_aggregate(stats.metrics.get(m), decimals[m]) for m in summary.metrics]
        bold |= {(i, 1 + j) for j, m in enumerate(summary.metrics) if method in best[m]}
        rows.append([method] + cells + [format_interval(stats.metrics.get(main), decimals[main]),
                                        str(len(stats.seeds)), format_best_epochs(stats),
                                        format_count(stats.num_params), format_seconds(stats.wall_seconds),
                                        format_count(stats.train_graphs_per_s)])
    for label, value in references:
        cells = [f"{value:.3f}" if m == main else MISSING for m in summary.metrics]
        rows.append([f"({label})"] + cells + [MISSING] * (len(columns) - 1 - len(cells)))
    caption = (f"{summary.info.title}: test metrics at the best validation epoch, mean ± sample std (ddof 1) over "
               "the seeds (n in column seeds); 95 % CI: Student-t interval of the mean; best mean in bold "
               "(↑ higher is better, ↓ lower is better); best epoch: the validation-selected epoch of each seed / "
               "the epochs trained, † where most seeds were best at the last epoch (still improving: not converged)"
               + ("; rows in parentheses are references." if references else "."))
    return Table(columns, rows, bold, caption)


def comparison_table(summary: TaskSummary, comparisons: Sequence[PairedComparison]) -> Table:
    """One row per :class:`PairedComparison` of the task: the other method, the mean paired difference with its
    95 % interval, the p-value, n and the verdict (``better`` / ``worse`` in bold)."""
    metric = summary.info.main_metric
    decimals = metric_decimals(summary, metric)
    rows, bold = [], set()
    for i, c in enumerate(comparisons):
        interval = (MISSING if not math.isfinite(c.ci95) else
                    f"[{c.mean_difference - c.ci95:.{decimals}f}, {c.mean_difference + c.ci95:.{decimals}f}]")
        rows.append([c.other, format_difference(c.mean_difference, decimals), interval, format_p(c.p_value), str(c.n),
                     c.verdict])
        if c.verdict in ("better", "worse"):
            bold.add((i, 5))
    reference = comparisons[0].reference if comparisons else "scalegmn"
    return Table(["vs", f"Δ {summary.info.label(metric, arrow=False)} ({reference} − other)", "95 % CI of Δ",
                  "p (paired t)", "n", f"{reference} is"], rows, bold,
                 f"{summary.info.title}: {reference} against each method, paired by seed (same seed, same data "
                 f"split); two-sided paired t-test at the 5 % level ({summary.info.label(metric)}). With n=3 seeds "
                 "only large, consistent differences are distinguishable.")


def _verdict_cell(c: PairedComparison, summary: TaskSummary, show_n: bool) -> str:
    """``better +0.016 (p 0.009)``: the verdict (``n.d.``: not distinguishable), the mean paired difference and
    the p-value (and ``n=`` with ``show_n``); "—" without a seed both methods ran."""
    if c.n == 0:
        return MISSING
    word = c.verdict if c.verdict in ("better", "worse") else "n.d."
    numbers = [f"p {format_p(c.p_value)}"] + ([f"n={c.n}"] if show_n else [])
    return f"{word} {format_difference(c.mean_difference, metric_decimals(summary, c.metric))} ({', '.join(numbers)})"


def _pairs_table(summaries: Sequence[TaskSummary], comparisons: Mapping[str, Sequence[PairedComparison]],
                 rows_of: Sequence[tuple[str, ...]], key: Callable[[PairedComparison], tuple[str, ...]],
                 first: str, header: Callable[[TaskSummary], str], what: str) -> Table:
    """Rows × tasks of :func:`_verdict_cell` (bold: better / worse): row ``r`` holds each task's comparison whose
    ``key`` is ``rows_of[r]`` (its label: the key joined by " vs "); only tasks with comparisons are columns."""
    shown = [s for s in summaries if comparisons.get(s.task)]
    found = {(s.task, key(c)): c for s in shown for c in comparisons[s.task]}
    counts = {c.n for c in found.values()}
    rows, bold = [], set()
    for i, row_key in enumerate(rows_of):
        row = [" vs ".join(row_key)]
        for j, s in enumerate(shown):
            c = found.get((s.task, row_key))
            row.append(MISSING if c is None else _verdict_cell(c, s, len(counts) > 1))
            if c is not None and c.verdict in ("better", "worse"):
                bold.add((i, 1 + j))
        rows.append(row)
    seeds = f" over n={next(iter(counts))} seeds" if len(counts) == 1 else " (n: the seeds both ran)"
    return Table([first] + [header(s) for s in shown], rows, bold,
                 f"{what}, on the task's main metric, paired by seed{seeds}: better / worse (in bold) where a "
                 "two-sided paired t-test rejects equality at the 5 % level, n.d. (not distinguishable) where it does "
                 "not; the signed number is the mean of the first method − the second (for ↓ metrics a negative one "
                 "is better), then the p-value.")


def verdict_table(summaries: Sequence[TaskSummary], comparisons: Mapping[str, Sequence[PairedComparison]],
                  methods: Sequence[str]) -> Table:
    """Methods × tasks: each task's paired comparison (``comparisons[task]``) of its reference method against the
    row's method as ``better`` / ``worse`` (bold) or ``n.d.`` (not distinguishable), with the mean difference
    and the p-value; the column header names the task's reference. Rows: ``methods`` compared on some task."""
    compared = {c.other for cs in comparisons.values() for c in cs}
    references = {task: cs[0].reference for task, cs in comparisons.items() if cs}
    return _pairs_table(summaries, comparisons, [(m,) for m in methods if m in compared], lambda c: (c.other,),
                        "vs", lambda s: f"{s.task} ({references[s.task]} is)",
                        "The reference method of each task (in the column header) against every other method")


def augmentation_table(summaries: Sequence[TaskSummary], comparisons: Mapping[str, Sequence[PairedComparison]]
                       ) -> Table:
    """Pairs × tasks: each method trained with symmetry augmentation against the same metanetwork trained
    without (``comparisons[task]``: reference the augmented method, other the plain one), as in
    :func:`verdict_table`."""
    pairs = list(dict.fromkeys((c.reference, c.other) for cs in comparisons.values() for c in cs))
    return _pairs_table(summaries, comparisons, pairs, lambda c: (c.reference, c.other), "augmented vs plain",
                        lambda s: s.task, "Each metanetwork trained on random symmetry copies against the same "
                        "metanetwork and settings without them")


def task_frame(summary: TaskSummary) -> pd.DataFrame:
    """The numbers behind :func:`task_table`: one row per method, ``<metric>_mean``/``_std``/``_ci95`` (the
    half-width of the 95 % interval)/``_n`` columns."""
    records = []
    for method, stats in summary.methods.items():
        record: dict[str, Any] = {"task": summary.task, "method": method, "seeds": len(stats.seeds)}
        for m in summary.metrics:
            agg = stats.metrics.get(m)
            record[f"{m}_mean"] = math.nan if agg is None else agg.mean
            record[f"{m}_std"] = math.nan if agg is None else agg.std
            record[f"{m}_ci95"] = math.nan if agg is None else agg.ci95
            record[f"{m}_n"] = 0 if agg is None else agg.count
        record |= {"best_epochs": " ".join(str(best) for best, _ in stats.best_epochs),
                   "peaks_at_last_epoch": stats.peaks_at_last_epoch,
                   "num_params": stats.num_params, "wall_seconds": stats.wall_seconds,
                   "train_graphs_per_s": stats.train_graphs_per_s}
        records.append(record)
    return pd.DataFrame.from_records(records)


def metric_frame(summary: TaskSummary, metric: str) -> pd.DataFrame:
    """``method, mean, std, ci95, n`` of one metric (the data of the task's bar chart)."""
    stats = [s.metrics.get(metric) for s in summary.methods.values()]
    return pd.DataFrame({"method": list(summary.methods),
                         "mean": [math.nan if a is None else a.mean for a in stats],
                         "std": [math.nan if a is None else a.std for a in stats],
                         "ci95": [math.nan if a is None else a.ci95 for a in stats],
                         "n": [0 if a is None else a.count for a in stats]})


def overview_table(summaries: Sequence[TaskSummary], methods: Sequence[str],
                   references: Mapping[str, Sequence[tuple[str, float]]] | None = None) -> Table:
    """Methods × tasks on each task's main metric (the paper's headline table), then one row per reference
    label (``references``: per task its ``(label, value)`` references, e.g. chance and the image oracle)."""
    columns = ["method"] + [f"{s.task} ({s.info.label(s.info.main_metric)})" for s in summaries]
    rows, bold = [], set()
    for i, method in enumerate(methods):
        row = [method]
        for j, s in enumerate(summaries):
            metric = s.info.main_metric
            stats = s.methods.get(method)
            row.append(format_aggregate(None if stats is None else stats.metrics.get(metric),
                                        metric_decimals(s, metric)))
            if method in s.best(metric):
                bold.add((i, 1 + j))
        rows.append(row)
    references = references or {}
    labels = list(dict.fromkeys(label for s in summaries for label, _ in references.get(s.task, ())))
    for label in labels:
        values = [dict(references.get(s.task, ())).get(label) for s in summaries]
        rows.append([f"({label})"] + [MISSING if v is None else f"{v:.3f}" for v in values])
    note = " Rows in parentheses are references, not methods." if labels else ""
    return Table(columns, rows, bold, "Main metric per task (test, mean ± sample std over seeds, n=1 where one seed "
                 f"ran; best in bold).{note}")


def format_value(value: Any) -> str:
    """Display form of a JSON value in a records table: floats ``.2e`` or ``.4g``, booleans yes/NO."""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.2e}" if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5) else f"{value:.4g}"
    if value is None:
        return MISSING
    return str(value)


def pivot_check_table(rows: Sequence[dict[str, Any]], index: str, column: str, value: str,
                      caption: str = "", order: Sequence[str] = ()) -> Table:
    """``index`` × ``column`` (e.g. model × transform) of the largest ``value`` over the matching rows,
    marked ✓ when every row's check holds and ✗ (bold) otherwise; other fields whose value is the same for
    all rows of an index (e.g. ``kind``) become columns after the index. Index values named in ``order``
    come first, in that order; the others follow in order of appearance."""
    rank = {name: i for i, name in enumerate(order)}
    indices = sorted(dict.fromkeys(str(r[index]) for r in rows), key=lambda n: rank.get(n, len(rank)))
    columns = list(dict.fromkeys(str(r[column]) for r in rows))
    skip = {index, column, value}
    extras = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in skip and not any(
        isinstance(r.get(k), bool) for r in rows) and all(
        len({str(r.get(k)) for r in rows if str(r[index]) == i}) == 1 for i in indices)]
    cells, bold = [], set()
    for i, name in enumerate(indices):
        mine = [r for r in rows if str(r[index]) == name]
        row = [name] + [format_value(mine[0].get(k)) for k in extras]
        for j, col in enumerate(columns):
            matching = [r for r in mine if str(r[column]) == col]
            if not matching:
                row.append(MISSING)
                continue
            worst = max(float(r[value]) for r in matching)
            held = not any(failed_fields(r) for r in matching)
            row.append(f"{format_value(worst)} {'✓' if held else '✗'}")
            if not held:
                bold.add((i, 1 + len(extras) + j))
        cells.append(row)
    return Table([index] + extras + columns, cells, bold, caption)


def symmetry_table(rows: Sequence[dict[str, Any]], models: Sequence[str]) -> Table:
    """Model × transform: the largest relative change, ``✓`` / ``✗`` (bold) where the model claims the
    symmetry, ``(not claimed)`` where it does not; then the model's claims and whether they all hold."""
    transforms = list(dict.fromkeys(str(r["transform"]) for r in rows))
    cells, bold = [], set()
    for i, model in enumerate(models):
        mine = [r for r in rows if r["model"] == model]
        kinds = sorted({str(r.get("kind", "")) for r in mine} - {""})
        row = [model, ", ".join(kinds) or MISSING]
        for j, transform in enumerate(transforms):
            matching = [r for r in mine if r["transform"] == transform]
            if not matching:
                row.append(MISSING)
                continue
            worst = format_value(max(float(r["max_rel_change"]) for r in matching))
            if not all(r["claimed"] for r in matching):
                row.append(f"{worst} (not claimed)")
            elif all(r["holds"] for r in matching):
                row.append(f"{worst} ✓")
            else:
                row.append(f"{worst} ✗")
                bold.add((i, 2 + j))
        claims = [t for t in transforms if any(r["claimed"] and r["transform"] == t for r in mine)]
        held = all(r["holds"] for r in mine if r["claimed"])
        row += [", ".join(claims) or "none", "yes" if held else "NO"]
        if not held:
            bold.add((i, len(row) - 1))
        cells.append(row)
    caption = ("Largest relative change of each model's output (invariant models) or of its output read as "
               "parameters (equivariant models) under random symmetries of its input networks, float64: ✓ a claimed "
               "symmetry holds, ✗ it does not; unclaimed symmetries are measured for reference.")
    return Table(["model", "kind"] + transforms + ["claims", "claims hold"], cells, bold, caption)


def records_table(rows: Sequence[dict[str, Any]], caption: str = "") -> Table:
    """A table of check records (columns: the union of their keys, in first-seen order); booleans that
    differ from the expected value (a failed check) are shown in bold."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[format_value(row.get(c)) for c in columns] for row in rows]
    failed = [failed_fields(row) for row in rows]
    bold = {(i, j) for i in range(len(rows)) for j, c in enumerate(columns) if c in failed[i]}
    return Table(columns, cells, bold, caption)
