"""The digits-inr zoo: one SIREN per 8x8 digit, all fitted in one batched optimisation.

Each SIREN maps a pixel coordinate ``(row, col)`` in ``[-1, 1]^2`` (see
:func:`scalegmn.core.siren.coordinate_grid`) to the pixel intensity scaled to ``[0, 1]`` (raw digits pixel / 16),
computing ``sin(w0 (W x + b))`` in every hidden
layer (our :func:`scalegmn.core.weights.forward` convention) and a linear output without offset. Fitting is
full-batch Adam on the mean squared error over the 64 pixels; the parameters of all INRs are stacked on a
leading axis and every INR's loss only touches its own parameters, so the fit of one image does not
depend on which other images are fitted with it (``start``/``count`` pieces equal the whole zoo).
Initialisation (Sitzmann et al.): first layer ``U(-1/n_in, 1/n_in)``, later layers
``U(-sqrt(6/n_in)/w0, sqrt(6/n_in)/w0)``, biases ``U(-1/sqrt(n_in), 1/sqrt(n_in))``, seeded per image.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from scalegmn.core.siren import coordinate_grid
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import NetworkWeights
from scalegmn.zoo.digits import DIGITS_SIZE, PIXEL_MAX, load_digits_images
from scalegmn.zoo.parallel import map_tasks


@dataclass(frozen=True)
class InrZooConfig:
    """Everything that determines a digits-inr zoo (``size``: fit the first ``size`` digits, which cycle
    through the classes; ``None``: all 1797)."""

    size: int | None = None
    seed: int = 0
    steps: int = 200
    learning_rate: float = 1e-3
    hidden: tuple[int, ...] = (32, 32)
    w0: float = 30.0
    name: str = "digits-inr"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "learning_rate", float(self.learning_rate))
        if self.steps < 1 or self.learning_rate <= 0 or not self.hidden or min(self.hidden) < 1 or self.w0 <= 0:
            raise ValueError("InrZooConfig: steps >= 1, learning_rate > 0, w0 > 0 and hidden widths >= 1 required")
        if self.size is not None and self.size < 1:
            raise ValueError("InrZooConfig: size must be >= 1 (or None for all digits)")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def psnr(prediction: Tensor, target: Tensor, peak: float = 1.0) -> Tensor:
    """Peak signal-to-noise ratio in dB over the last dimension: ``10 log10(peak^2 / MSE)``."""
    mse = (prediction - target).pow(2).mean(dim=-1).clamp_min(1e-12)
    return 10.0 * torch.log10(peak**2 / mse)


def _init_siren(sizes: list[int], w0: float, generator: torch.Generator) -> tuple[list[Tensor], list[Tensor]]:
    weights, biases = [], []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / n_in if l == 0 else math.sqrt(6.0 / n_in) / w0
        weights.append((torch.rand(n_out, n_in, generator=generator) * 2 - 1) * bound)
        biases.append((torch.rand(n_out, generator=generator) * 2 - 1) / math.sqrt(n_in))
    return weights, biases


def _fit_task(task: tuple[InrZooConfig, int, int], progress: tqdm | None = None) -> list[NetworkWeights]:
    """Fit digits ``start .. stop-1`` together (one Adam over their stacked parameters)."""
    config, start, stop = task
    images, labels = load_digits_images()
    index = torch.arange(start, stop)
    target = images[index].reshape(len(index), -1) / PIXEL_MAX
    coords = coordinate_grid(DIGITS_SIZE)
    sizes = [2, *config.hidden, 1]
    inits = [_init_siren(sizes, config.w0, torch.Generator().manual_seed(
        int(np.random.SeedSequence([config.seed, int(i)]).generate_state(1, dtype=np.uint64)[0] >> 1)))
        for i in index]
    weights = [torch.stack([w[l] for w, _ in inits]).requires_grad_(True) for l in range(len(sizes) - 1)]
    biases = [torch.stack([b[l] for _, b in inits]).requires_grad_(True) for l in range(len(sizes) - 1)]
    optimizer = torch.optim.Adam(weights + biases, lr=config.learning_rate)
    template = NetworkWeights(*inits[0], "sine", w0=config.w0)
    batch = WeightBatch(template.architecture, weights, biases)

    def fitted() -> Tensor:
        return batch.forward(template, coords).squeeze(-1)  # (N, pixels)

    for _ in range(config.steps):
        optimizer.zero_grad(set_to_none=True)
        loss = (fitted() - target).pow(2).mean(dim=1).sum()
        loss.backward()
        optimizer.step()
        if progress is not None:
            progress.update(len(index))
    with torch.no_grad():
        quality = psnr(fitted(), target)
    nets = []
    for n, i in enumerate(index.tolist()):
        meta = {"id": f"{config.name}-{i:06d}", "source": config.name, "label": int(labels[i]),
                "psnr": float(quality[n]), "digit_index": i}
        nets.append(NetworkWeights([w[n].detach().clone() for w in weights], [b[n].detach().clone() for b in biases],
                                   "sine", w0=config.w0, meta=meta))
    return nets


def generate_inr_zoo(config: InrZooConfig, start: int = 0, count: int | None = None, workers: int = 1,
                     progress: bool = True) -> list[NetworkWeights]:
    """Fit SIRENs to digits ``start .. start+count-1`` (default: to ``config.size``), split into ``workers``
    processes; ``meta`` holds ``id``, ``source``, ``label`` (digit class), ``psnr`` (dB, pixels in
    [0, 1]) and ``digit_index``."""
    available = len(load_digits_images()[1])
    total = config.size or available
    count = total - start if count is None else count
    if total > available or not 0 <= start < start + count <= total:
        raise ValueError(f"digits {start}..{start + count - 1} are not inside the first {total} of the "
                         f"{available} digits")
    bounds = np.linspace(start, start + count, max(1, min(workers, count)) + 1).round().astype(int)
    tasks = [(config, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    with tqdm(total=config.steps * count, desc=f"{config.name} {start}..{start + count - 1}",
              unit="fit-step", unit_scale=True, disable=not progress) as bar:
        results = map_tasks(_fit_task, tasks, workers, bar, units=lambda t: config.steps * (t[2] - t[1]))
    return [net for chunk in results for net in chunk]
