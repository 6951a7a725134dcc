"""Generate a digits zoo and save it in our format with a summary in ``info.json`` (CLI and pipeline)."""

from __future__ import annotations

import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from scalegmn.io import check_output_dir
from scalegmn.zoo.cnn_zoo import CnnZooConfig, generate_cnn_zoo
from scalegmn.zoo.format import ZOO_KIND, save_zoo
from scalegmn.zoo.inr_zoo import InrZooConfig, generate_inr_zoo
from scalegmn.zoo.summary import describe, format_description


def _machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__}


def write_cnn_zoo(config: CnnZooConfig, out: str | Path, *, start: int = 0, count: int | None = None,
                  workers: int = 1, progress: bool = True, part_size: int = 1024,
                  overwrite: bool = False) -> dict[str, Any]:
    """Train a digits-cnn zoo (or its ``start``/``count`` piece) and save it to ``out`` (replaced atomically;
    an unrelated non-empty folder only with ``overwrite``); returns ``info`` (with ``summary``: the one-line
    result)."""
    check_output_dir(out, ZOO_KIND, overwrite=overwrite)
    began = time.perf_counter()
    nets = generate_cnn_zoo(config, start, count, workers=workers, progress=progress)
    seconds = time.perf_counter() - began
    scores = [n.meta["score"] for n in nets]
    accuracy = describe(scores)
    info = {"name": config.name, "kind": "cnn", "generator": "digits-cnn", "config": config.to_dict(),
            "start": start, "count": len(nets), "workers": workers, "seconds": seconds,
            "networks_per_s": len(nets) / seconds, "test_accuracy": accuracy,
            "diverged": sum(bool(n.meta["diverged"]) for n in nets),
            "inputs": "sklearn digits 8x8, pixels scaled to [-1, 1] (x / 8 - 1), shape (B, 1, 8, 8)",
            "machine": _machine()}
    info["summary"] = (f"{config.name}: {len(nets)} CNNs in {seconds:.1f} s ({info['networks_per_s']:.1f} members/s, "
                       f"{workers} workers); test accuracy min/q25/median/q75/max {format_description(accuracy)}; "
                       f"{info['diverged']} diverged")
    save_zoo(out, nets, info, part_size=part_size, overwrite=overwrite)
    return info


def write_inr_zoo(config: InrZooConfig, out: str | Path, *, start: int = 0, count: int | None = None,
                  workers: int = 1, progress: bool = True, part_size: int = 1024,
                  overwrite: bool = False) -> dict[str, Any]:
    """Fit a digits-inr zoo (or its ``start``/``count`` piece) and save it to ``out`` (as :func:`write_cnn_zoo`);
    returns ``info``."""
    check_output_dir(out, ZOO_KIND, overwrite=overwrite)
    began = time.perf_counter()
    nets = generate_inr_zoo(config, start, count, workers=workers, progress=progress)
    seconds = time.perf_counter() - began
    quality = describe([n.meta["psnr"] for n in nets])
    info = {"name": config.name, "kind": "inr", "generator": "digits-inr", "config": config.to_dict(),
            "start": start, "count": len(nets), "workers": workers, "seconds": seconds,
            "networks_per_s": len(nets) / seconds, "psnr": quality,
            "coordinates": f"scalegmn.core.siren.coordinate_grid({config.resolution}): (row, col) in "
                           f"linspace(-1, 1, {config.resolution}), row-major",
            "targets": f"8x8 digit pixel / 16 in [0, 1], rotated/shifted per fit, resampled bilinearly to "
                       f"{config.resolution}x{config.resolution} (scalegmn.zoo.inr_zoo.fitting_targets); no output "
                       f"offset", "machine": _machine()}
    info["summary"] = (f"{config.name}: {len(nets)} SIRENs ({config.fits_per_digit} per digit, "
                       f"{config.resolution}x{config.resolution}) in {seconds:.1f} s ({info['networks_per_s']:.1f} "
                       f"INRs/s, {workers} workers); PSNR mean {quality['mean']:.1f} dB, min {quality['min']:.1f} dB")
    if not math.isfinite(quality["min"]):
        raise ValueError(f"{config.name}: non-finite PSNR; the fit diverged (lower the learning rate)")
    save_zoo(out, nets, info, part_size=part_size, overwrite=overwrite)
    return info
