"""INR editing's images: rendering a PyG batch of INRs (possibly with edited features) and image dilation."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch

from scalegmn.core.siren import render
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import NetworkWeights


def render_batch(batch: Batch, size: int, x: Tensor | None = None, edge_attr: Tensor | None = None) -> Tensor:
    """Render every network of a PyG batch of one architecture and one activation setting: ``(B, C, H, W)``.

    ``x`` / ``edge_attr`` (``(num_nodes, 1)`` / ``(num_edges, K)``, aligned with the batch) replace the
    batch's own features, e.g. with edited ones; gradients flow back to them.
    """
    for attr in ("w0", "output_offset", "leaky_slope"):
        values = getattr(batch, attr)
        if not bool((values == values[0]).all()):
            raise ValueError(f"batched rendering needs one {attr} per batch, got {values.unique().tolist()}")
    groups = WeightBatch.from_graphs(batch, x, edge_attr)
    if len(groups) != 1 or len(set(batch.activation)) != 1:
        raise ValueError("batched rendering needs graphs of one architecture and one activation")
    weights = groups[0][1]
    if weights.arch.num_convs:
        raise ValueError("INR rendering needs MLPs (SIRENs), got a CNN architecture")
    first = weights[0].map(lambda t: t[0].detach())
    template = NetworkWeights.from_dict({
        "weights": first.weights, "biases": first.biases, "activation": batch.activation[0],
        "strides": weights.arch.strides, "paddings": weights.arch.paddings, "pooling": weights.arch.pooling,
        "w0": batch.w0[0], "output_offset": batch.output_offset[0], "leaky_slope": batch.leaky_slope[0],
        "meta": "{}",
    })
    return render(weights, template, size)


def dilate(images: Tensor, kernel: int = 3) -> Tensor:
    """Grayscale morphological dilation with a flat ``kernel × kernel`` square: ``(B, C, H, W)`` → same."""
    return F.max_pool2d(images, kernel_size=kernel, stride=1, padding=kernel // 2)
