"""DistributedDataParallel: `scalegmn train` under `torchrun --nproc-per-node 2` (gloo on CPU) trains the
same model as one process with the same global batch."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from scalegmn.data import ShardConfig, write_dataset
from scalegmn.data.synthetic import synthetic_cnn_zoo
from scalegmn.run.checkpoint import CHECKPOINT
from scalegmn.run.config import TrainConfig
from scalegmn.run.trainer import train

MODEL = "toy_models:ToyMetanet"
OPTIONS = {"epochs": 2, "batch_size": 8, "lr": 3e-3, "model": {"hidden": 8}}


def write_cnn_dataset(path: Path, n: int = 40, huge: int | None = None) -> None:
    nets = list(synthetic_cnn_zoo(n))
    for net in nets:
        net.meta["score"] = float(torch.cat(net.biases).mean())
    if huge is not None:
        nets[huge].weights[0].mul_(1e30)
    splits = ["train"] * 24 + ["val"] * 8 + ["test"] * (n - 32)
    write_dataset(path, zip(nets, splits), source={"kind": "test"}, params={},
                  config=ShardConfig(bad_weights="keep"))


def torchrun_train(dataset: Path, out: Path, model: str = MODEL, extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """``scalegmn train`` under ``torchrun --nproc-per-node 2``: (exit status, stdout, stderr); fails the
    test if the job does not end within 180 s (a hang)."""
    overrides = [f"{k}={v}" for k, v in OPTIONS.items() if k != "model"] + ["model.hidden=8"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "--no-python",
           str(Path(sys.executable).parent / "scalegmn"), "train", "--task", "genpred-mixed", "--model", model,
           "--dataset", str(dataset), "--out", str(out), "--seed", "0", "--no-progress"]
    cmd += [arg for o in [*overrides, *extra] for arg in ("--config", o)]
    tests = str(Path(__file__).resolve().parent)  # where toy_models lives
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks
        stdout, stderr = proc.communicate()
        pytest.fail(f"torchrun did not finish in 180 s:\n{stdout[-2000:]}\n{stderr[-4000:]}")
    return proc.returncode, stdout, stderr


def test_two_gloo_processes_train_exactly_what_one_process_trains(tmp_path):
    write_cnn_dataset(tmp_path / "ds")
    code, out, err = torchrun_train(tmp_path / "ds", tmp_path / "ddp")
    assert code == 0, out[-2000:] + err[-4000:]
    ddp = json.loads((tmp_path / "ddp" / "result.json").read_text())
    assert ddp["world_size"] == 2 and ddp["status"] == "ok"

    single = train("genpred-mixed", MODEL, tmp_path / "ds", seed=0, out_dir=tmp_path / "single",
                   config=TrainConfig(**OPTIONS, progress=False), method=MODEL)
    assert single["world_size"] == 1
    assert ddp["best_epoch"] == single["best_epoch"]
    for split in ("val", "test"):
        for metric, value in single[split].items():
            assert ddp[split][metric] == pytest.approx(value, rel=1e-4, abs=1e-6), (split, metric)
    a = torch.load(tmp_path / "ddp" / CHECKPOINT, weights_only=False)["model"]
    b = torch.load(tmp_path / "single" / CHECKPOINT, weights_only=False)["model"]
    for key in b:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("extra", [(), ("amp=true", "amp_dtype=float16")], ids=["float32", "float16-amp"])
def test_a_non_finite_loss_on_one_rank_fails_every_rank_naming_the_network(tmp_path, extra):
    write_cnn_dataset(tmp_path / "ds", huge=5)
    code, out, err = torchrun_train(tmp_path / "ds", tmp_path / "ddp", model="mlp", extra=extra)
    assert code != 0
    result = json.loads((tmp_path / "ddp" / "result.json").read_text())
    assert result["status"] == "failed" and "non-finite loss" in result["reason"] and "cnn-5" in result["reason"]
    assert (out + err).count("non-finite loss on the training batch of networks cnn-5") == 2  # both ranks
