"""Batched, differentiable rendering of many INRs (SIRENs) of one architecture, and image dilation.

An INR maps a coordinate ``(row, col) ∈ [-1, 1]²`` to pixel values. Rendering goes through the
functional forward pass :func:`scalegmn.weights.forward`, vectorised over networks with ``torch.vmap``,
so gradients flow back to the (edited) graph features.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch

from scalegmn.graph import graph_structure, params_from_features
from scalegmn.weights import Architecture, NetworkWeights, forward


def coordinate_grid(size: int, *, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> Tensor:
    """``(size*size, 2)`` pixel-centre coordinates ``(row, col)`` on ``linspace(-1, 1, size)``, row-major."""
    lin = torch.linspace(-1.0, 1.0, size, dtype=dtype, device=device)
    return torch.cartesian_prod(lin, lin)


def _with_params(template: NetworkWeights, weights: list[Tensor], biases: list[Tensor]) -> NetworkWeights:
    """``template`` with new parameters, without validation (the tensors may be vmap-batched)."""
    net = copy.copy(template)
    net.weights, net.biases = list(weights), list(biases)
    return net


def batch_template(batch: Batch) -> NetworkWeights:
    """The first network of ``batch`` (checked to share architecture, activation, ``w0`` and offset with
    the others)."""
    for attr in ("w0", "output_offset", "leaky_slope"):
        values = getattr(batch, attr)
        if not bool((values == values[0]).all()):
            raise ValueError(f"batched rendering needs one {attr} per batch, got {values.unique().tolist()}")
    arch: Architecture = batch.arch[0]
    if any(a != arch for a in batch.arch) or len(set(batch.activation)) != 1:
        raise ValueError("batched rendering needs graphs of one architecture and one activation")
    if arch.num_convs:
        raise ValueError("INR rendering needs MLPs (SIRENs), got a CNN architecture")
    s = graph_structure(arch)
    weights, biases = params_from_features(arch, batch.x[: s.num_nodes], batch.edge_attr[: s.edge_offsets[-1]])
    return NetworkWeights(
        [w.detach() for w in weights],
        [b.detach() for b in biases],
        batch.activation[0],
        strides=list(arch.strides),
        paddings=list(arch.paddings),
        pooling=arch.pooling,
        w0=float(batch.w0[0]),
        output_offset=float(batch.output_offset[0]),
        leaky_slope=float(batch.leaky_slope[0]),
    )


def render(template: NetworkWeights, x: Tensor, edge_attr: Tensor, size: int) -> Tensor:
    """Render ``B`` networks given as graph features.

    Args:
        template: a network of the shared architecture (activation, ``w0``, offset are taken from it).
        x: ``(B, N, 1)`` node features; edge_attr: ``(B, E, K)`` edge features (``to_graph`` layout).
        size: image side length ``H = W``.
    Returns:
        ``(B, C, H, W)`` images, ``C`` the number of network outputs.
    """
    arch: Architecture = template.architecture
    coords = coordinate_grid(size, dtype=x.dtype, device=x.device)

    def one(xi: Tensor, ei: Tensor) -> Tensor:
        weights, biases = params_from_features(arch, xi, ei)
        return forward(_with_params(template, weights, biases), coords)

    pixels = torch.vmap(one)(x, edge_attr)
    return pixels.transpose(1, 2).reshape(x.shape[0], -1, size, size)


def render_batch(batch: Batch, size: int, x: Tensor | None = None, edge_attr: Tensor | None = None) -> Tensor:
    """Render every network of a PyG batch of one architecture: ``(B, C, H, W)``.

    ``x`` / ``edge_attr`` (``(num_nodes, 1)`` / ``(num_edges, K)``, aligned with the batch) replace the
    batch's own features, e.g. with edited ones.
    """
    template = batch_template(batch)
    b = batch.num_graphs
    x = batch.x if x is None else x
    edge_attr = batch.edge_attr if edge_attr is None else edge_attr
    return render(template, x.reshape(b, -1, x.shape[-1]), edge_attr.reshape(b, -1, edge_attr.shape[-1]), size)


def dilate(images: Tensor, kernel: int = 3) -> Tensor:
    """Grayscale morphological dilation with a flat ``kernel × kernel`` square: ``(B, C, H, W)`` → same."""
    return F.max_pool2d(images, kernel_size=kernel, stride=1, padding=kernel // 2)
