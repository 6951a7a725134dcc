"""SIRENs (INRs) as images: the pixel grid they are evaluated on and batched, differentiable rendering.

An INR maps a pixel coordinate ``(row, col) ∈ [-1, 1]²`` to the pixel's values. Rendering is
:meth:`scalegmn.core.weight_batch.WeightBatch.forward` (the functional forward pass vectorised over networks),
so gradients flow back to the weights.
"""

from __future__ import annotations

import torch
from torch import Tensor

from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import NetworkWeights


def coordinate_grid(height: int, width: int | None = None, *, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> Tensor:
    """``(height*width, 2)`` pixel-centre coordinates ``(row, col)``, each on ``linspace(-1, 1)``, row-major
    (``width`` defaults to ``height``): ``forward(inr, coordinate_grid(h, w)).view(h, w)`` is the image."""
    rows = torch.linspace(-1.0, 1.0, height, dtype=dtype, device=device)
    cols = torch.linspace(-1.0, 1.0, height if width is None else width, dtype=dtype, device=device)
    return torch.cartesian_prod(rows, cols)


def render(weights: WeightBatch, template: NetworkWeights, size: int) -> Tensor:
    """``(B, C, size, size)`` images of ``B`` INRs of one architecture (``template``: activation, ``w0``,
    output offset; ``C`` the number of outputs)."""
    coords = coordinate_grid(size, dtype=weights.dtype, device=weights.weights[0].device)
    pixels = weights.forward(template, coords)  # (B, size*size, C)
    return pixels.transpose(1, 2).reshape(len(weights), -1, size, size)
