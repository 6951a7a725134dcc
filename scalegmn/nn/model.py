"""ScaleGMN (DESIGN §6): scale- and permutation-equivariant graph metanetwork; GMN and the factorized
fast variants through switches of one model."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import Tensor, nn

from scalegmn.nn.edges import edge_operators
from scalegmn.nn.embedding import NodeEmbedding
from scalegmn.nn.factorized import FactorizedLayer
from scalegmn.nn.input_scale import ScaledInputs
from scalegmn.nn.modes import check_symmetry_name, node_modes
from scalegmn.nn.per_edge import EdgeGraph, PerEdgeLayer
from scalegmn.nn.readout import EdgeStateHead, EquivariantHead, InvariantReadout
from scalegmn.nn.reciprocal import stable_reciprocal

EDGE_KINDS: tuple[str, ...] = ("per-edge", "factorized")


@dataclass
class ScaleGMNConfig:
    """Hyper-parameters (paper: hidden 128, 4 layers; 10 layers for editing).

    symmetry: ``auto`` (each graph its activation's group), ``scale`` (positive scalings for all),
        ``sign`` (signs for all) or ``permutation`` (GMN: no scaling symmetry).
    bidirectional: also pass messages backwards along reciprocal edges (ScaleGMN-B).
    equivariant: return per-node and per-edge outputs shaped like the weights instead of ``(B, out_dim)``.
    edges: ``per-edge`` (the paper's layer: edge states ``(E, d)`` updated every layer, per-edge
        equivariant messages; :mod:`~scalegmn.nn.per_edge`) or ``factorized`` (the fast variant of
        ``*-fast`` models: edge states kept as gated weights; :mod:`~scalegmn.nn.factorized`).
    msg_layers: ScaleEq layers per per-edge message.
    inv_layers: MLP layers after the canonicalized first layer of node-level invariants (ScaleInv).
    gate_layers: the same for the per-edge gates of the per-edge layer (its messages' ScaleEq gates and
        the edge update's ``φ``); ``0`` makes each gate one canonicalized SiLU layer.
    residual: per-edge layers add their input states to the updates.
    layer_norm: LayerNorm before every SiLU of the layers' MLPs and invariant gates (per-edge and factorized)
        and of the readout (as the official code's MLPs; inside gates it only sees invariant features, so the
        symmetrized sign gates ``ρ(z) + ρ(-z)`` do not start flat).
    dropout: dropout on the node states after every message-passing layer while training (the official
        ``gnn_args.dropout``, 0.2 on INRs; elementwise, so it commutes with the scalings and, in
        distribution, with the permutations).
    readout: ``deepsets`` or ``output`` (invariant models).
    max_layers: the deepest input network (weight layers) the model accepts; default ``max(8, example's)``.
    recip_eps: ``ε`` of the stable reciprocal ``w / max(‖w‖², ε)`` (exact for
        ``‖w‖ >= 1e-8`` by default; below that bounded by ``1/sqrt(ε)``).
    normalize: divide each layer's weights and biases by their root mean square over the training networks
        (:class:`~scalegmn.nn.input_scale.LayerScale`, fitted by ``fit_inputs``; symmetries kept).
    """

    hidden: int = 128
    layers: int = 4
    symmetry: str = "auto"
    bidirectional: bool = False
    equivariant: bool = False
    edges: str = "per-edge"
    msg_layers: int = 1
    gate_layers: int = 0
    residual: bool = True
    layer_norm: bool = True
    dropout: float = 0.0
    readout: str = "deepsets"
    inv_layers: int = 1
    readout_layers: int = 2
    max_layers: int | None = None
    recip_eps: float = 1e-16
    normalize: bool = False


class ScaleGMN(ScaledInputs, nn.Module):
    """``model(batch) -> (B, out_dim)``, or ``(node_out (N, 1), edge_out (E, K))`` if ``equivariant``.

    ``batch``: a PyG ``Batch`` (or one ``Data``) of :func:`scalegmn.core.graph.to_graph` graphs; networks of
    different widths and depths may share a batch as long as they have the example's input and output
    sizes and at most ``max_layers`` layers. Edge features narrower than the example's are zero-padded.

    ``supports_equivariant``: it can be built with ``equivariant=True``; :attr:`equivariant` says whether
    this instance was. ``options_type``: its keyword options are the fields of :class:`ScaleGMNConfig`.
    """

    supports_equivariant = True
    options_type = ScaleGMNConfig

    @property
    def symmetries(self) -> tuple[str, ...]:
        """What it is invariant (or equivariant) to: hidden-neuron permutations always; with ``symmetry="auto"``
        also each network's activation scaling group (positive scalings for ReLU, signs for tanh)."""
        return ("permutation", "scaling") if self.config.symmetry == "auto" else ("permutation",)

    @property
    def equivariant(self) -> bool:
        """Whether this model returns per-node and per-edge outputs (built with ``equivariant=True``)."""
        return self.config.equivariant

    def __init__(self, example, out_dim: int, **config) -> None:
        super().__init__()
        unknown = set(config) - set(ScaleGMNConfig.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown ScaleGMN config keys: {', '.join(sorted(unknown))}")
        cfg = ScaleGMNConfig(**config)
        check_symmetry_name(cfg.symmetry)
        if not 0.0 <= cfg.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {cfg.dropout}")
        if cfg.edges not in EDGE_KINDS:
            raise ValueError(f"unknown edges {cfg.edges!r}; expected one of {', '.join(EDGE_KINDS)}")
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
        self.init_input_scale(self.max_layers, cfg.normalize)
        self.per_edge = cfg.edges == "per-edge"
        if self.per_edge:
            scaled = cfg.symmetry != "permutation"
            self.layers = nn.ModuleList(
                PerEdgeLayer(d, self.edge_dim if i == 0 else d, directions, scaled, cfg.msg_layers, cfg.inv_layers,
                             cfg.gate_layers, update_edges=cfg.equivariant or i < cfg.layers - 1, residual=cfg.residual,
                             reciprocal=self.reciprocal, layer_norm=cfg.layer_norm)
                for i in range(cfg.layers)
            )
        else:
            self.layers = nn.ModuleList(
                FactorizedLayer(d, self.edge_dim, directions, cfg.inv_layers, cfg.layer_norm)
                for _ in range(cfg.layers)
            )
        self.dropout = nn.Dropout(cfg.dropout)
        if cfg.equivariant and self.per_edge:
            self.head: nn.Module = EdgeStateHead(d, self.edge_dim)
        elif cfg.equivariant:
            self.head = EquivariantHead(d, self.edge_dim, cfg.inv_layers, self.reciprocal, cfg.layer_norm)
        else:
            self.head = InvariantReadout(cfg.readout, d, self.n_in, self.n_out, out_dim, cfg.readout_layers,
                                         cfg.inv_layers, cfg.layer_norm)

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
        attr, x = self.scaled_inputs(data, attr, data.x.to(attr.dtype))
        h = self.embed(x, data.node_type, mode)
        if self.per_edge:
            graph = EdgeGraph.build(data.edge_index, mode, data.num_nodes)
            e = attr.index_select(0, graph.order)
            for layer in self.layers:
                h, e = layer(h, e, graph)
                h = self.dropout(h)
            if self.config.equivariant:
                return self.head(h, e.index_select(0, graph.restore), data)
        else:
            ops = edge_operators(data, attr, self.reciprocal, self.config.bidirectional)
            for layer in self.layers:
                h = self.dropout(layer(h, mode, ops))
            if self.config.equivariant:
                return self.head(h, mode, data, attr)
        return self.head(h, mode, data, self.embed.add[data.node_type])

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items())


class _Reciprocal(nn.Module):
    """:func:`stable_reciprocal` as a module (so the model's ``reciprocal`` is swappable by the switch)."""

    def __init__(self, eps: float) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, v: Tensor) -> Tensor:
        return stable_reciprocal(v, self.eps)
