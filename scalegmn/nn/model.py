"""ScaleGMN (DESIGN §6): scale- and permutation-equivariant graph metanetwork; GMN via a switch."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import Tensor, nn

from scalegmn.nn.edges import edge_operators
from scalegmn.nn.embedding import NodeEmbedding
from scalegmn.nn.layer import GMNLayer
from scalegmn.nn.modes import check_symmetry_name, node_modes
from scalegmn.nn.readout import EquivariantHead, InvariantReadout
from scalegmn.nn.reciprocal import stable_reciprocal


@dataclass
class ScaleGMNConfig:
    """Hyper-parameters (paper: hidden 128, 4 layers; 10 layers for editing).

    symmetry: ``auto`` (each graph its activation's group), ``scale`` (positive scalings for all),
        ``sign`` (signs for all) or ``permutation`` (GMN: no scaling symmetry).
    bidirectional: also pass messages backwards along reciprocal edges (ScaleGMN-B).
    equivariant: return per-node and per-edge outputs shaped like the weights instead of ``(B, out_dim)``.
    readout: ``deepsets`` or ``output`` (invariant models).
    max_layers: the deepest input network (weight layers) the model accepts; default ``max(8, example's)``.
    recip_eps: ``ε`` of the stable reciprocal ``w / max(‖w‖², ε)`` (exact for
        ``‖w‖ >= 1e-6`` by default; below that bounded by ``1/sqrt(ε)``).
    """

    hidden: int = 128
    layers: int = 4
    symmetry: str = "auto"
    bidirectional: bool = False
    equivariant: bool = False
    readout: str = "deepsets"
    inv_layers: int = 1
    readout_layers: int = 2
    max_layers: int | None = None
    recip_eps: float = 1e-12


class ScaleGMN(nn.Module):
    """``model(batch) -> (B, out_dim)``, or ``(node_out (N, 1), edge_out (E, K))`` if ``equivariant``.

    ``batch``: a PyG ``Batch`` (or one ``Data``) of :func:`scalegmn.graph.to_graph` graphs; networks of
    different widths and depths may share a batch as long as they have the example's input and output
    sizes and at most ``max_layers`` layers. Edge features narrower than the example's are zero-padded.
    """

    def __init__(self, example, out_dim: int, **config) -> None:
        super().__init__()
        unknown = set(config) - set(ScaleGMNConfig.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown ScaleGMN config keys: {', '.join(sorted(unknown))}")
        cfg = ScaleGMNConfig(**config)
        check_symmetry_name(cfg.symmetry)
        self.config = cfg
        self.n_in = int(example.input_mask.sum())
        self.n_out = int(example.output_mask.sum())
        self.edge_dim = int(example.edge_attr.shape[1])
        example_layers = int(example.node_layer.max())
        self.max_layers = cfg.max_layers or max(8, example_layers)
        if example_layers > self.max_layers:
            raise ValueError(f"the example has {example_layers} layers but max_layers={self.max_layers}")
        d = cfg.hidden
        directions = 2 if cfg.bidirectional else 1
        if cfg.symmetry == "permutation":
            self.reciprocal = nn.Identity()
        else:
            self.reciprocal = _Reciprocal(cfg.recip_eps)
        self.embed = NodeEmbedding(self.n_in + self.n_out + self.max_layers, d)
        self.layers = nn.ModuleList(
            GMNLayer(d, self.edge_dim, directions, cfg.inv_layers) for _ in range(cfg.layers)
        )
        if cfg.equivariant:
            self.head: nn.Module = EquivariantHead(d, self.edge_dim, cfg.inv_layers, self.reciprocal)
        else:
            self.head = InvariantReadout(cfg.readout, d, self.n_out, out_dim, cfg.readout_layers, cfg.inv_layers)

    def _edge_attr(self, data) -> Tensor:
        attr = data.edge_attr.to(self.embed.mult.dtype)
        k = attr.shape[1]
        if k > self.edge_dim:
            raise ValueError(f"edge features have width {k} but the model was built for {self.edge_dim}")
        if k < self.edge_dim:
            attr = nn.functional.pad(attr, (0, self.edge_dim - k))
        return attr

    def forward(self, data) -> Tensor | tuple[Tensor, Tensor]:
        if int(data.node_layer.max()) > self.max_layers:
            raise ValueError(f"a network has {int(data.node_layer.max())} layers; the model accepts at most "
                             f"max_layers={self.max_layers}")
        mode = node_modes(data, self.config.symmetry)
        attr = self._edge_attr(data)
        x = data.x.to(attr.dtype)
        h = self.embed(x, data.node_type, mode)
        ops = edge_operators(data, attr, self.reciprocal, self.config.bidirectional)
        for layer in self.layers:
            h = layer(h, mode, ops)
        if self.config.equivariant:
            return self.head(h, mode, data, attr)
        return self.head(h, mode, data)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items())


class _Reciprocal(nn.Module):
    """:func:`stable_reciprocal` as a module (so the model's ``reciprocal`` is swappable by the switch)."""

    def __init__(self, eps: float) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, v: Tensor) -> Tensor:
        return stable_reciprocal(v, self.eps)
