"""Training never reports non-finite numbers as a result, never reuses a checkpoint or result of another
dataset or configuration, and one run directory is trained by one process at a time."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from scalegmn.run.benchmark import Benchmark, run_dir
from scalegmn.cli import app
from scalegmn.data import InMemoryGraphDataset, ShardConfig, open_dataset, write_dataset
from scalegmn.data.synthetic import synthetic_cnn_zoo
from scalegmn.run.history import read_history
from scalegmn.run.trainer import LOCK_FILE, NonFiniteError, TrainConfig, train

runner = CliRunner()
SPLITS = ("train", "train", "val", "test")


def nets(n=16, seed=0, huge=None):
    out = list(synthetic_cnn_zoo(n, seed=seed, activations=("relu",)))
    for i, net in enumerate(out):
        net.meta["score"] = 0.1 + 0.8 * i / n
    if huge is not None:
        out[huge].weights[0].mul_(1e30)
    return out


def stored(path, networks, **config):
    write_dataset(path, ((n, SPLITS[i % 4]) for i, n in enumerate(networks)), source={"path": "zoo"},
                  params={}, config=ShardConfig(**config))
    return path


def config(**kw):
    return TrainConfig(**{"epochs": 2, "batch_size": 4, "progress": False, "num_threads": 1,
                          "model": {"hidden": 8}, **kw})


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())


def test_a_network_of_1e30_weights_fails_the_run_naming_it(tmp_path):
    data = nets(huge=4)
    ds = InMemoryGraphDataset(data, {s: [i for i in range(16) if SPLITS[i % 4] == s] for s in ("train", "val", "test")})
    with pytest.raises(NonFiniteError, match=r"non-finite (loss|gradient).*cnn-4"):
        train("genpred-relu", "mlp", ds, seed=0, out_dir=tmp_path, config=config())
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["status"] == "failed" and "cnn-4" in result["reason"] and result["test"] == {}


def test_train_command_exits_non_zero_on_non_finite_training(tmp_path):
    stored(tmp_path / "ds", nets(huge=4), bad_weights="keep")
    code, out = invoke("train", "--task", "genpred-relu", "--model", "mlp", "--dataset", tmp_path / "ds",
                       "--out", tmp_path / "run", "--config", "epochs=1", "--no-progress")
    assert code == 2 and "failed" in out and "cnn-4" in out
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "failed"


def test_benchmark_records_the_failed_run_shows_it_and_exits_non_zero(tmp_path):
    stored(tmp_path / "ds", nets(huge=4), bad_weights="keep")
    code, out = invoke("benchmark", "--tasks", "genpred-relu", "--methods", "mlp", "--seeds", "0",
                       "--dataset", f"cnn={tmp_path / 'ds'}", "--out", tmp_path / "runs",
                       "--results", tmp_path / "results.json", "--config", "epochs=1", "--no-progress")
    assert code == 1 and "failed (1 of 1 seeds)" in out
    (record,) = json.loads((tmp_path / "results.json").read_text())
    assert record["status"] == "failed"


def test_shard_refuses_non_finite_or_absurd_weights_naming_the_network(tmp_path):
    with pytest.raises(ValueError, match=r"zoo: network 4 \(id 'cnn-4'\) has a weight of magnitude .*e\+29 \(above max_abs_weight 1e\+06\)"):
        stored(tmp_path / "ds", nets(huge=4))
    assert not (tmp_path / "ds").exists()
    bad = nets()
    bad[2].biases[0][0] = float("nan")
    with pytest.raises(ValueError, match=r"network 2 \(id 'cnn-2'\) has non-finite weights"):
        stored(tmp_path / "ds", bad)


def test_shard_can_drop_bad_networks_with_a_warning_and_lists_them(tmp_path):
    with pytest.warns(UserWarning, match="cnn-4.*dropped"):
        stored(tmp_path / "ds", nets(huge=4), bad_weights="drop")
    ds = open_dataset(tmp_path / "ds")
    assert len(ds) == 15 and "cnn-4" not in set(ds.frame()["id"])
    assert ds.metadata["bad_weights"] == {"policy": "drop", "max_abs_weight": 1e6, "ids": ["cnn-4"]}


def test_resuming_into_a_run_of_another_dataset_of_equal_size_is_refused(tmp_path):
    a, b = stored(tmp_path / "a", nets(seed=0)), stored(tmp_path / "b", nets(seed=1))
    assert len(open_dataset(a)) == len(open_dataset(b))
    train("genpred-relu", "mlp", a, seed=0, out_dir=tmp_path / "run", config=config(), stop_after_epoch=1)
    with pytest.raises(ValueError, match="checkpoint of a different run .*dataset"):
        train("genpred-relu", "mlp", b, seed=0, out_dir=tmp_path / "run", config=config())


def test_benchmark_reuses_a_result_only_for_the_same_configuration(tmp_path):
    stored(tmp_path / "ds", nets())
    bench = Benchmark(["genpred-relu"], ["mlp"], [0], {"cnn": tmp_path / "ds"},
                      {"defaults": {"progress": False, "num_threads": 1, "model": {"hidden": 8}}})
    first = bench.run(tmp_path / "runs", overrides=["epochs=1"])
    assert bench.run(tmp_path / "runs", overrides=["epochs=1"]) == first
    with pytest.raises(ValueError, match=r"another configuration \(differs in epochs 1 → 3\).*--no-resume"):
        bench.run(tmp_path / "runs", overrides=["epochs=3"])
    (rerun,) = bench.run(tmp_path / "runs", resume=False, overrides=["epochs=3"])
    assert rerun["epochs"] == 3
    saved = json.loads((run_dir(tmp_path / "runs", "genpred-relu", "mlp", 0) / "result.json").read_text())
    assert saved["epochs"] == 3


def test_runs_trained_in_parallel_processes_equal_runs_trained_one_after_another(tmp_path):
    stored(tmp_path / "ds", nets())
    bench = Benchmark(["genpred-relu"], ["mlp", "statnn"], [0, 1], {"cnn": tmp_path / "ds"},
                      {"defaults": {"progress": False, "num_threads": 1, "model": {"hidden": 8}}})
    serial = bench.run(tmp_path / "serial", overrides=["epochs=2"])
    parallel = bench.run(tmp_path / "parallel", overrides=["epochs=2"], workers=3)
    assert [(r["method"], r["seed"]) for r in parallel] == [("mlp", 0), ("mlp", 1), ("statnn", 0), ("statnn", 1)]
    for one, other in zip(serial, parallel):
        assert (one["test"], one["val"], one["fingerprint"]) == (other["test"], other["val"], other["fingerprint"])
        assert other["run_dir"] == str(run_dir(tmp_path / "parallel", one["task"], one["method"], one["seed"]))
        predictions = [(Path(r["run_dir"]) / "predictions.csv").read_text() for r in (one, other)]
        assert predictions[0] == predictions[1]
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        bench.run(tmp_path / "none", workers=0)


HOLDER = textwrap.dedent("""
    import sys, time
    from scalegmn.io import exclusive_lock
    with exclusive_lock(sys.argv[1], "run directory"):
        print("holding", flush=True)
        time.sleep(60)
""")


def test_a_second_run_into_a_busy_run_directory_fails_naming_the_holder(tmp_path):
    stored(tmp_path / "ds", nets())
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "run" / LOCK_FILE)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(ValueError, match=rf"in use by another process \(pid {holder.pid} on "):
            train("genpred-relu", "mlp", tmp_path / "ds", seed=0, out_dir=tmp_path / "run", config=config())
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "run" / "result.json").exists()
    train("genpred-relu", "mlp", tmp_path / "ds", seed=0, out_dir=tmp_path / "run", config=config())
    assert (tmp_path / "run" / "result.json").is_file() and not (tmp_path / "run" / LOCK_FILE).exists()


def test_train_into_a_file_is_a_clear_error(tmp_path):
    stored(tmp_path / "ds", nets())
    (tmp_path / "run").write_text("mine")
    code, out = invoke("train", "--task", "genpred-relu", "--model", "mlp", "--dataset", tmp_path / "ds",
                       "--out", tmp_path / "run")
    assert code == 2 and "exists and is not a folder" in out
    assert (tmp_path / "run").read_text() == "mine"


def test_train_verifies_the_dataset_by_default_and_names_the_shard(tmp_path):
    stored(tmp_path / "ds", nets())
    shard = tmp_path / "ds" / "shard-00000.arrow"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    code, out = invoke("train", "--task", "genpred-relu", "--model", "mlp", "--dataset", tmp_path / "ds",
                       "--out", tmp_path / "run")
    assert code == 2 and "shard-00000.arrow: SHA-256 does not match" in out


def test_kendall_tau_of_a_constant_model_is_reported_as_zero_not_nan(tmp_path):
    class Constant(torch.nn.Module):
        def __init__(self, example, out_dim, **_):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.zeros(out_dim))

        def forward(self, batch):
            return self.bias.expand(batch.num_graphs, -1)

    stored(tmp_path / "ds", nets())
    result = train("genpred-relu", Constant, tmp_path / "ds", seed=0, out_dir=tmp_path / "run",
                   config=config(model={}))
    assert result["status"] == "ok" and result["test"]["kendall_tau"] == 0.0


def test_train_verify_option_catches_a_flip_the_cheap_default_cannot_see(tmp_path):
    stored(tmp_path / "ds", nets())
    open_dataset(tmp_path / "ds")  # verified and recorded
    shard = tmp_path / "ds" / "shard-00000.arrow"
    st = shard.stat()
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns))
    args = ["train", "--task", "genpred-relu", "--model", "mlp", "--dataset", tmp_path / "ds", "--no-progress",
            "--config", "epochs=1", "--config", "model.hidden=8"]
    code, out = invoke(*args, "--out", tmp_path / "run-verify", "--verify")
    assert code == 2 and "shard-00000.arrow: SHA-256 does not match" in out
    code, out = invoke(*args, "--out", tmp_path / "run-no-verify", "--no-verify")
    assert code == 0, out


@pytest.mark.parametrize("path, problem", [
    ("fractions:Fraction", "model 'fractions:Fraction' cannot be built as fractions:Fraction(example=..., out_dim=..."),
    ("collections:OrderedDict", "model 'collections:OrderedDict' built a OrderedDict, not a torch.nn.Module"),
    ("collections:NoSuchClass", "module 'collections' has no class 'NoSuchClass'"),
])
def test_an_import_path_that_is_not_a_metanetwork_is_a_clear_error(tmp_path, path, problem):
    stored(tmp_path / "ds", nets())
    code, out = invoke("train", "--task", "genpred-relu", "--model", path, "--dataset", tmp_path / "ds",
                       "--out", tmp_path / "run", "--no-progress")
    assert code == 2 and problem in out


def test_benchmark_checks_every_finished_result_before_training_anything(tmp_path):
    stored(tmp_path / "ds", nets())
    bench = Benchmark(["genpred-relu"], ["mlp", "statnn"], [0], {"cnn": tmp_path / "ds"},
                      {"defaults": {"progress": False, "num_threads": 1, "model": {"hidden": 8}}})
    old = run_dir(tmp_path / "runs", "genpred-relu", "statnn", 0)
    old.mkdir(parents=True)
    (old / "result.json").write_text(json.dumps({"task": "genpred-relu", "method": "statnn", "seed": 0,
                                                 "status": "ok", "test": {"kendall_tau": 0.5}}))
    with pytest.raises(ValueError, match="statnn/seed0: was written without a fingerprint .*--no-resume"):
        bench.run(tmp_path / "runs", overrides=["epochs=1"])
    assert not run_dir(tmp_path / "runs", "genpred-relu", "mlp", 0).exists()  # nothing trained first


def test_a_run_started_over_removes_the_previous_result_first(tmp_path):
    stored(tmp_path / "ds", nets())
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "result.json").write_text('{"status": "ok"}')
    with pytest.raises(ValueError):
        train("genpred-relu", "mlp", tmp_path / "ds", seed=0, out_dir=tmp_path / "run", resume=False,
              config=config(model={"hidden": 8, "no_such_option": 1}))
    assert not (tmp_path / "run" / "result.json").exists()


def test_undefined_metrics_never_reach_the_dvclive_summary(tmp_path):
    constant = nets()
    for net in constant:
        net.meta["score"] = 0.5  # Kendall τ of constant targets is undefined
    stored(tmp_path / "ds", constant)
    with pytest.raises(NonFiniteError, match="undefined|non-finite"):
        train("genpred-relu", "mlp", tmp_path / "ds", seed=0, out_dir=tmp_path / "run", config=config())
    summary = json.loads((tmp_path / "run" / "dvclive" / "metrics.json").read_text())
    assert "test" not in summary and "best_epoch" not in summary
    assert set(summary["val"]) == {"loss", "mse"}  # τ and R² are nan every epoch: in the history, not the summary
    assert read_history(tmp_path / "run")["val_kendall_tau"].isna().all()
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "failed"


def test_dvclive_ignores_dvc_pipeline_resume_and_studio_settings(tmp_path, monkeypatch):
    """As under `dvc repro` with a Studio token: nothing is posted (a local "Studio" sees no connection),
    no earlier steps are resumed, nothing is written outside the run directory."""
    stored(tmp_path / "ds", nets())
    train("genpred-relu", "mlp", tmp_path / "ds", seed=0, out_dir=tmp_path / "run", config=config(epochs=3))
    with socket.create_server(("127.0.0.1", 0)) as studio:
        studio.settimeout(0.5)
        for key, value in {"DVC_ROOT": str(tmp_path), "DVC_EXP_NAME": "exp", "DVCLIVE_RESUME": "true",
                           "DVC_STUDIO_TOKEN": "token", "DVC_STUDIO_REPO_URL": "repo",
                           "DVC_STUDIO_URL": f"http://127.0.0.1:{studio.getsockname()[1]}"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)
        train("genpred-relu", "mlp", tmp_path / "ds", seed=0, out_dir=tmp_path / "run", config=config(), resume=False)
        with pytest.raises(TimeoutError):
            studio.accept()
    summary = json.loads((tmp_path / "run" / "dvclive" / "metrics.json").read_text())
    assert summary["step"] == 2 and summary["best_epoch"] in (1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "run"]
