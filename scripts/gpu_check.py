"""Short GPU check: train metanetworks (ScaleGMN's per-edge and factorized variants by default) on CUDA (float32,
AMP bfloat16, AMP float16) and on the CPU, on the same synthetic CNN zoo, and print training throughput (graphs/s,
forward + backward) side by side.

Usage: python scripts/gpu_check.py [--model scalegmn,scalegmn-fast] [--nets 2048] [--epochs 3] [--out reports/gpu_check.json]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from scalegmn.io import write_json
from scalegmn.data import InMemoryGraphDataset
from scalegmn.data.synthetic import synthetic_cnn_zoo
from scalegmn.run.trainer import TrainConfig, train


def zoo(n: int) -> InMemoryGraphDataset:
    """Random Small-CNN-Zoo-shaped CNNs (ReLU and tanh) whose score is their mean bias (learnable)."""
    nets = list(synthetic_cnn_zoo(n))
    for net in nets:
        net.meta["score"] = float(torch.cat(net.biases).mean())
    a, b = n * 8 // 10, n * 9 // 10
    return InMemoryGraphDataset(nets, {"train": list(range(a)), "val": list(range(a, b)), "test": list(range(b, n))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="scalegmn,scalegmn-fast", help="comma-separated model names")
    parser.add_argument("--nets", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cpu-epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--out", default="reports/gpu_check.json")
    args = parser.parse_args()

    ds = zoo(args.nets)
    runs = [("cpu", "", args.cpu_epochs)]
    if torch.cuda.is_available():
        runs += [("cuda", "", args.epochs), ("cuda", "bfloat16", args.epochs), ("cuda", "float16", args.epochs)]
    else:
        print("CUDA is not available: only the CPU figure is measured")
    rows = []
    for model in args.model.split(","):
        rows += [dict(row, model=model) for row in run_model(model, ds, runs, args)]
    print(f"{'model':16s} {'device':40s} {'amp':8s} {'graphs/s':>10s} {'wall s':>8s} {'test tau':>9s} {'peak MiB':>9s}")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:16s} {r['device']:40s} {r['amp']:8s} failed")
            continue
        peak = "-" if r["peak_gpu_mib"] is None else f"{r['peak_gpu_mib']:.0f}"
        print(f"{r['model']:16s} {r['device']:40s} {r['amp']:8s} {r['train_graphs_per_s']:10.0f} {r['wall_seconds']:8.1f} "
              f"{r['test_kendall_tau']:9.4f} {peak:>9s}")
    write_json(args.out, {"models": args.model.split(","), "nets": args.nets, "batch_size": args.batch_size, "runs": rows})
    print(f"gpu_check: {len(rows)} runs of {args.model} on {args.nets} networks -> {args.out}")


def run_model(model: str, ds: InMemoryGraphDataset, runs: list, args) -> list[dict]:
    """One row per (device, amp) run of ``model``; a failed run gets an ``error`` row."""
    rows = []
    for device, amp, epochs in runs:
        cfg = TrainConfig(epochs=epochs, batch_size=args.batch_size, device=device, amp=bool(amp),
                          amp_dtype=amp or "bfloat16", progress=False,
                          model={"hidden": args.hidden, "layers": args.layers})
        start = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory() as out:
                result = train("genpred-mixed", model, ds, seed=0, out_dir=out, config=cfg, method=model)
        except (RuntimeError, NotImplementedError) as err:  # e.g. a sparse kernel without half precision
            print(f"{model} {device} amp={amp or 'off'}: failed: {err}")
            rows.append({"device": device, "amp": amp or "off", "error": str(err)})
            continue
        peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        rows.append({"device": result["device"], "amp": amp or "off", "epochs": epochs,
                     "train_graphs_per_s": result["train_graphs_per_s"], "wall_seconds": time.perf_counter() - start,
                     "test_kendall_tau": result["test"]["kendall_tau"], "peak_gpu_mib": peak,
                     "num_params": result["num_params"]})
    return rows


if __name__ == "__main__":
    main()
