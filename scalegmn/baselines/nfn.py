"""NFN-NP and NFN-HNP (Zhou et al. 2023) through the ``nfn`` package, for one fixed architecture."""

from __future__ import annotations

from torch import Tensor, nn

from scalegmn.nn.invariant import mlp
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import Architecture

VARIANTS = ("np", "hnp")


def network_spec(arch: Architecture):
    """The ``nfn`` ``NetworkSpec`` of ``arch`` (a linear layer after a flatten is ``(out, in, F, 1)``)."""
    from nfn.common import ArraySpec, NetworkSpec

    weights, biases = [], []
    for l in range(arch.num_layers):
        n_in, n_out, k = arch.layer_sizes[l], arch.layer_sizes[l + 1], arch.kernel_shapes[l]
        flat = l > 0 and k is None and arch.kernel_shapes[l - 1] is not None and arch.flatten_size > 1
        shape = (n_out, n_in, *k) if k is not None else (n_out, n_in, arch.flatten_size, 1) if flat else (n_out, n_in)
        weights.append(ArraySpec(shape))
        biases.append(ArraySpec((n_out,)))
    return NetworkSpec(weights, biases)


class NFN(nn.Module):
    """``(B, out_dim)``: NP (or HNP) equivariant layers with ReLU, the matching invariant pooling, then an MLP
    of width ``2 * hidden``. The layers have ``channels`` output channels each (default ``layers`` times
    ``hidden``; the NFN paper's generalization-prediction model is ``[16, 16, 5]``, nfn's
    ``experiments/predict_gen_configs/nfnet/hnp_inv.yaml``). Every network in a batch must have the example's
    architecture. A conv layer's channels are ``kh*kw*c`` wide inside NP/HNP layers (4.6M / 9.3M parameters on
    the Small CNN Zoo architecture at 32 channels, four times that at 64)."""

    equivariant = False  # invariant only: (B, out_dim) outputs, no equivariant variant
    symmetries = ("permutation",)  # hidden-neuron permutations (NP and HNP); not scale invariant

    def __init__(self, example, out_dim: int, hidden: int = 32, layers: int = 3, variant: str = "np",
                 head_layers: int = 2, channels: list[int] | None = None) -> None:
        super().__init__()
        from nfn.layers import HNPLinear, HNPPool, NPLinear, NPPool, TupleOp

        if variant not in VARIANTS:
            raise ValueError(f"unknown NFN variant {variant!r}; expected one of {', '.join(VARIANTS)}")
        self.arch: Architecture = example.arch if not isinstance(example.arch, list) else example.arch[0]
        self.spec = network_spec(self.arch)
        linear, pool = (NPLinear, NPPool) if variant == "np" else (HNPLinear, HNPPool)
        widths = [hidden] * layers if channels is None else [int(c) for c in channels]
        if not widths or min(widths) < 1:
            raise ValueError(f"NFN needs at least one layer of >= 1 channels, got {widths}")
        mods: list[nn.Module] = []
        for c_in, c_out in zip([1, *widths[:-1]], widths):
            mods += [linear(self.spec, c_in, c_out), TupleOp(nn.ReLU())]
        self.layers = nn.Sequential(*mods)  # the NP/HNP layers (saved as `equivariant.*` before it was renamed)
        self._register_load_state_dict_pre_hook(_legacy_layer_keys)
        self.pool = pool(self.spec)
        self.head = mlp(widths[-1] * pool.get_num_outs(self.spec), 2 * hidden, out_dim, head_layers)

    def forward(self, data) -> Tensor:
        from nfn.common import WeightSpaceFeatures

        groups = WeightBatch.from_graphs(data)
        if len(groups) != 1 or groups[0][1].arch != self.arch:
            raise ValueError(f"NFN needs every network to have the architecture it was built for "
                             f"({self.arch.key}); got {len(groups)} architecture(s)")
        group = groups[0][1]
        dtype = self.head[0].weight.dtype
        weights = [w.reshape(w.shape[0], 1, *s.shape).to(dtype) for w, s in zip(group.weights, self.spec.weight_spec)]
        biases = [b.unsqueeze(1).to(dtype) for b in group.biases]
        feats = self.layers(WeightSpaceFeatures(weights, biases))
        return self.head(self.pool(feats).flatten(1))


def _legacy_layer_keys(state_dict, prefix, *_args) -> None:
    """Read checkpoints that saved the layers as ``equivariant.*`` (now ``layers.*``; ``equivariant`` is the
    class's declaration that it has no equivariant variant)."""
    old = prefix + "equivariant."
    for key in [k for k in state_dict if k.startswith(old)]:
        state_dict[prefix + "layers." + key[len(old):]] = state_dict.pop(key)
