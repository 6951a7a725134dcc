"""The benchmark report: tables (mean ± std, best in bold), plots, self-contained HTML, missing inputs."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats as scipy_stats
from typer.testing import CliRunner

from scalegmn.cli import app
from scalegmn.core.random_networks import random_cnn, random_siren
from scalegmn.report.build import ReportInputs, build_report
from scalegmn.report.checks import load_check_rows, passed, symmetry_rows
from scalegmn.report.document import markdown_table
from scalegmn.report.plots import bar_chart
from scalegmn.report.results import MethodStats, RunResult, augmentation_pairs, load_results, paired_comparisons, \
    summarize
from scalegmn.report.runs import read_edit_examples
from scalegmn.report.tables import (augmentation_table, comparison_table, format_best_epochs, pivot_check_table,
                                     records_table, symmetry_table, task_table, verdict_table)
from scalegmn.run.benchmark import run_dir
from scalegmn.report.timings import group_stages, read_timings
from scalegmn.timing import record_stage
from scalegmn.zoo import save_zoo

# task -> method -> per-seed test metrics
RESULTS = {
    "genpred-relu": {
        "statnn": [{"kendall_tau": 0.70, "r2": 0.5, "mse": 0.004}] * 3,
        "gmn": [{"kendall_tau": t, "r2": 0.6, "mse": 0.001} for t in (0.5, 0.6, 0.7)],
        "scalegmn": [{"kendall_tau": t, "r2": 0.4, "mse": 0.002} for t in (0.8, 0.9, 1.0)],
    },
    "inr-classification": {
        "gmn": [{"accuracy": a} for a in (0.5, 0.7)],
        "scalegmn": [{"accuracy": a} for a in (0.8, 0.9)],
    },
    "inr-editing": {
        "gmn": [{"mse": m, "identity_mse": 0.08} for m in (0.03, 0.05)],
        "scalegmn": [{"mse": m, "identity_mse": 0.08} for m in (0.02, 0.04)],
    },
}


def write_results(root: Path) -> Path:
    rows = [{"task": task, "method": method, "seed": seed, "test": test, "val": test, "best_epoch": 1, "epochs": 2,
             "wall_seconds": 10.0 + seed, "num_params": 1000, "train_graphs_per_s": 50.0, "device": "cpu",
             "run_dir": str(run_dir(root / "runs", task, method, seed))}
            for task, methods in RESULTS.items() for method, seeds in methods.items()
            for seed, test in enumerate(seeds)]
    rows.append({"task": "inr-editing", "method": "statnn", "seed": 0, "status": "not_applicable",
                 "reason": "needs an equivariant model", "test": {}, "val": {}, "num_params": None})
    path = root / "results.json"
    path.write_text(json.dumps(rows))
    return path


def write_run_artefacts(root: Path) -> Path:
    runs, rng = root / "runs", np.random.default_rng(0)
    for method in RESULTS["genpred-relu"]:
        for seed in range(3):
            d = runs / "genpred-relu" / method / f"seed{seed}"
            d.mkdir(parents=True)
            true = rng.uniform(0.1, 0.9, 20)
            pd.DataFrame({"id": [f"n{i}" for i in range(20)], "true": true, "pred": true + 0.01}).to_csv(
                d / "predictions.csv", index=False)
    for method in RESULTS["inr-classification"]:
        for seed in range(2):
            d = runs / "inr-classification" / method / f"seed{seed}"
            d.mkdir(parents=True)
            labels = np.arange(12) % 3
            pd.DataFrame({"id": range(12), "true": labels, "pred": (labels + 1 - seed) % 3}).to_csv(
                d / "predictions.csv", index=False)
    for method in RESULTS["inr-editing"]:
        for seed in range(2):
            d = runs / "inr-editing" / method / f"seed{seed}"
            d.mkdir(parents=True)
            img = rng.uniform(0, 1, (3, 8, 8))
            np.savez(d / "edit_examples.npz", original=img, edited=img * 0.5, target=img ** 2)
    return runs


def write_zoos(root: Path) -> list[Path]:
    g = torch.Generator().manual_seed(0)
    cnns = []
    for i in range(8):
        net = random_cnn(channels=(1, 2 + i // 6, 2 + i // 6), num_classes=3, activation=("relu", "tanh")[i % 2],
                         generator=g)
        net.meta = {"id": f"cnn{i}", "source": "tiny-cnn", "score": 0.1 * i}
        cnns.append(net)
    inrs = []
    for i in range(6):
        net = random_siren((2, 4, 1), generator=g)
        net.meta = {"id": f"inr{i}", "source": "tiny-inr", "label": i % 3, "psnr": 20.0 + i}
        inrs.append(net)
    save_zoo(root / "zoo-cnn", cnns, {"name": "tiny-cnn"})
    save_zoo(root / "zoo-inr", inrs, {"name": "tiny-inr"})
    return [root / "zoo-cnn", root / "zoo-inr"]


CLAIMS = {"scalegmn": ("permutation", "scaling"), "gmn": ("permutation",), "mlp": ()}


def write_symmetry(root: Path) -> list[Path]:
    """One file per model, as ``scalegmn check-symmetry MODEL --out`` writes them: ScaleGMN claims and keeps
    both symmetries, GMN claims and keeps permutations, the MLP claims nothing and keeps nothing."""
    directory = root / "symmetry"
    directory.mkdir()
    for model, claims in CLAIMS.items():
        rows = [{"model": model, "transform": t, "max_rel_change": change, "holds": change < 1e-4,
                 "claimed": t in claims, "kind": "invariance"}
                for t in ("permutation", "scaling") for change in [1e-7 if t in claims else 0.3]]
        (directory / f"{model}.json").write_text(json.dumps(rows))
    return sorted(directory.glob("*.json"))


def full_inputs(root: Path) -> ReportInputs:
    selfcheck = root / "selfcheck.json"
    selfcheck.write_text(json.dumps({"checks": 1, "passed": 1, "max_rel_error": 1e-16, "results": [
        {"network": "relu_mlp", "transform": "random_symmetry", "trials": 5, "max_rel_error": 1e-16,
         "passed": True}]}))
    params = root / "params.yaml"
    params.write_text("train:\n  epochs: 2\n")
    with record_stage("zoo", root / "timings" / "zoo.json"):
        pass
    write_run_artefacts(root)
    return ReportInputs(results=write_results(root), zoos=write_zoos(root), symmetry=write_symmetry(root),
                        selfcheck=selfcheck, params=params, timings=[root / "timings" / "zoo.json"],
                        histogram_bins=5, edit_examples=2)


def test_best_epoch_column_flags_methods_most_of_whose_seeds_peaked_at_the_last_epoch():
    def stats(best_epochs: list[int]) -> MethodStats:
        runs = [RunResult("genpred-relu", "gmn", seed, {"kendall_tau": 0.5}, best_epoch=best, epochs=20)
                for seed, best in enumerate(best_epochs)]
        return MethodStats("gmn", runs, {}, None, None, None)

    assert format_best_epochs(stats([20, 12, 20])) == "20, 12, 20 / 20 †"
    assert stats([20, 12, 20]).peaks_at_last_epoch
    assert format_best_epochs(stats([20, 12, 19])) == "20, 12, 19 / 20"
    assert not stats([20, 12, 19]).peaks_at_last_epoch
    assert format_best_epochs(MethodStats("gmn", [RunResult("t", "gmn", 0, {})], {}, None, None, None)) == "—"


def test_best_epoch_column_says_where_early_stopping_ended_runs():
    runs = [RunResult("genpred-relu", "gmn", seed, {"kendall_tau": 0.5}, best_epoch=best, epochs=60,
                      stopped_epoch=stopped) for seed, (best, stopped) in enumerate([(17, 37), (58, 60), (30, 50)])]
    assert format_best_epochs(MethodStats("gmn", runs, {}, None, None, None)) == "17, 58, 30 / 60 (stopped 37, 60, 50)"
    untouched = [RunResult("genpred-relu", "gmn", 0, {"kendall_tau": 0.5}, best_epoch=17, epochs=60, stopped_epoch=60)]
    assert format_best_epochs(MethodStats("gmn", untouched, {}, None, None, None)) == "17 / 60"


def test_task_table_holds_mean_sample_std_and_95_percent_interval_over_seeds_with_best_in_bold(tmp_path):
    tasks = summarize(load_results(write_results(tmp_path)))
    genpred = tasks[0]
    assert genpred.task == "genpred-relu" and genpred.metrics == ["kendall_tau", "r2", "mse"]
    table = task_table(genpred, ["statnn", "gmn", "scalegmn"])
    rows = {row[0]: row for row in table.rows}
    std = float(np.std([0.8, 0.9, 1.0], ddof=1))
    half = 4.302653 * std / math.sqrt(3)  # Student t, 2 degrees of freedom, 97.5 %
    assert rows["scalegmn"][1] == f"0.900 ± {std:.3f}"
    assert rows["gmn"][1] == f"0.600 ± {std:.3f}"
    assert rows["statnn"][1] == "0.700 ± 0.000"
    assert table.columns[4] == "95 % CI (Kendall τ)"
    assert rows["scalegmn"][4] == f"[{0.9 - half:.3f}, {0.9 + half:.3f}]"
    assert rows["scalegmn"][5:10] == ["3", "1, 1, 1 / 2", "1,000", "11.0 s", "50"]
    # higher is better for Kendall τ and R², lower for MSE
    assert table.bold == {(2, 1), (1, 2), (1, 3)}
    md = markdown_table(table)
    assert f"| scalegmn | **0.900 ± {std:.3f}** | 0.400 ± 0.000 |" in md
    assert "sample std (ddof 1)" in table.caption


def test_paired_t_test_over_seeds_decides_better_worse_or_not_distinguishable(tmp_path):
    tasks = {t.task: t for t in summarize(load_results(write_results(tmp_path)))}
    compared = {c.other: c for c in paired_comparisons(tasks["genpred-relu"])}
    # scalegmn 0.8/0.9/1.0 vs gmn 0.5/0.6/0.7: a constant +0.3 difference (up to rounding), p ~ 0
    assert compared["gmn"].mean_difference == pytest.approx(0.3) and compared["gmn"].p_value < 1e-6
    assert compared["gmn"].verdict == "better" and compared["gmn"].n == 3
    # vs statnn 0.7 x3: differences 0.1/0.2/0.3, t = 0.2 / (0.1 / sqrt 3) with 2 degrees of freedom
    t = 0.2 / (0.1 / math.sqrt(3))
    assert compared["statnn"].p_value == pytest.approx(2 * scipy_stats.t.sf(t, 2))
    assert compared["statnn"].ci95 == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-6)
    assert compared["statnn"].verdict == "not distinguishable at n=3"  # p = 0.074
    editing = {c.other: c for c in paired_comparisons(tasks["inr-editing"])}
    # MSE: lower is better; scalegmn 0.02/0.04 vs gmn 0.03/0.05 is -0.01 at both seeds
    assert editing["gmn"].mean_difference == pytest.approx(-0.01) and editing["gmn"].verdict == "better"


def test_a_difference_within_seed_noise_is_not_distinguishable(tmp_path):
    rows = [{"task": "genpred-relu", "method": m, "seed": s, "test": {"kendall_tau": v}}
            for m, values in (("scalegmn", (0.5, 0.7, 0.6)), ("gmn", (0.6, 0.5, 0.65))) for s, v in enumerate(values)]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(rows))
    (summary,) = summarize(load_results(path))
    (c,) = paired_comparisons(summary)
    assert (c.reference, c.other, c.verdict) == ("scalegmn", "gmn", "not distinguishable at n=3")
    assert 0.05 < c.p_value < 1
    md = markdown_table(comparison_table(summary, [c]))
    assert "| gmn | +0.017 |" in md and "not distinguishable at n=3" in md


def test_verdict_table_shows_each_tasks_reference_against_every_method_on_every_task(tmp_path):
    tasks = summarize(load_results(write_results(tmp_path)))
    comparisons = {t.task: paired_comparisons(t) for t in tasks}
    table = verdict_table(tasks, comparisons, ["statnn", "gmn", "scalegmn"])
    assert table.columns == ["vs", "genpred-relu (scalegmn is)", "inr-classification (scalegmn is)",
                             "inr-editing (scalegmn is)"]
    # seed counts differ between tasks (3 and 2), so every cell states its n; scalegmn is the reference everywhere
    assert table.rows == [
        ["statnn", "n.d. +0.200 (p 0.074, n=3)", "—", "—"],  # not run on classification, not applicable on editing
        ["gmn", "better +0.300 (p < 0.001, n=3)", "n.d. +0.250 (p 0.126, n=2)", "better -0.0100 (p < 0.001, n=2)"]]
    assert table.bold == {(1, 1), (1, 3)}


def test_verdict_table_names_a_scalegmn_variant_as_reference_where_scalegmn_did_not_run(tmp_path):
    rows = [{"task": task, "method": m, "seed": s, "test": {metric: v}}
            for task, metric, methods in (
                ("genpred-relu", "kendall_tau", (("scalegmn", (0.5, 0.6, 0.7)), ("gmn", (0.4, 0.5, 0.6)))),
                ("inr-classification", "accuracy", (("scalegmn-fast", (0.5, 0.52, 0.55)),
                                                     ("gmn-fast", (0.7, 0.71, 0.72)))))
            for m, values in methods for s, v in enumerate(values)]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(rows))
    tasks = summarize(load_results(path))
    table = verdict_table(tasks, {t.task: paired_comparisons(t) for t in tasks},
                          ["gmn-fast", "gmn", "scalegmn-fast", "scalegmn"])
    assert table.columns[1:] == ["genpred-relu (scalegmn is)", "inr-classification (scalegmn-fast is)"]
    assert [r[0] for r in table.rows] == ["gmn-fast", "gmn"]  # the references are no rows of their own
    assert table.rows[0][2].startswith("worse -0.187 (p 0.00") and table.rows[0][1] == "—"
    assert table.rows[1][1].startswith("better +0.100 (p < 0.001)")  # one seed count: n is in the caption
    assert "over n=3 seeds" in table.caption


def summary_of(tmp_path: Path, methods: dict) -> "TaskSummary":
    """The genpred-relu summary of ``methods``: ``{method: (fingerprint or None, test kendall_tau per seed)}``."""
    rows = [{"task": "genpred-relu", "method": m, "seed": s, "test": {"kendall_tau": v}}
            | ({} if fingerprint is None else {"fingerprint": fingerprint | {"method": m, "seed": s}})
            for m, (fingerprint, values) in methods.items() for s, v in enumerate(values)]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(rows))
    (summary,) = summarize(load_results(path))
    return summary


PLAIN = {"metanetwork": None, "lr": 0.001, "augment": {"copies": 0, "scale": True}, "dataset": "d"}


def test_augmentation_is_compared_only_between_methods_that_differ_in_it_alone(tmp_path):
    summary = summary_of(tmp_path, {
        "gmn": (PLAIN, (0.60, 0.62, 0.64)),
        "gmn-aug": (PLAIN | {"metanetwork": "gmn", "augment": {"copies": 1, "scale": True}}, (0.70, 0.71, 0.75)),
        # augmented too, but also another lr: not an augmentation ablation
        "gmn-aug-lr": (PLAIN | {"metanetwork": "gmn", "lr": 0.003, "augment": {"copies": 1}}, (0.7, 0.7, 0.7)),
        # another augment setting but no copies: both plain, nothing to compare with gmn
        "gmn-noscale": (PLAIN | {"metanetwork": "gmn", "augment": {"copies": 0, "scale": False}}, (0.6, 0.6, 0.6)),
    })
    assert augmentation_pairs(summary) == [("gmn-aug", "gmn"), ("gmn-aug", "gmn-noscale")]
    (c,) = paired_comparisons(summary, reference="gmn-aug", others=["gmn"])
    assert (c.reference, c.other, c.mean_difference) == ("gmn-aug", "gmn", pytest.approx(0.1))
    # differences 0.10 / 0.09 / 0.11: t = 0.1 / (0.01 / sqrt 3) with 2 degrees of freedom, p = 0.0033
    assert c.verdict == "better" and c.p_value == pytest.approx(2 * scipy_stats.t.sf(0.1 / (0.01 / math.sqrt(3)), 2))
    table = augmentation_table([summary], {"genpred-relu": [c]})
    assert table.columns == ["augmented vs plain", "genpred-relu"]
    assert table.rows == [["gmn-aug vs gmn", "better +0.100 (p 0.003)"]] and table.bold == {(0, 1)}


def test_augmentation_pairs_follow_the_copies_not_the_names_and_need_fingerprints(tmp_path):
    reversed_roles = summary_of(tmp_path, {
        "gmn": (PLAIN | {"augment": {"copies": 1}}, (0.7, 0.7)),  # the method named gmn is the augmented one
        "gmn-plain": (PLAIN | {"metanetwork": "gmn"}, (0.6, 0.6)),
    })
    assert augmentation_pairs(reversed_roles) == [("gmn", "gmn-plain")]
    unknown = summary_of(tmp_path, {"gmn": (None, (0.6, 0.6)), "gmn-aug": (None, (0.7, 0.7))})
    assert augmentation_pairs(unknown) == []  # results without fingerprints: no claim about what they differ in
    disjoint = summary_of(tmp_path, {"gmn": (PLAIN, (0.6,)),
                                     "gmn-aug": (PLAIN | {"metanetwork": "gmn", "augment": {"copies": 1}}, ())})
    assert augmentation_pairs(disjoint) == []  # no seed in common


def test_a_malformed_fingerprint_is_refused_naming_the_row(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps([{"task": "genpred-relu", "method": "gmn", "seed": 0, "test": {"kendall_tau": 0.5},
                                 "fingerprint": "abc"}]))
    with pytest.raises(ValueError, match=r"row 0.fingerprint: expected an object, got str"):
        load_results(path)


def test_one_seed_is_shown_as_its_value_with_n_1_and_no_interval(tmp_path):
    rows = [{"task": "genpred-relu", "method": "gmn", "seed": 0, "test": {"kendall_tau": 0.5}}]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(rows))
    (summary,) = summarize(load_results(path))
    table = task_table(summary, ["gmn"])
    assert table.rows[0][1] == "0.500 (n=1)" and table.rows[0][4] == "—"
    agg = summary.methods["gmn"].metrics["kendall_tau"]
    assert agg.count == 1 and math.isnan(agg.std) and math.isnan(agg.ci95)


def test_editing_mse_is_lower_is_better_and_unrun_methods_show_a_dash(tmp_path):
    editing = summarize(load_results(write_results(tmp_path)))[2]
    assert editing.task == "inr-editing" and editing.not_applicable == {"statnn": "needs an equivariant model"}
    table = task_table(editing, ["statnn", "gmn", "scalegmn"])
    assert table.rows[0] == ["statnn"] + ["—"] * (len(table.columns) - 1)
    assert table.rows[2][1] == "0.0300 ± 0.0141"
    assert table.bold == {(2, 1)}


def test_an_ok_run_with_a_nan_metric_is_refused_naming_the_file(tmp_path):
    rows = [{"task": "genpred-tanh", "method": "gmn", "seed": s, "test": {"kendall_tau": v}}
            for s, v in enumerate([0.5, math.nan, 0.7])]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(ValueError, match=re.escape(str(path)) + r".*row 1.test: non-finite kendall_tau"):
        load_results(path)


def test_a_method_with_a_failed_seed_shows_the_failure_and_no_mean(tmp_path):
    rows = [{"task": "genpred-tanh", "method": "gmn", "seed": 0, "test": {"kendall_tau": 0.5}},
            {"task": "genpred-tanh", "method": "gmn", "seed": 1, "test": {}, "status": "failed",
             "reason": "non-finite loss on networks cnn-3"},
            {"task": "genpred-tanh", "method": "statnn", "seed": 0, "test": {"kendall_tau": 0.6}}]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(rows))
    (summary,) = summarize(load_results(path))
    assert list(summary.methods) == ["statnn"]
    assert summary.not_applicable == {"gmn": "failed (seed 1): non-finite loss on networks cnn-3"}
    table = task_table(summary, ["gmn", "statnn"])
    assert table.rows[0] == ["gmn"] + ["—"] * (len(table.columns) - 1)


def test_best_run_is_the_best_seed_in_the_metric_direction(tmp_path):
    tasks = summarize(load_results(write_results(tmp_path)))
    assert tasks[0].methods["scalegmn"].best_run("kendall_tau").seed == 2
    assert tasks[2].methods["scalegmn"].best_run("mse").seed == 0


def test_report_is_self_contained_html_with_every_plot_embedded(tmp_path):
    out = tmp_path / "reports"
    written = build_report(full_inputs(tmp_path), out)
    html = (out / "report.html").read_text()
    pngs = sorted((out / "plots").glob("*.png"))
    names = {p.name for p in pngs}
    for png in pngs:  # every figure also as vector graphics
        assert png.with_suffix(".svg").read_bytes().lstrip().startswith(b"<?xml")
        assert png.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert {"genpred-relu_bars.png", "genpred-relu_predictions.png", "inr-classification_confusion.png",
            "inr-editing_bars.png",
            "inr-editing_edits_scalegmn.png", "zoo_tiny-cnn_score.png", "zoo_tiny-inr_psnr.png"} <= names
    assert written.images == len(pngs)
    assert html.count('src="data:image/png;base64,') == len(pngs)
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<link" not in html and "<script" not in html
    assert '<h2 id="inr-editing-dilation-inr-editing">INR editing (dilation) (<code>inr-editing</code>)</h2>' in html
    md = (out / "report.md").read_text()
    assert {Path(p).name for p in re.findall(r"\]\((plots/[^)]+\.png)\)", md)} == names
    for section in ("Model zoos", "Symmetry checks", "Augmentation self-check", "Parameters", "Packages",
                    "Hardware", "Timings"):
        assert f"## {section}" in md or f"### {section}" in md
    assert "Holds where claimed: **3/3 models**." in md
    assert "| model | kind | permutation | scaling | claims | claims hold |" in md
    assert "| gmn | invariance | 1.00e-07 ✓ | 0.3 (not claimed) | permutation | yes |" in md
    assert "| mlp | invariance | 0.3 (not claimed) | 0.3 (not claimed) | none | yes |" in md
    assert "| scalegmn | invariance | 1.00e-07 ✓ | 1.00e-07 ✓ | permutation, scaling | yes |" in md
    assert "| relu_mlp | 5 | 1.00e-16 ✓ |" in md
    assert md.index("| mlp | invariance |") < md.index("| gmn | invariance |") < md.index("| scalegmn | invariance |")
    assert "dashed: chance" in md and "dashed: unedited images" in md
    assert "| tiny-cnn |" in md and "| relu 4, tanh 4 | 2-2 6, 3-3 2 |" in md
    assert "epochs: 2" in md and "| zoo | 1 |" in md
    assert "No result (not applicable or failed): `statnn` (needs an equivariant model)." in md
    assert "inr-editing_edits_statnn.png" not in names and "inr-classification_predictions.png" not in names


def test_summary_and_plot_data_are_written_for_dvc(tmp_path):
    out = tmp_path / "reports"
    build_report(full_inputs(tmp_path), out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 17
    assert summary["tasks"]["genpred-relu"]["best_method"] == "scalegmn"
    assert summary["tasks"]["genpred-relu"]["best_mean"] == pytest.approx(0.9)
    assert summary["tasks"]["inr-editing"]["best_method"] == "scalegmn"
    assert summary["symmetry"] == {"models": 3, "models_holding_claims": 3, "claimed": 3, "claimed_held": 3}
    gmn = summary["tasks"]["genpred-relu"]["methods"]["gmn"]
    assert gmn["n"] == 3 and gmn["std"] == pytest.approx(0.1) and gmn["ci95"] == pytest.approx(0.248413, rel=1e-4)
    assert json.loads((out / "headline.json").read_text()) == {
        "relu": {"statnn": 0.7, "gmn": 0.6, "scalegmn": 0.9}, "cls": {"gmn": 0.6, "scalegmn": 0.85},
        "edit": {"gmn": 0.04, "scalegmn": 0.03}}
    bars = pd.read_csv(out / "plots/data/bars/genpred-relu.csv")
    assert list(bars["method"]) == ["statnn", "gmn", "scalegmn"]
    assert bars["mean"].tolist() == pytest.approx([0.7, 0.6, 0.9]) and bars["n"].tolist() == [3, 3, 3]
    preds = pd.read_csv(out / "plots/data/predictions/genpred-relu_scalegmn.csv")
    assert list(preds.columns) == ["id", "target", "prediction"] and len(preds) == 20
    hist = pd.read_csv(out / "plots/data/histograms/tiny-cnn_score.csv")
    assert hist["count"].sum() == 8
    overview = pd.read_csv(out / "tables/overview.csv")
    assert set(overview["task"]) == {"genpred-relu", "inr-classification", "inr-editing"}
    confusion = pd.read_csv(out / "plots/data/confusion/inr-classification_scalegmn.csv")
    assert list(confusion.columns) == ["actual", "predicted"] and (confusion["actual"] == confusion["predicted"]).all()
    assert (out / "tables/genpred-relu.md").read_text().startswith("| method | Kendall τ ↑ |")
    tex = (out / "tables/genpred-relu.tex").read_text()
    assert tex.startswith("\\begin{table}") and "\\label{tab:genpred-relu}" in tex and "\\toprule" in tex
    assert "method & Kendall $\\tau$ $\\uparrow$ & R$^2$ $\\uparrow$ & MSE $\\downarrow$" in tex
    assert "\\textbf{0.900 $\\pm$ 0.100}" in tex and tex.rstrip().endswith("\\end{table}")
    assert (out / "tables/symmetry.tex").is_file() and (out / "tables/overview.tex").is_file()
    paired = pd.read_csv(out / "tables/genpred-relu_paired.csv")
    assert set(paired["other"]) == {"statnn", "gmn"} and set(paired["reference"]) == {"scalegmn"}
    assert {p["other"]: p["verdict"] for p in summary["tasks"]["genpred-relu"]["paired"]} == {
        "statnn": "not distinguishable at n=3", "gmn": "better"}


def test_task_tables_list_the_methods_run_on_the_task_and_the_overview_lists_every_method(tmp_path):
    out = tmp_path / "reports"
    build_report(full_inputs(tmp_path), out)
    def first_column(table: str) -> list[str]:
        return [line.split(" | ")[0].lstrip("| ") for line in (out / f"tables/{table}.md").read_text().splitlines()]

    rows = {task: first_column(task)[2:] for task in RESULTS}
    assert rows["inr-classification"][:2] == ["gmn", "scalegmn"] and "statnn" not in rows["inr-classification"]
    assert rows["inr-editing"][:3] == ["statnn", "gmn", "scalegmn"]  # statnn: recorded as not applicable
    assert {"statnn", "gmn", "scalegmn"} <= set(first_column("overview"))
    assert first_column("verdicts")[2:] == ["statnn", "gmn"]  # each task's scalegmn against the others
    verdicts = pd.read_csv(out / "tables/verdicts.csv")
    assert list(verdicts.columns) == ["task", "reference", "other", "metric", "n", "mean_difference", "ci95",
                                      "p_value", "verdict"]
    assert len(verdicts) == 4  # genpred-relu: statnn, gmn; inr-classification: gmn; inr-editing: gmn
    assert not (out / "tables/augmentation.md").exists()  # these results carry no fingerprints: no pair is known


def test_inr_classification_shows_chance_and_the_image_oracle_as_references(tmp_path):
    inputs = full_inputs(tmp_path)
    oracle = tmp_path / "oracle" / "digits-inr.json"
    oracle.parent.mkdir()
    oracle.write_text(json.dumps({"accuracy": 0.984, "train": 30, "test": 10, "resolution": 28, "seconds": 1.0,
                                  "classifier": "svc"}))
    inputs.oracles = [oracle]
    out = tmp_path / "reports"
    build_report(inputs, out)
    summary = json.loads((out / "summary.json").read_text())
    # the saved predictions hold 3 classes
    assert summary["tasks"]["inr-classification"]["references"] == {"chance": pytest.approx(1 / 3, abs=1e-5),
                                                                     "image oracle": 0.984}
    assert summary["tasks"]["genpred-relu"]["references"] == {"chance": 0.0}
    overview = (out / "tables/overview.md").read_text()
    assert re.search(r"\| \(image oracle\) \| — \| 0\.984 \| — \|", overview)
    assert re.search(r"\| \(chance\) \| 0\.000 \| 0\.333 \| — \|", overview)
    assert "| (image oracle) | 0.984 |" in (out / "tables/inr-classification.md").read_text()
    assert "dotted: image oracle 0.984" in (out / "report.md").read_text()


def test_missing_optional_inputs_omit_sections_with_a_note(tmp_path):
    out = tmp_path / "reports"
    inputs = ReportInputs(results=write_results(tmp_path), zoos=[tmp_path / "no-zoo"],
                          symmetry=[tmp_path / "missing.json"])
    build_report(inputs, out)
    md = (out / "report.md").read_text()
    assert f"Not found: `{tmp_path / 'missing.json'}`." in md
    assert "No selfcheck results given (`--selfcheck`); section omitted." in md
    assert f"Zoo `{tmp_path / 'no-zoo'}` not found" in md
    assert "No params file given" in md and "No stage timings given" in md
    assert "17 runs have no run directory to read; their prediction" in md
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == [
        "genpred-relu_bars.png", "inr-classification_bars.png", "inr-editing_bars.png"]
    assert "symmetry" not in json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON"),
    ('{"task": "x"}', "expected a JSON list"),
    ("[]", "holds no runs"),
    ('[{"task": "t", "method": "m", "seed": 0}]', "row 0: missing key 'test'"),
    ('[{"task": "t", "method": "m", "seed": 0, "test": {"mse": "low"}}]', "row 0.test.mse: expected a number"),
    ('[{"task": "t", "method": "m", "seed": 0, "test": {"mse": 1}},'
     ' {"task": "t", "method": "m", "seed": 0, "test": {"mse": 2}}]', "row 1: duplicate run"),
])
def test_malformed_results_file_gives_an_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + re.escape(problem)):
        load_results(path)


def test_cli_writes_the_report_and_reports_bad_input_by_file_name(tmp_path):
    runner = CliRunner()
    results = write_results(tmp_path)
    ok = runner.invoke(app, ["report", "--results", str(results), "--out", str(tmp_path / "out")])
    assert ok.exit_code == 0, ok.output
    assert "17 runs, 3 methods, 3 tasks" in ok.output
    assert (tmp_path / "out" / "report.html").is_file()
    results.write_text("[1]")
    bad = runner.invoke(app, ["report", "--results", str(results), "--out", str(tmp_path / "out2")])
    assert bad.exit_code == 2
    assert "results.json" in bad.output and "expected an object" in bad.output
    assert not (tmp_path / "out2").exists()


def test_record_stage_writes_seconds_that_read_timings_reads_back(tmp_path):
    for name in ("train@genpred-relu-gmn-0", "train@genpred-relu-gmn-1", "zoo"):
        with record_stage(name, tmp_path / f"{name}.json") as clock:
            inside = clock.seconds()
        assert 0 <= inside <= json.loads((tmp_path / f"{name}.json").read_text())["seconds"] + 1e-3
    with pytest.raises(RuntimeError), record_stage("failed", tmp_path / "failed.json"):
        raise RuntimeError
    assert not (tmp_path / "failed.json").exists()
    timings = read_timings(tmp_path)
    assert sorted(timings) == ["train@genpred-relu-gmn-0", "train@genpred-relu-gmn-1", "zoo"]
    assert all(0 <= s < 5 for s in timings.values())
    assert group_stages({"train@a": 1.0, "train-b-seed0": 2.5, "zoo": 3.0}) == {"train": (2, 3.5), "zoo": (1, 3.0)}
    single = tmp_path / "all.json"
    single.write_text('{"zoo": 3.5, "train": 10}')
    assert read_timings(single) == {"zoo": 3.5, "train": 10.0}


def test_a_symmetry_fails_only_where_it_is_claimed_and_does_not_hold(tmp_path):
    assert passed({"model": "gmn", "transform": "scaling", "holds": False, "claimed": False})
    assert passed({"model": "gmn", "transform": "permutation", "holds": True, "claimed": True})
    assert not passed({"model": "gmn", "transform": "scaling", "holds": False, "claimed": True})
    rows = [{"model": "gmn", "transform": "scaling", "max_rel_change": 1e-9, "holds": True, "claimed": True},
            {"model": "gmn", "transform": "scaling", "max_rel_change": 0.5, "holds": False, "claimed": True},
            {"model": "gmn", "transform": "permutation", "max_rel_change": 1e-12, "holds": True, "claimed": True}]
    table = symmetry_table(rows, ["gmn"])
    assert table.columns == ["model", "kind", "scaling", "permutation", "claims", "claims hold"]
    assert table.rows == [["gmn", "—", "0.5 ✗", "1.00e-12 ✓", "scaling, permutation", "NO"]]
    assert table.bold == {(0, 2), (0, 5)}
    old = tmp_path / "gmn.json"
    old.write_text(json.dumps([{"model": "gmn", "transform": "scaling", "max_rel_change": 0.1, "invariant": False}]))
    with pytest.raises(ValueError, match=re.escape(str(old)) + ".*without holds, claimed"):
        symmetry_rows([old])


def test_a_check_fails_when_a_boolean_differs_from_its_expected_value():
    assert passed({"model": "gmn", "invariant": True})
    assert not passed({"model": "gmn", "invariant": False})
    assert passed({"model": "mlp", "invariant": False, "expected": False})
    table = records_table([{"model": "mlp", "invariant": True, "expected": False}])
    assert table.rows == [["mlp", "yes", "NO"]] and table.bold == {(0, 1)}


def test_check_rows_are_read_from_a_list_or_an_object_holding_one(tmp_path):
    path = tmp_path / "checks.json"
    path.write_text('{"results": [{"model": "gmn", "invariant": true}]}')
    assert load_check_rows(path) == [{"model": "gmn", "invariant": True}]
    path.write_text('{"model": "gmn"}')
    with pytest.raises(ValueError, match="checks.json: expected a list of records"):
        load_check_rows(path)


def test_edit_examples_of_different_shapes_are_rejected(tmp_path):
    path = tmp_path / "edit_examples.npz"
    np.savez(path, original=np.zeros((2, 4, 4)), edited=np.zeros((2, 4, 4)), target=np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match="edit_examples.npz: expected three arrays of one shape"):
        read_edit_examples(path)


def test_plots_are_deterministic(tmp_path):
    summary = summarize(load_results(write_results(tmp_path)))[0]
    assert bar_chart(summary, "kendall_tau") == bar_chart(summary, "kendall_tau")


def test_a_new_metanetwork_given_by_import_path_gets_its_row_and_plots(tmp_path):
    rows = [{"task": "genpred-mixed", "method": m, "seed": 0, "test": {"kendall_tau": t}}
            for m, t in (("gmn", 0.5), ("my_pkg.nets:TinyNet", 0.6))]
    results = tmp_path / "results.json"
    results.write_text(json.dumps(rows))
    run = tmp_path / "runs" / "genpred-mixed" / "my_pkg.nets.TinyNet" / "seed0"
    run.mkdir(parents=True)
    rows[1]["run_dir"] = str(run)
    results.write_text(json.dumps(rows))
    pd.DataFrame({"id": ["a", "b"], "true": [0.2, 0.8], "pred": [0.3, 0.7]}).to_csv(run / "predictions.csv",
                                                                                     index=False)
    out = tmp_path / "reports"
    build_report(ReportInputs(results=results), out)
    assert "| my_pkg.nets:TinyNet | **0.600 (n=1)** |" in (out / "report.md").read_text()
    assert (out / "plots/data/predictions/genpred-mixed_my_pkg.nets.TinyNet.csv").is_file()


def test_report_reads_the_outputs_of_real_training_runs(tmp_path):
    from scalegmn.run.benchmark import collect_results, find_run_dirs, run_dir, write_results
    from scalegmn.data import InMemoryGraphDataset
    from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo
    from toy_models import ToyMetanet
    from scalegmn.run.trainer import TrainConfig, result_without_metrics, train

    cnns = list(synthetic_cnn_zoo(24, activations=("relu", "tanh")))
    for net in cnns:
        net.meta["score"] = float(torch.cat(net.biases).mean())
    cnn = InMemoryGraphDataset(cnns, {"train": list(range(16)), "val": list(range(16, 20)),
                                      "test": list(range(20, 24))})
    inr = InMemoryGraphDataset(list(synthetic_inr_zoo(12)),
                               {"train": list(range(6)), "val": list(range(6, 9)), "test": list(range(9, 12))})
    cfg = TrainConfig(epochs=2, batch_size=8, progress=False, model={"hidden": 4},
                      task_options={"image_size": 8, "num_examples": 2})
    runs = tmp_path / "runs"
    for task, data in (("genpred-mixed", cnn), ("inr-classification", inr), ("inr-editing", inr)):
        for seed in (0, 1):
            train(task, ToyMetanet, data, seed=seed, out_dir=run_dir(runs, task, "toy", seed), config=cfg,
                  method="toy")
    run_dir(runs, "inr-editing", "statnn", 0).mkdir(parents=True)
    (run_dir(runs, "inr-editing", "statnn", 0) / "result.json").write_text(
        json.dumps(result_without_metrics("inr-editing", "statnn", 0, "not_applicable", "invariant only")))
    write_results(collect_results(find_run_dirs(runs)), tmp_path / "results.json")
    out = tmp_path / "reports"
    written = build_report(ReportInputs(results=tmp_path / "results.json"), out)
    assert (written.runs, written.tasks, written.methods) == (6, 3, 2)
    names = {p.name for p in (out / "plots").glob("*.png")}
    assert {"genpred-mixed_predictions.png", "inr-classification_confusion.png", "inr-editing_edits_toy.png",
            "genpred-mixed_curves.png", "inr-editing_curves.png"} <= names
    curves = pd.read_csv(out / "plots/data/curves.csv")
    assert list(curves.columns) == ["panel", "task", "method", "seed", "epoch", "value"]
    mixed = curves[curves["panel"] == "genpred-mixed: validation Kendall τ ↑"]
    assert mixed["epoch"].tolist() == [1, 2] and set(mixed["method"]) == {"toy"}
    assert set(curves["panel"]) >= {"genpred-mixed: training loss", "inr-classification: validation accuracy ↑",
                                    "inr-editing: validation MSE ↓"}
    md = (out / "report.md").read_text()
    assert "No result (not applicable or failed): `statnn` (invariant only)." in md
    # a reference value: never bold
    assert "| method | MSE ↓ | loss ↓ | MSE of the unedited | 95 % CI (MSE) | seeds |" in md


def test_check_pivot_keeps_the_worst_value_of_repeated_index_column_rows():
    rows = [{"network": "relu_mlp", "transform": "scaling", "max_rel_error": 1e-9, "passed": True, "trials": 5},
            {"network": "relu_mlp", "transform": "scaling", "max_rel_error": 0.5, "passed": False, "trials": 5},
            {"network": "relu_mlp", "transform": "permutation", "max_rel_error": 1e-12, "passed": True, "trials": 5}]
    table = pivot_check_table(rows, "network", "transform", "max_rel_error")
    assert table.columns == ["network", "trials", "scaling", "permutation"]
    assert table.rows == [["relu_mlp", "5", "0.5 ✗", "1.00e-12 ✓"]] and table.bold == {(0, 2)}


def test_report_reads_titles_from_tasks(tmp_path):
    from scalegmn.report.results import task_info
    from scalegmn.tasks import TASKS

    summaries = summarize(load_results(write_results(tmp_path)))
    for summary in summaries:
        task = TASKS[summary.task]
        assert summary.info.title == task.title and summary.info.main_metric == task.selection_metric
        assert summary.info.kind == task.kind
        for metric in task.metrics:
            assert summary.info.label(metric.name) == metric.display()
            assert summary.info.higher_is_better(metric.name) is metric.higher_is_better
    table = task_table(summaries[0], ["scalegmn"])
    assert table.columns[1:4] == ["Kendall τ ↑", "R² ↑", "MSE ↓"]
    assert summaries[0].info.title in table.caption
    md = build_report(full_inputs(tmp_path), tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text()
    assert all(f"{TASKS[s.task].title} (`{s.task}`)" in text for s in summaries) and md.tasks == len(summaries)
    # a task defined elsewhere: its name as title, directions known from the defined tasks' metrics
    other = task_info("my-task", [])
    assert other.title == "my-task" and other.label("accuracy") == "accuracy ↑" and other.label("psnr") == "psnr"


def test_method_order_names_only_registered_models():
    from scalegmn.registry import MODEL_NAMES
    from scalegmn.report.results import METHOD_ORDER

    assert METHOD_ORDER == MODEL_NAMES
    assert METHOD_ORDER.index("statnn") < METHOD_ORDER.index("gmn") < METHOD_ORDER.index("scalegmn")


def test_a_variant_of_a_known_method_is_listed_right_after_it():
    from scalegmn.report.results import ordered

    preferred = ("statnn", "gmn", "gmn-fast", "scalegmn")
    assert ordered({"scalegmn", "zeta", "gmn-aug", "gmn", "gmn-fast-aug", "statnn", "alpha"}, preferred) == [
        "statnn", "gmn", "gmn-aug", "gmn-fast-aug", "scalegmn", "alpha", "zeta"]


@pytest.mark.skipif(not shutil.which("chromium"), reason="no chromium executable (apt-get install chromium)")
def test_every_figure_of_the_report_loads_in_headless_chromium(tmp_path):
    from scalegmn.report.browser_check import check_html

    out = tmp_path / "reports"
    written = build_report(full_inputs(tmp_path), out)
    seen = check_html(out / "report.html", screenshot=tmp_path / "report.png")
    assert seen.images_total == written.images > 0 and seen.images_loaded == seen.images_total, seen.broken
    assert seen.title == "ScaleGMN benchmark report"
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
