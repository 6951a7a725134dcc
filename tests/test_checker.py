"""The symmetry checker must be able to fail: GMN is not scale invariant, the flat MLP not permutation invariant."""

import json

import pytest
import torch
from typer.testing import CliRunner

from scalegmn.diagnostics.symmetry_checker import check_symmetry, example_graphs
from scalegmn.cli import app
from scalegmn.registry import build_model


pytestmark = pytest.mark.usefixtures("seeded_single_thread")


def _rows(name, kind="cnn", **config):
    gen = torch.Generator().manual_seed(1)
    graphs = example_graphs(kind, ["relu", "tanh"], 4, gen)
    model = build_model(name, graphs[0], 2, **config)
    return {r.transform: r for r in check_symmetry(model, graphs, gen, 2, name=name)}


def test_checker_reports_gmn_permutation_invariant_but_not_scale_invariant_as_claimed():
    rows = _rows("gmn", hidden=16, layers=2)
    assert rows["permutation"].holds and rows["permutation"].claimed
    assert not rows["scaling"].holds and rows["scaling"].max_rel_change > 1e-3
    assert not rows["permutation+scaling"].holds
    assert not rows["scaling"].claimed and not rows["permutation+scaling"].claimed
    assert all(r.passed for r in rows.values())


def test_checker_reports_the_mlp_baseline_not_permutation_invariant_and_claiming_nothing():
    rows = _rows("mlp", hidden=16)
    assert not rows["permutation"].holds and rows["permutation"].max_rel_change > 1e-3
    assert not any(r.claimed for r in rows.values()) and all(r.passed for r in rows.values())


@pytest.mark.parametrize("name", ["statnn", "nfn-np"])
def test_checker_holds_permutation_baselines_to_their_claim_only(name):
    rows = _rows(name, kind="mlp", hidden=8)
    assert rows["permutation"].claimed and rows["permutation"].holds
    assert not rows["scaling"].claimed


def test_a_claimed_symmetry_that_does_not_hold_fails():
    gen = torch.Generator().manual_seed(1)
    graphs = example_graphs("cnn", ["relu"], 2, gen)
    model = build_model("statnn", graphs[0], 2, hidden=8)
    model.symmetries = ("permutation", "scaling")  # a false claim
    rows = {r.transform: r for r in check_symmetry(model, graphs, gen, 1, name="statnn")}
    assert rows["scaling"].claimed and not rows["scaling"].holds and not rows["scaling"].passed


@pytest.mark.parametrize("name", ["scalegmn", "scalegmn-b"])
def test_checker_confirms_scalegmn_invariance_and_equivariance(name):
    for equivariant in (False, True):
        rows = _rows(name, hidden=16, layers=2, equivariant=equivariant)
        assert all(r.holds and r.claimed for r in rows.values())
        assert {r.kind for r in rows.values()} == {"equivariance" if equivariant else "invariance"}


def test_checker_leaves_the_callers_model_unchanged():
    gen = torch.Generator().manual_seed(2)
    graphs = example_graphs("mlp", ["relu"], 2, gen)
    model = build_model("scalegmn", graphs[0], 1, hidden=8, layers=1)
    check_symmetry(model, graphs, gen, 1)
    assert next(model.parameters()).dtype == torch.float32 and model.training


def test_check_symmetry_command_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "sym.json"
    result = CliRunner().invoke(app, ["check-symmetry", "gmn", "--out", str(out), "--trials", "1",
                                      "--networks", "2", "-c", "hidden=8", "-c", "layers=1"])
    assert result.exit_code == 0, result.output
    assert "permutation" in result.output and "check-symmetry: gmn: 1/1 claimed symmetries hold" in result.output
    rows = json.loads(out.read_text())
    assert [r["transform"] for r in rows] == ["permutation", "scaling", "permutation+scaling"]
    assert set(rows[0]) == {"model", "transform", "max_rel_change", "holds", "claimed", "kind"}


def test_check_symmetry_command_rejects_unknown_models():
    result = CliRunner().invoke(app, ["check-symmetry", "transformer"])
    assert result.exit_code != 0 and "unknown model" in result.output


def test_bench_train_command_reports_graphs_per_second(tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench-train", "--model", "scalegmn,scalegmn-fast", "--arch", "digits-cnn",
                                      "--arch", "digits-inr", "--batch-size", "4", "--steps", "1", "--warmup", "1", "--repeats", "2",
                                      "--threads", "1", "-c", "hidden=8", "-c", "layers=1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "graphs/s" in result.output and "vs -fast" in result.output
    rows = json.loads(out.read_text())
    assert [(r["model"], r["architecture"]) for r in rows] == [
        ("scalegmn", "digits-cnn"), ("scalegmn-fast", "digits-cnn"), ("scalegmn", "digits-inr"),
        ("scalegmn-fast", "digits-inr")]
    assert all(r["best"] > 0 and len(r["graphs_per_s"]) == 2 for r in rows)
    assert rows[2]["nodes_per_graph"] == 2 + 32 + 32 + 1 and rows[2]["edges_per_graph"] == 2 * 32 + 32 * 32 + 32
