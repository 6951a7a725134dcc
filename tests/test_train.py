"""Training loop: outputs per the contract, learning, schedules, data order, exact resume, and the per-epoch
history through DVCLive."""

import csv
import json
import math
import subprocess
from pathlib import Path

import pytest
import torch

from scalegmn.data import AugmentConfig, InMemoryGraphDataset
from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo
from toy_models import ToyMetanet
from scalegmn.tasks import TASKS, get_task
from scalegmn.run.checkpoint import CHECKPOINT
from scalegmn.run.config import TrainConfig
from scalegmn.run.history import column_name, metric_name, read_history
from scalegmn.run.trainer import largest_network_position, train, warmup_schedule

RESULT_KEYS = {"task", "method", "seed", "test", "val", "best_epoch", "epochs", "wall_seconds", "num_params",
               "train_graphs_per_s", "device"}


def cnn_dataset(n=48):
    """CNNs whose score is a smooth function of the weights (the mean bias), so it can be learned."""
    nets = list(synthetic_cnn_zoo(n, activations=("relu", "tanh")))
    for net in nets:
        net.meta["score"] = float(torch.cat(net.biases).mean())
    a, b = n * 2 // 3, n * 5 // 6
    return InMemoryGraphDataset(nets, {"train": list(range(a)), "val": list(range(a, b)), "test": list(range(b, n))})


def inr_dataset(n=24):
    nets = list(synthetic_inr_zoo(n))
    return InMemoryGraphDataset(nets, {"train": list(range(12)), "val": list(range(12, 18)), "test": list(range(18, n))})


def config(**kw):
    base = dict(epochs=3, batch_size=8, lr=3e-3, progress=False, num_threads=1, model={"hidden": 8, "dropout": 0.1})
    base.update(kw)
    return TrainConfig(**base)


def test_run_writes_result_history_and_predictions_per_contract(tmp_path):
    result = train("genpred-mixed", ToyMetanet, cnn_dataset(), seed=0, out_dir=tmp_path, config=config(),
                   method="toy")
    saved = json.loads((tmp_path / "result.json").read_text())
    assert RESULT_KEYS <= set(saved) and saved == json.loads(json.dumps(result))
    assert saved["task"] == "genpred-mixed" and saved["method"] == "toy" and saved["epochs"] == 3
    assert set(saved["test"]) >= {"kendall_tau", "r2", "mse"} and 1 <= saved["best_epoch"] <= 3
    assert saved["num_params"] == sum(p.numel() for p in ToyMetanet(cnn_dataset()[0], 1, hidden=8).parameters())
    history = read_history(tmp_path)
    assert history["epoch"].tolist() == [1, 2, 3] and {"train_loss", "lr", "val_kendall_tau"} <= set(history)
    assert not (tmp_path / "history.csv").exists()
    with open(tmp_path / "predictions.csv") as fh:
        preds = list(csv.DictReader(fh))
    assert len(preds) == 8 and set(preds[0]) == {"id", "true", "pred"} and preds[0]["id"] == "cnn-40"
    assert (tmp_path / CHECKPOINT).is_file()


@pytest.mark.parametrize("method", ["mlp", "nfn-hnp"])
def test_a_mixed_width_zoo_trains_models_built_from_its_largest_training_network(tmp_path, method):
    """Widths 4, 8 and 16 in one zoo (the smallest first): the flat MLP's input fits every network and NFN takes
    every width, so both train and evaluate on all of them."""
    nets = []
    for width in (4, 8, 16):
        nets += synthetic_cnn_zoo(8, seed=width, channels=(1, width, width), activations=("relu",))
    order = [i for k in range(8) for i in (k, 8 + k, 16 + k)]  # every split mixes the three widths
    dataset = InMemoryGraphDataset([nets[i] for i in order], {"train": range(12), "val": range(12, 18),
                                                             "test": range(18, 24)})
    assert largest_network_position(dataset, dataset.frame(), torch.arange(12)) == 2
    options = {"hidden": 8} if method == "mlp" else {"channels": [4, 2], "pool": "hnp"}
    result = train("genpred-relu", method, dataset, seed=0, out_dir=tmp_path, config=config(epochs=2, model=options))
    largest = nets[16].num_parameters
    assert result["epochs"] == 2 and math.isfinite(result["test"]["mse"])
    if method == "mlp":
        model = torch.load(tmp_path / CHECKPOINT, weights_only=False)["model"]
        assert next(v for k, v in model.items() if k.endswith("mlp.0.weight")).shape[1] == largest


def test_generalization_prediction_learns_a_learnable_score(tmp_path):
    result = train("genpred-mixed", ToyMetanet, cnn_dataset(96), seed=0, out_dir=tmp_path,
                   config=config(epochs=15, lr=1e-2, model={"hidden": 16}))
    assert result["val"]["kendall_tau"] > 0.5 and result["test"]["kendall_tau"] > 0.3


def test_inr_classification_and_editing_runs_write_their_outputs(tmp_path):
    cls = train("inr-classification", ToyMetanet, inr_dataset(), seed=0, out_dir=tmp_path / "cls", config=config())
    assert 0.0 <= cls["test"]["accuracy"] <= 1.0 and (tmp_path / "cls" / "predictions.csv").is_file()
    edit = train("inr-editing", ToyMetanet, inr_dataset(), seed=0, out_dir=tmp_path / "edit",
                 config=config(task_options={"image_size": 8, "num_examples": 4}))
    assert edit["test"]["mse"] > 0 and edit["test"]["identity_mse"] > 0
    with torch.serialization.safe_globals([]):
        import numpy as np

        examples = np.load(tmp_path / "edit" / "edit_examples.npz")
    assert examples["original"].shape == examples["edited"].shape == examples["target"].shape == (4, 8, 8)


def test_editing_without_an_image_size_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="image_size"):
        train("inr-editing", ToyMetanet, inr_dataset(), seed=0, out_dir=tmp_path, config=config())


def test_same_seed_gives_the_same_result_and_another_seed_does_not(tmp_path):
    ds = cnn_dataset()
    a = train("genpred-relu", ToyMetanet, ds, seed=1, out_dir=tmp_path / "a", config=config())
    b = train("genpred-relu", ToyMetanet, ds, seed=1, out_dir=tmp_path / "b", config=config())
    c = train("genpred-relu", ToyMetanet, ds, seed=2, out_dir=tmp_path / "c", config=config())
    assert a["test"] == b["test"] and a["test"] != c["test"]


@pytest.mark.parametrize("augment", [{"copies": 0}, {"copies": 2}], ids=["plain", "two-copies-per-epoch"])
def test_interrupted_run_resumes_to_exactly_the_uninterrupted_result(tmp_path, augment):
    ds = cnn_dataset()
    cfg = config(epochs=4, augment=AugmentConfig(**augment))
    full = train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "full", config=cfg)
    assert train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "cut", config=cfg,
                 stop_after_epoch=2) is None
    assert not (tmp_path / "cut" / "result.json").exists()
    assert torch.load(tmp_path / "cut" / CHECKPOINT, weights_only=False)["epoch"] == 2
    resumed = train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "cut", config=cfg)
    for key in ("test", "val", "best_epoch", "num_params"):
        assert resumed[key] == full[key], key
    a = torch.load(tmp_path / "full" / CHECKPOINT, weights_only=False)
    b = torch.load(tmp_path / "cut" / CHECKPOINT, weights_only=False)
    for part in ("model", "best_state"):
        assert a[part].keys() == b[part].keys()
        assert all(torch.equal(a[part][k], b[part][k]) for k in a[part]), part
    assert a["history"] == b["history"]
    assert (tmp_path / "full" / "predictions.csv").read_text() == (tmp_path / "cut" / "predictions.csv").read_text()


def test_early_stopping_ends_after_patience_epochs_without_a_better_validation_metric(tmp_path):
    ds = cnn_dataset()
    stopped = train("genpred-relu", ToyMetanet, ds, seed=0, out_dir=tmp_path / "stop",
                    config=config(epochs=30, patience=2))
    assert stopped["stopped_epoch"] < 30 and stopped["epochs"] == 30
    assert stopped["stopped_epoch"] - stopped["best_epoch"] == 2
    assert read_history(tmp_path / "stop")["epoch"].tolist() == list(range(1, stopped["stopped_epoch"] + 1))
    short = train("genpred-relu", ToyMetanet, ds, seed=0, out_dir=tmp_path / "short",
                  config=config(epochs=stopped["stopped_epoch"]))
    for key in ("test", "val", "best_epoch"):  # the same epochs as a run of that length: the same result
        assert stopped[key] == short[key], key
    late = train("genpred-relu", ToyMetanet, ds, seed=0, out_dir=tmp_path / "late",
                 config=config(epochs=30, patience=2, min_epochs=stopped["stopped_epoch"] + 3))
    assert late["stopped_epoch"] >= stopped["stopped_epoch"] + 3


def test_an_early_stopped_run_resumes_to_exactly_the_uninterrupted_result(tmp_path):
    ds = cnn_dataset()
    cfg = config(epochs=30, patience=2)
    full = train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "full", config=cfg)
    assert full["stopped_epoch"] > 2
    assert train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "cut", config=cfg,
                 stop_after_epoch=2) is None
    resumed = train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "cut", config=cfg)
    for key in ("test", "val", "best_epoch", "stopped_epoch"):
        assert resumed[key] == full[key], key
    assert read_history(tmp_path / "cut").equals(read_history(tmp_path / "full"))


def dvclive_rows(run_dir):
    """Every DVCLive metric file of a run: {path below dvclive/: [row without the timestamp column, ...]}."""
    out = {}
    for path in sorted((run_dir / "dvclive").rglob("*.tsv")):
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        out[path.relative_to(run_dir / "dvclive").as_posix()] = [
            {k: v for k, v in r.items() if k != "timestamp"} for r in rows]
    return out


def test_training_logs_every_epoch_to_dvclive(tmp_path):
    train("genpred-relu", ToyMetanet, cnn_dataset(), seed=0, out_dir=tmp_path, config=config())
    rows = dvclive_rows(tmp_path)
    metrics = [m.name for m in get_task("genpred-relu").metrics]
    expected = {"plots/metrics/train/loss.tsv", "plots/metrics/lr.tsv", "plots/metrics/val/loss.tsv",
                *(f"plots/metrics/val/{m}.tsv" for m in metrics)}
    assert set(rows) == expected
    for name, file_rows in rows.items():
        assert [int(r["step"]) for r in file_rows] == [1, 2, 3], name
    saved = torch.load(tmp_path / CHECKPOINT, weights_only=False)["history"]
    assert [float(r["loss"]) for r in rows["plots/metrics/train/loss.tsv"]] == [h["train_loss"] for h in saved]
    history = read_history(tmp_path)
    assert history.to_dict("records") == [{c: row[c] for c in history.columns} for row in saved]
    assert set(history.columns) == set(saved[0])


def test_dvclive_summary_holds_test_metrics_and_best_epoch(tmp_path):
    result = train("genpred-mixed", ToyMetanet, cnn_dataset(), seed=0, out_dir=tmp_path, config=config())
    summary = json.loads((tmp_path / "dvclive" / "metrics.json").read_text())
    assert summary["test"] == result["test"] and summary["best_epoch"] == result["best_epoch"]
    assert summary["step"] == 3 and set(summary["val"]) == {"loss", *result["test"]}
    assert not (tmp_path / "dvclive" / "dvc.yaml").exists() and not (tmp_path / "dvclive" / "report.html").exists()


def test_resumed_run_dvclive_history_matches_uninterrupted(tmp_path):
    ds, cfg = cnn_dataset(), config(epochs=5)
    train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "full", config=cfg)
    train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "cut", config=cfg, stop_after_epoch=3)
    # a kill -9 after epoch 3's checkpoint: its DVCLive rows not yet (or half) written
    for path in (tmp_path / "cut" / "dvclive").rglob("*.tsv"):
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:-1]) + (lines[-1][:5] if path.stem == "loss" else ""))
    train("genpred-mixed", ToyMetanet, ds, seed=3, out_dir=tmp_path / "cut", config=cfg)
    full, cut = dvclive_rows(tmp_path / "full"), dvclive_rows(tmp_path / "cut")
    assert full == cut and all(len(rows) == 5 for rows in full.values())
    assert read_history(tmp_path / "full").equals(read_history(tmp_path / "cut"))
    summaries = [json.loads((tmp_path / run / "dvclive" / "metrics.json").read_text()) for run in ("full", "cut")]
    assert summaries[0] == summaries[1]


def test_a_run_started_over_leaves_no_steps_of_the_previous_run(tmp_path):
    ds = cnn_dataset()
    train("genpred-relu", ToyMetanet, ds, seed=0, out_dir=tmp_path, config=config(epochs=4))
    train("genpred-relu", ToyMetanet, ds, seed=0, out_dir=tmp_path, config=config(epochs=2), resume=False)
    assert read_history(tmp_path)["epoch"].tolist() == [1, 2]
    assert all(len(rows) == 2 for rows in dvclive_rows(tmp_path).values())


def test_trainer_leaves_dvc_yaml_untouched(tmp_path, monkeypatch):
    """Run in a Git repository whose dvc.yaml lists stages (and has no .dvc/): DVCLive writes only its folder."""
    (tmp_path / "dvc.yaml").write_bytes(b"stages:\n  train:\n    cmd: python train.py\n")
    before = (tmp_path / "dvc.yaml").read_bytes()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    train("genpred-relu", ToyMetanet, cnn_dataset(), seed=0, out_dir="run", config=config(epochs=2))
    assert (tmp_path / "dvc.yaml").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", "dvc.yaml", "run"]  # no dvc init, no .dvcignore
    assert not list((tmp_path / "run").rglob("dvc.yaml")) and (tmp_path / "run" / "dvclive" / "metrics.json").is_file()


@pytest.mark.parametrize("column, metric", [("train_loss", "train/loss"), ("val_kendall_tau", "val/kendall_tau"),
                                            ("lr", "lr")])
def test_history_columns_and_dvclive_metric_names_map_one_to_one(column, metric):
    assert metric_name(column) == metric and column_name(metric) == column


def test_reading_a_run_without_history_names_the_folder(tmp_path):
    with pytest.raises(ValueError, match="dvclive/plots/metrics: no training history"):
        read_history(tmp_path)


def test_resuming_with_another_configuration_is_refused(tmp_path):
    ds = cnn_dataset()
    train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path, config=config(), stop_after_epoch=1)
    with pytest.raises(ValueError, match=r"checkpoint\.pt.*different run.*lr"):
        train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path, config=config(lr=0.1))
    assert train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path, config=config(lr=0.1),
                 resume=False)["epochs"] == 3


def test_warmup_raises_the_learning_rate_linearly_then_holds():
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = warmup_schedule(opt, 4)
    lrs = []
    for _ in range(6):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_cosine_schedule_anneals_to_zero_at_the_last_step_after_the_warmup():
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = warmup_schedule(opt, 2, total_steps=6, decay="cosine")
    lrs = []
    for _ in range(6):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    cos = [0.5 * (1 + math.cos(k * math.pi / 4)) for k in (1, 2, 3)]
    assert lrs == pytest.approx([0.5, 1.0, *cos, 0.0])
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        warmup_schedule(opt, 2, 6, "linear")
    with pytest.raises(ValueError, match="schedule must be one of constant, cosine, got 'linear'"):
        config(schedule="linear")


def test_cosine_schedule_run_ends_at_zero_learning_rate(tmp_path):
    ds = cnn_dataset()  # 32 training networks: 4 steps an epoch at batch 8, 12 steps in 3 epochs
    train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path, config=config(schedule="cosine", warmup_steps=4))
    lrs = read_history(tmp_path)["lr"].tolist()  # after the last step of each epoch
    assert lrs == pytest.approx([3e-3 * 0.5 * (1 + math.cos(math.pi / 8)), 3e-3 * 0.5 * (1 + math.cos(5 * math.pi / 8)),
                                 0.0])


def test_warmup_steps_count_optimizer_steps_instead_of_epochs(tmp_path):
    ds = cnn_dataset()  # 32 training networks: 4 steps an epoch at batch 8
    by_epochs = train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path / "a", config=config(warmup_epochs=2))
    by_steps = train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path / "b", config=config(warmup_steps=8))
    assert by_steps["test"] == by_epochs["test"]  # 8 steps are the 2 epochs
    assert read_history(tmp_path / "b")["lr"].tolist() == read_history(tmp_path / "a")["lr"].tolist()
    none = train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path / "c", config=config(warmup_steps=0))
    assert read_history(tmp_path / "c")["lr"].tolist() == pytest.approx([3e-3] * 3)
    assert none["test"] != by_steps["test"]
    with pytest.raises(ValueError, match="warmup_steps must be >= 0 or null, got -1"):
        config(warmup_steps=-1)


def test_config_overrides_parse_values_and_reject_unknown_keys():
    cfg = TrainConfig().with_overrides(["lr=0.01", "amp=true", "model.hidden=64", "model.symmetry=scale"])
    assert cfg.lr == 0.01 and cfg.amp is True and cfg.model == {"hidden": 64, "symmetry": "scale"}
    with pytest.raises(ValueError, match="--config: unknown option 'lrr' \\(did you mean 'lr'\\?\\)"):
        TrainConfig().with_overrides(["lrr=1"])
    with pytest.raises(ValueError, match="key=value"):
        TrainConfig().with_overrides(["lr"])


@pytest.mark.parametrize("override, problem", [
    ("epochs=abc", "--config: epochs: expected an integer, got 'abc'"),
    ("epochs=0", "--config: epochs must be >= 1, got 0"),
    ("batch_size=0", "--config: batch_size must be >= 1, got 0"),
    ("amp_dtype=float8", "--config: amp_dtype must be one of bfloat16, float16, got 'float8'"),
    ("lr=-1", "--config: lr must be > 0, got -1.0"),
    ("amp=maybe", "--config: amp: expected true or false, got 'maybe'"),
])
def test_bad_training_options_are_refused_naming_the_key_and_value(override, problem):
    with pytest.raises(ValueError) as err:
        TrainConfig().with_overrides([override])
    assert str(err.value) == problem


def test_yaml_exponents_read_as_strings_still_count_as_numbers():
    assert TrainConfig().with_overrides(["lr=1e-4"]).lr == 1e-4


# ----------------------------------------------------------------------------- benchmark runner
def test_settings_layer_defaults_task_method_and_run():
    from scalegmn.run.benchmark import resolve_config

    settings = {
        "seeds": [0, 1],
        "defaults": {"epochs": 5, "lr": 1e-3, "model": {"hidden": 16, "layers": 2}},
        "tasks": {"inr-editing": {"image_size": 8, "epochs": 7}},
        "methods": {"scalegmn": {"lr": 5e-4, "model": {"hidden": 32}}},
        "runs": {"inr-editing": {"scalegmn": {"model": {"layers": 3}}}},
    }
    cfg = resolve_config(settings, "inr-editing", "scalegmn")
    assert (cfg.epochs, cfg.lr, cfg.task_options["image_size"]) == (7, 5e-4, 8)
    assert cfg.model == {"hidden": 32, "layers": 3}
    other = resolve_config(settings, "genpred-relu", "gmn")
    assert (other.epochs, other.lr, other.model) == (5, 1e-3, {"hidden": 16, "layers": 2})
    with pytest.raises(ValueError, match=r"genpred-relu/gmn\): unknown option 'epoch' \(did you mean 'epochs'\?\)"):
        resolve_config({"defaults": {"epoch": 3}}, "genpred-relu", "gmn")
    with pytest.raises(ValueError, match=r"unknown section 'defualts' \(did you mean 'defaults'\?\)"):
        resolve_config({"defualts": {"epochs": 3}}, "genpred-relu", "gmn")
    with pytest.raises(ValueError, match=r"tasks: unknown task 'genpred-rel' \(did you mean 'genpred-relu'\?\)"):
        resolve_config({"tasks": {"genpred-rel": {"epochs": 3}}}, "genpred-relu", "gmn")
    with pytest.raises(ValueError, match=r"params.yaml: train \(genpred-relu/gmn\): lr: expected a number, got 'fast'"):
        resolve_config({"defaults": {"lr": "fast"}}, "genpred-relu", "gmn", "params.yaml: train")


def test_results_are_collected_into_a_tidy_table_and_a_summary(tmp_path):
    from scalegmn.run.benchmark import collect_results, find_run_dirs, run_dir, summary_table, write_results
    from scalegmn.run.trainer import result_without_metrics

    ds = cnn_dataset()
    for seed in (0, 1):
        train("genpred-relu", ToyMetanet, ds, seed=seed, out_dir=run_dir(tmp_path / "runs", "genpred-relu", "toy", seed),
              config=config(epochs=2), method="toy")
    na = result_without_metrics("inr-editing", "statnn", 0, "not_applicable", "invariant only")
    (run_dir(tmp_path / "runs", "inr-editing", "statnn", 0)).mkdir(parents=True)
    (run_dir(tmp_path / "runs", "inr-editing", "statnn", 0) / "result.json").write_text(json.dumps(na))
    results = collect_results(find_run_dirs(tmp_path / "runs"))
    assert [(r["task"], r["method"], r["seed"]) for r in results] == [
        ("genpred-relu", "toy", 0), ("genpred-relu", "toy", 1), ("inr-editing", "statnn", 0)]
    assert results[0]["run_dir"] == str(run_dir(tmp_path / "runs", "genpred-relu", "toy", 0))
    frame = write_results(results, tmp_path / "results.json", tmp_path / "results.csv")
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(results))
    assert list(frame.columns[:4]) == ["task", "method", "seed", "status"]
    assert {"test_kendall_tau", "val_kendall_tau", "wall_seconds", "num_params"} <= set(frame.columns)
    assert (tmp_path / "results.csv").read_text().startswith("task,method,seed,status")
    table = summary_table(frame)
    tau = frame.loc[frame["method"] == "toy", "test_kendall_tau"]
    assert table.loc["toy", "genpred-relu"] == f"{tau.mean():.4f} ± {tau.std(ddof=1):.4f}"
    assert table.loc["statnn", "inr-editing"] == "n/a"


# ----------------------------------------------------------------------------- command line
def test_train_command_reports_bad_input_clearly(tmp_path):
    from typer.testing import CliRunner

    from scalegmn.cli import app

    res = CliRunner().invoke(app, ["train", "--task", "genpred", "--model", "gmn", "--dataset", str(tmp_path),
                                   "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "unknown task 'genpred'" in res.output
    res = CliRunner().invoke(app, ["train", "--task", "genpred-relu", "--model", "gmn", "--dataset", str(tmp_path),
                                   "--out", str(tmp_path / "run"), "--config", "epochs"])
    assert res.exit_code == 2 and "key=value" in res.output


def test_train_command_runs_a_settings_method_naming_an_import_path_on_a_stored_dataset(tmp_path):
    from typer.testing import CliRunner

    from scalegmn.cli import app
    from scalegmn.data import write_dataset
    from scalegmn.data.synthetic import synthetic_cnn_zoo

    nets = list(synthetic_cnn_zoo(24))
    for net in nets:
        net.meta["score"] = float(torch.cat(net.biases).mean())
    write_dataset(tmp_path / "ds", zip(nets, ["train"] * 16 + ["val"] * 4 + ["test"] * 4), source={}, params={})
    (tmp_path / "settings.yaml").write_text(
        "train:\n  seeds: [0]\n  defaults: {epochs: 2, batch_size: 8, num_threads: 1}\n"
        "  methods: {toy: {metanetwork: 'toy_models:ToyMetanet', model: {hidden: 4}}}\n")
    res = CliRunner().invoke(app, [
        "train", "--task", "genpred-tanh", "--model", "toy", "--seed", "1",
        "--dataset", str(tmp_path / "ds"), "--out", str(tmp_path / "run"), "--settings", str(tmp_path / "settings.yaml"),
        "--section", "train", "--config", "lr=0.01", "--no-progress"])
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["seed"] == 1 and result["epochs"] == 2 and result["config"]["lr"] == 0.01
    assert result["config"]["model"] == {"hidden": 4} and result["split_sizes"] == {"train": 8, "val": 2, "test": 2}
    assert "train genpred-tanh/toy/seed1: 2 epochs" in res.output


def test_editing_with_an_invariant_only_model_is_recorded_as_not_applicable(tmp_path):
    from scalegmn.run.benchmark import Benchmark

    bench = Benchmark(["inr-editing"], ["statnn"], [0], {"inr": inr_dataset()},
                      {"defaults": {"image_size": 8, "progress": False}})
    [result] = bench.run(tmp_path)
    assert result["status"] == "not_applicable" and "invariant" in result["reason"]
    folder = tmp_path / "inr-editing" / "statnn" / "seed0"
    assert json.loads((folder / "result.json").read_text()) | {"run_dir": str(folder)} == result


def test_benchmark_command_writes_results_json_csv_and_a_summary(tmp_path):
    from typer.testing import CliRunner

    from scalegmn.cli import app
    from scalegmn.data import write_dataset
    from scalegmn.data.synthetic import synthetic_cnn_zoo

    nets = list(synthetic_cnn_zoo(24))
    for net in nets:
        net.meta["score"] = float(torch.cat(net.biases).mean())
    write_dataset(tmp_path / "ds", zip(nets, ["train"] * 16 + ["val"] * 4 + ["test"] * 4), source={}, params={})
    res = CliRunner().invoke(app, [
        "benchmark", "--tasks", "genpred-mixed", "--methods", "toy_models:ToyMetanet", "--seeds", "0,1",
        "--dataset", f"cnn={tmp_path / 'ds'}", "--out", str(tmp_path / "runs"), "--results",
        str(tmp_path / "results.json"), "--config", "epochs=1", "--config", "num_threads=1", "--no-progress"])
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["seed"] for r in results] == [0, 1] and (tmp_path / "results.csv").is_file()
    assert (tmp_path / "runs" / "genpred-mixed" / "toy_models.ToyMetanet" / "seed1" / "result.json").is_file()
    assert "benchmark: 2 runs (2 trained, 0 not applicable, 0 failed)" in res.output


# ----------------------------------------------------------------------------- task facts in training
PLUGIN = """
from toy_models import ToyMetanet


class Undeclared(ToyMetanet):
    supports_equivariant = None  # as a plug-in that never heard of the attribute


class AlwaysEquivariant(ToyMetanet):
    supports_equivariant = None
    equivariant = True
"""


def test_editing_refuses_invariant_models_by_class_attribute(tmp_path, monkeypatch):
    from scalegmn.run.trainer import build_metanetwork
    from scalegmn.tasks import NotApplicableError

    (tmp_path / "edit_plugins.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    ds = inr_dataset()
    cfg = config(epochs=1, task_options={"image_size": 8, "num_examples": 1})
    for model in ("edit_plugins:Undeclared", "statnn", "mlp"):
        result = train("inr-editing", model, ds, seed=0, out_dir=tmp_path / model.replace(":", "-"), config=cfg)
        assert result["status"] == "not_applicable" and "invariant only" in result["reason"], model
    ok = train("inr-editing", ToyMetanet, ds, seed=0, out_dir=tmp_path / "toy", config=cfg)
    assert ok["status"] == "ok"
    example = ds[0]
    assert build_metanetwork("edit_plugins:AlwaysEquivariant", example, 1, True, {"hidden": 4}).equivariant

    def factory(example, out_dim, **options):  # a factory function is asked of the module it builds
        return ToyMetanet(example, out_dim, hidden=4)

    with pytest.raises(NotApplicableError, match="invariant only"):
        build_metanetwork(factory, example, 1, True, {})
    assert build_metanetwork(factory, example, 1, False, {}).equivariant is False


def test_task_options_live_outside_the_generic_options_and_in_the_fingerprint(tmp_path):
    from dataclasses import fields

    from scalegmn.config import ConfigError
    from scalegmn.tasks import TASK_OPTION_KEYS
    from scalegmn.run.trainer import run_fingerprint

    assert not {f.name for f in fields(TrainConfig)} & set(TASK_OPTION_KEYS)
    cfg = TrainConfig().with_overrides(["image_size=8", "normalize_target=false", "lr=0.01"])
    assert cfg.task_options == {"image_size": 8, "normalize_target": False} and cfg.lr == 0.01
    assert TrainConfig.from_dict({"edit_alpha": 0.5, "epochs": 2}).task_options == {"edit_alpha": 0.5}
    with pytest.raises(ConfigError, match=r"unknown option 'image_sze' \(did you mean 'image_size'\?\)"):
        TrainConfig.from_dict({"image_sze": 8})
    with pytest.raises(ConfigError, match=r"unknown task option 'image_sze' \(did you mean 'image_size'\?\)"):
        TrainConfig().with_overrides(["task_options={image_sze: 8}"])
    with pytest.raises(ConfigError, match="num_examples must be >= 0"):
        TrainConfig().with_overrides(["num_examples=-1"])
    ds = inr_dataset()
    fp = run_fingerprint("inr-editing", "gmn", 0, ds, cfg)
    assert (fp["image_size"], fp["edit_alpha"], fp["learn_alpha"], fp["num_examples"]) == (8, 0.0, True, 16)
    assert "normalize_target" not in fp and "task_options" not in fp
    assert run_fingerprint("inr-editing", "gmn", 0, ds, cfg.with_overrides(["image_size=16"])) != fp
    genpred = run_fingerprint("genpred-relu", "gmn", 0, cnn_dataset(), cfg)
    assert genpred["normalize_target"] is False and "image_size" not in genpred
    assert cfg.for_task(get_task("inr-editing")).task_options == {"image_size": 8, "edit_alpha": 0.0,
                                                                   "learn_alpha": True, "num_examples": 16}


def test_params_yaml_train_settings_resolve_for_every_task_and_method():
    import yaml

    from scalegmn.run.benchmark import resolve_config
    from scalegmn.registry import MODEL_NAMES

    matrix = ("workers", "genpred", "inr_classification", "inr_editing")  # read by dvc.yaml and the pool
    params = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())["train"]
    settings = {k: v for k, v in params.items() if k not in matrix}
    for task in TASKS:
        for method in MODEL_NAMES:
            options = get_task(task).options(resolve_config(settings, task, method).task_options)
            if task == "inr-editing":
                assert (options.image_size, options.num_examples) == (8, 16)
            if task.startswith("genpred"):
                assert options.normalize_target is True


def test_symmetry_copies_change_the_training_data_but_not_the_evaluation_networks(tmp_path):
    ds = cnn_dataset()
    plain = train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path / "plain", config=config())
    copies = train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path / "copies",
                   config=config(augment=AugmentConfig(copies=1)))
    assert plain["split_sizes"] == copies["split_sizes"]  # counted in networks, copies are per epoch
    assert copies["fingerprint"]["augment"]["copies"] == 1 and plain["test"] != copies["test"]
    again = train("genpred-mixed", ToyMetanet, ds, seed=0, out_dir=tmp_path / "again", resume=False,
                  config=config(augment=AugmentConfig(copies=1)))
    assert again["test"] == copies["test"]  # the same seed draws the same copies


class FittedToy(ToyMetanet):
    """ToyMetanet that records the networks its ``fit_inputs`` is given."""

    def fit_inputs(self, batches):
        self.fitted = [b for b in batches]


def test_a_model_fits_its_input_statistics_once_on_the_training_networks_as_they_are(tmp_path):
    ds = cnn_dataset()
    models = []

    def factory(**kw):
        models.append(FittedToy(**kw))
        return models[-1]

    train("genpred-mixed", factory, ds, seed=0, out_dir=tmp_path, method="fitted",
          config=config(epochs=1, eval_batch_size=5, augment=AugmentConfig(copies=1, keep_originals=False)))
    (model,) = models
    train_rows = ds.get_idx_split()["train"].tolist()
    assert [b.num_graphs for b in model.fitted] == [5] * (len(train_rows) // 5) + [len(train_rows) % 5]
    seen = torch.cat([b.edge_attr for b in model.fitted])  # the originals in order, not random symmetry copies
    assert torch.equal(seen, torch.cat([ds[i].edge_attr for i in train_rows]))
