"""The README's worked example: a user's metanetwork, named by import path, checked and trained."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from scalegmn.diagnostics.symmetry_checker import check_symmetry, example_graphs
from scalegmn.registry import build_model
from scalegmn.data.shards import write_dataset
from scalegmn.data.synthetic import synthetic_cnn_zoo

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BIN = Path(sys.executable).parent


def test_example_metanet_is_permutation_but_not_scale_invariant(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    gen = torch.Generator().manual_seed(0)
    graphs = example_graphs("cnn", ["relu"], 4, gen)
    torch.manual_seed(0)
    model = build_model("layer_norms:LayerNorms", graphs[0], 2, hidden=8)
    rows = {r.transform: r.invariant for r in check_symmetry(model, graphs, gen, 2, name="layer_norms")}
    assert rows["permutation"] and not rows["scaling"]


def test_example_metanet_trains_through_the_cli(tmp_path):
    nets = list(synthetic_cnn_zoo(40, seed=0, activations=("relu",)))
    for i, net in enumerate(nets):
        net.meta["score"] = float(i % 7) / 7
    splits = ["train"] * 24 + ["val"] * 8 + ["test"] * 8
    write_dataset(tmp_path / "ds", zip(nets, splits), source={"name": "synthetic"}, params={})
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES))
    proc = subprocess.run(
        [str(BIN / "scalegmn"), "train", "--task", "genpred-relu", "--model", "layer_norms:LayerNorms",
         "--dataset", str(tmp_path / "ds"), "--out", str(tmp_path / "run"), "--config", "epochs=2",
         "--config", "progress=false", "--config", "num_threads=1"],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["method"] == "layer_norms:LayerNorms" and result["status"] == "ok"
