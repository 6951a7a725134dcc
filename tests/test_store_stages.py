"""The shard stage end to end through the CLI and the pipeline: counts, no split leakage, exact rows."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from scalegmn.cli import app
from scalegmn.data import open_dataset
from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo
from scalegmn.core.symmetry import random_symmetry
from scalegmn.zoo import save_zoo

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def zoo(tmp_path):
    nets = synthetic_cnn_zoo(12, channels=(1, 4, 4))
    save_zoo(tmp_path / "zoo", nets, {"name": "digits-cnn", "kind": "cnn"}, part_size=5)
    return tmp_path / "zoo"


def zoo_with_copies(tmp_path):
    """12 CNNs and 2 stored symmetry copies of each (ids ``<id>~aug<k>``, as older zoos hold them)."""
    nets = list(synthetic_cnn_zoo(12, channels=(1, 4, 4)))
    copies = []
    for net in nets:
        for k in range(2):
            copy = random_symmetry(net, torch.Generator().manual_seed(k))
            copy.meta.update(id=f"{net.meta['id']}~aug{k}", source_id=net.meta["id"], aug_seed=k)
            copies.append(copy)
    save_zoo(tmp_path / "aug", nets + copies, {"name": "digits-cnn", "kind": "cnn"}, part_size=7)
    return {n.meta["id"]: n for n in nets + copies}


def test_shard_keeps_stored_copies_in_their_sources_split_and_drops_eval_copies(tmp_path):
    by_id = zoo_with_copies(tmp_path)
    code, out = invoke("shard", tmp_path / "aug", tmp_path / "ds", "--train", 0.5, "--val", 0.25, "--test", 0.25,
                       "--rows-per-shard", 10, "--batch-rows", 4)
    assert code == 0, out
    ds = open_dataset(tmp_path / "ds", verify=True)
    frame = ds.frame()
    sources = frame[frame.aug_seed == -1].set_index("id")["split"]
    assert sources.value_counts().to_dict() == {"train": 6, "val": 3, "test": 3}
    copies = frame[frame.aug_seed != -1]
    assert len(copies) == 12 and (copies.split == "train").all()
    assert (copies.source_id.map(sources) == "train").all()
    assert ds.metadata["dropped_eval_copies"] == 12 and ds.metadata["split_sizes"] == {"train": 18, "val": 3, "test": 3}
    assert len(ds.metadata["shards"]) == 3
    for row, net_id in enumerate(frame["id"]):
        assert ds.network(row).equals(by_id[net_id])


def test_shard_splits_depend_on_seed_and_params_hash(tmp_path, zoo):
    for seed in (0, 0, 1):
        assert invoke("shard", zoo, tmp_path / f"ds{seed}", "--seed", seed)[0] == 0
    a, b = open_dataset(tmp_path / "ds0"), open_dataset(tmp_path / "ds1")
    assert a.metadata["params_hash"] != b.metadata["params_hash"]
    assert a.frame()["split"].tolist() != b.frame()["split"].tolist()
    assert a.metadata["split_sizes"] == {"train": 8, "val": 1, "test": 3}  # SplitConfig's 0.7 / 0.1 / 0.2


def test_bad_input_gives_a_clear_error(tmp_path, zoo):
    code, out = invoke("shard", tmp_path / "nope", tmp_path / "ds")
    assert code == 1 and out.startswith("error: ") and str(tmp_path / "nope") in out
    code, out = invoke("shard", zoo, tmp_path / "ds", "--train", 0.9)
    assert code == 1 and "sum to 1" in out
    assert not (tmp_path / "ds").exists()


def test_bench_loader_reports_throughput(tmp_path):
    code, out = invoke("bench-loader", "--synthetic", 40, "--epochs", 1, "--batch-size", 16,
                       "--out", tmp_path / "b.json")
    assert code == 0, out
    result = json.loads((tmp_path / "b.json").read_text())
    assert "graphs/s" in out and result["rows"] == 40
    assert set(result["open_seconds"]) == {"verified", "recorded", "unverified"} and "hashing every shard" in out
    code, out = invoke("bench-loader", "--synthetic", 10, "--kind", "inr", "--epochs", 1)
    assert code == 0 and "10 graphs x 1 epochs" in out


def test_pipeline_stages_read_params_and_write_outs(tmp_path):
    repo = Path(__file__).resolve().parents[1]
    save_zoo(tmp_path / "datasets/zoos/digits-inr", synthetic_inr_zoo(6), {"name": "digits-inr", "kind": "inr"})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({
        "shard": {"train": 0.5, "val": 0.5, "test": 0.0, "seed": 0, "rows_per_shard": 4, "batch_rows": 2},
    }))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, str(repo / "pipelines" / "shard.py"), "datasets/zoos/digits-inr",
                           "datasets/graphs/digits-inr", "timing.json"], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "timing.json").read_text())["stage"] == "shard@digits-inr"
    ds = open_dataset(tmp_path / "datasets/graphs/digits-inr")
    assert ds.metadata["split_sizes"] == {"train": 3, "val": 3, "test": 0}
