"""The digits-inr zoo: SIRENs fitted to scikit-learn's 8x8 digits, upsampled to a finer grid, in one batched fit.

Each SIREN maps a pixel coordinate ``(row, col)`` in ``[-1, 1]^2`` (see
:func:`scalegmn.core.siren.coordinate_grid`) to the intensity in ``[0, 1]`` (raw digits pixel / 16) of the
digit resampled bilinearly to ``resolution x resolution`` pixels (at 8, the digit itself; at 28, the public
MNIST INR zoos' grid, where 784 pixels against ~1,150 parameters leave no room to memorise noise). A digit is
fitted ``fits_per_digit`` times, each fit from its own initialisation and, with ``max_rotation`` /
``max_shift``, of its own slightly rotated and shifted copy of the digit. Every fit of a digit carries
``split_group`` ``digit-<index>``, so the dataset splits by source digit and no image sits in two splits.

Hidden layers compute ``sin(w0 (W x + b))`` (our :func:`scalegmn.core.weights.forward` convention), the output
layer is linear plus ``output_offset`` (the DWS INRs' ``+0.5``: a constant of the architecture, stored as
``NetworkWeights.output_offset``, not folded into the last bias, exactly as
:func:`scalegmn.zoo.inr_readers.read_dws_inrs` reads a public INR). Fitting is Adam on the mean squared error over ``coords_per_step`` pixels a
step (all of them when ``None``), the INRs run batched through :meth:`WeightBatch.forward`; the pixels of
step ``t`` are drawn from ``(seed, t)`` alone and are the same for every INR, and every INR's loss only
touches its own parameters, so a fit does not depend on which other digits are fitted with it
(``start``/``count`` pieces equal the whole zoo). The reported PSNR is on every pixel of the fitting grid.
Initialisation as the public zoos' SIRENs (DWS, and the official ScaleGMN code's ``Siren``): first layer
``U(-1/n_in, 1/n_in)``, later layers ``U(-sqrt(6/n_in)/w0, sqrt(6/n_in)/w0)``, every bias zero, seeded per fit.
Zero biases keep the first layer's phases ``w0 b`` small after fitting (no phase wraps), so the INRs are readable
without phase canonicalization and their hidden neurons' signs are as training left them: the sign orbits that
ScaleGMN's sign symmetry is about. (Random ``U(±1/sqrt(n_in))`` biases put ``w0 b`` at about ±21 rad.)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from scalegmn.core.siren import coordinate_grid
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import NetworkWeights
from scalegmn.zoo.digits import PIXEL_MAX, load_digits_images
from scalegmn.zoo.inr_readers import DWS_OUTPUT_OFFSET
from scalegmn.zoo.parallel import map_tasks, task_seed


@dataclass(frozen=True)
class InrZooConfig:
    """Everything that determines a digits-inr zoo (``size``: fit the first ``size`` digits, which cycle
    through the classes; ``None``: all 1797). ``resolution``: pixels per side of the fitting grid;
    ``max_rotation``: degrees, ``max_shift``: pixels of the 8x8 digit (each drawn uniformly in ``±max`` per fit,
    fit 0 included); ``coords_per_step``: pixels per Adam step (``None``: all); ``output_offset``: constant added to
    every INR's output (the DWS INRs' 0.5)."""

    size: int | None = None
    seed: int = 0
    steps: int = 200
    learning_rate: float = 1e-3
    hidden: tuple[int, ...] = (32, 32)
    w0: float = 30.0
    resolution: int = 8
    fits_per_digit: int = 1
    max_rotation: float = 0.0
    max_shift: float = 0.0
    coords_per_step: int | None = None
    output_offset: float = DWS_OUTPUT_OFFSET
    name: str = "digits-inr"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        for name in ("learning_rate", "w0", "max_rotation", "max_shift", "output_offset"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.steps < 1 or self.learning_rate <= 0 or not self.hidden or min(self.hidden) < 1 or self.w0 <= 0:
            raise ValueError("InrZooConfig: steps >= 1, learning_rate > 0, w0 > 0 and hidden widths >= 1 required")
        if not math.isfinite(self.output_offset):
            raise ValueError(f"InrZooConfig: output_offset must be finite, got {self.output_offset}")
        if self.size is not None and self.size < 1:
            raise ValueError("InrZooConfig: size must be >= 1 (or None for all digits)")
        if self.resolution < 2 or self.fits_per_digit < 1 or self.max_rotation < 0 or self.max_shift < 0:
            raise ValueError("InrZooConfig: resolution >= 2, fits_per_digit >= 1, max_rotation >= 0 and "
                             "max_shift >= 0 required")
        if self.coords_per_step is not None and not 1 <= self.coords_per_step <= self.resolution ** 2:
            raise ValueError(f"InrZooConfig: coords_per_step must be in 1..{self.resolution ** 2} "
                             f"(resolution {self.resolution}) or None")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def psnr(prediction: Tensor, target: Tensor, peak: float = 1.0) -> Tensor:
    """Peak signal-to-noise ratio in dB over the last dimension: ``10 log10(peak^2 / MSE)``."""
    mse = (prediction - target).pow(2).mean(dim=-1).clamp_min(1e-12)
    return 10.0 * torch.log10(peak**2 / mse)


def init_siren(sizes: list[int], w0: float, generator: torch.Generator) -> tuple[list[Tensor], list[Tensor]]:
    """The public zoos' SIREN initialisation for layer sizes ``sizes`` (module docstring): weights ``(out, in)``
    uniform in ``±1/n_in`` (first layer) or ``±sqrt(6/n_in)/w0``, biases ``(out,)`` zero."""
    weights, biases = [], []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / n_in if l == 0 else math.sqrt(6.0 / n_in) / w0
        weights.append((torch.rand(n_out, n_in, generator=generator) * 2 - 1) * bound)
        biases.append(torch.zeros(n_out))
    return weights, biases


def fitting_targets(images: Tensor, resolution: int, rotations: Tensor, shifts: Tensor) -> Tensor:
    """``(N, resolution**2)`` row-major targets: ``images`` ``(N, h, w)`` in ``[0, 1]`` rotated by ``rotations``
    ``(N,)`` degrees counter-clockwise about the centre, shifted by ``shifts`` ``(N, 2)`` (row, col) pixels of
    the ``h x w`` image, resampled bilinearly on the fitting grid (zero outside the digit). No rotation or
    shift: plain bilinear upsampling that keeps the corner pixels (``align_corners``)."""
    n, h, w = images.shape
    angle = torch.deg2rad(rotations)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps output (x=col, y=row) in [-1, 1] to input positions; a shift of k pixels is 2k/(size-1)
    theta = torch.stack([torch.stack([cos, -sin, -2 * shifts[:, 1] / (w - 1)], dim=1),
                         torch.stack([sin, cos, -2 * shifts[:, 0] / (h - 1)], dim=1)], dim=1)
    grid = F.affine_grid(theta, [n, 1, resolution, resolution], align_corners=True)
    return F.grid_sample(images.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=True).reshape(n, -1)


DIGITS_PER_TASK = 64  # a fitting task's digits: small blocks keep the activations in cache and spread the work

FittedBlock = tuple[list[Tensor], list[Tensor], list[dict[str, Any]]]


def _fit_task(task: tuple[InrZooConfig, int, int], progress: tqdm | None = None) -> FittedBlock:
    """Fit every fit of digits ``start .. stop-1`` together (one Adam over their stacked parameters); returns
    the stacked weights ``(N, out, in)``, biases ``(N, out)`` and the ``N`` metadata dicts (a few tensors, cheap
    to send between processes)."""
    config, start, stop = task
    images, labels = load_digits_images()
    fits = [(i, f) for i in range(start, stop) for f in range(config.fits_per_digit)]
    generators = [torch.Generator().manual_seed(task_seed(config.seed, i, f)) for i, f in fits]
    jitter = torch.stack([(torch.rand(3, generator=g) * 2 - 1) for g in generators])  # (N, 3) in [-1, 1]
    rotations, shifts = jitter[:, 0] * config.max_rotation, jitter[:, 1:] * config.max_shift
    target = fitting_targets(images[[i for i, _ in fits]] / PIXEL_MAX, config.resolution, rotations, shifts)
    coords = coordinate_grid(config.resolution)
    sizes = [2, *config.hidden, 1]
    inits = [init_siren(sizes, config.w0, g) for g in generators]
    weights = [torch.stack([w[l] for w, _ in inits]).requires_grad_(True) for l in range(len(sizes) - 1)]
    biases = [torch.stack([b[l] for _, b in inits]).requires_grad_(True) for l in range(len(sizes) - 1)]
    optimizer = torch.optim.Adam(weights + biases, lr=config.learning_rate)
    template = NetworkWeights(*inits[0], "sine", w0=config.w0, output_offset=config.output_offset)
    batch = WeightBatch(template.architecture, weights, biases)
    pixels = config.resolution ** 2
    for step in range(config.steps):
        index = (slice(None) if config.coords_per_step is None else torch.randperm(
            pixels, generator=torch.Generator().manual_seed(task_seed(config.seed, step)))[:config.coords_per_step])
        optimizer.zero_grad(set_to_none=True)
        loss = (batch.forward(template, coords[index]).squeeze(-1) - target[:, index]).pow(2).mean(1).sum()
        loss.backward()
        optimizer.step()
        if progress is not None:
            progress.update(stop - start)
    with torch.no_grad():  # the quality on every pixel of the grid
        quality = psnr(batch.forward(template, coords).squeeze(-1), target)
    metas = [{"id": f"{config.name}-{i:06d}-{f:02d}", "source": config.name, "label": int(labels[i]),
              "psnr": float(quality[n]), "digit_index": i, "fit": f, "rotation": float(rotations[n]),
              "shift": [float(v) for v in shifts[n]], "split_group": f"digit-{i:06d}"} for n, (i, f) in enumerate(fits)]
    return [w.detach() for w in weights], [b.detach() for b in biases], metas


def generate_inr_zoo(config: InrZooConfig, start: int = 0, count: int | None = None, workers: int = 1,
                     progress: bool = True) -> list[NetworkWeights]:
    """Fit ``config.fits_per_digit`` SIRENs to each of digits ``start .. start+count-1`` (default: to
    ``config.size``), split into ``workers`` processes; ``meta`` holds ``id``, ``source``, ``label`` (digit
    class), ``psnr`` (dB, pixels in [0, 1], on the fitting grid), ``digit_index``, ``fit``, ``rotation``
    (degrees), ``shift`` (row, col pixels) and ``split_group``."""
    available = len(load_digits_images()[1])
    total = config.size or available
    count = total - start if count is None else count
    if total > available or not 0 <= start < start + count <= total:
        raise ValueError(f"digits {start}..{start + count - 1} are not inside the first {total} of the "
                         f"{available} digits")
    bounds = [*range(start, start + count, DIGITS_PER_TASK), start + count]
    tasks = [(config, a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    with tqdm(total=config.steps * count, desc=f"{config.name} {start}..{start + count - 1}",
              unit="digit-step", unit_scale=True, disable=not progress) as bar:
        results = map_tasks(_fit_task, tasks, workers, bar, units=lambda t: config.steps * (t[2] - t[1]))
    return [NetworkWeights([w[n].clone() for w in weights], [b[n].clone() for b in biases], "sine", w0=config.w0,
                           output_offset=config.output_offset, meta=meta) for weights, biases, metas in results for n, meta in enumerate(metas)]
