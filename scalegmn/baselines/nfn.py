"""NFN-NP and NFN-HNP (Zhou et al. 2023) through the ``nfn`` package, for networks of one layer structure.

NP and HNP layers share their parameters across the hidden neurons of a layer, so one model processes networks
that differ only in hidden widths (a mixed-width zoo): each architecture of a batch goes through the layers on
its own and the pooled features are put back in batch order.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from scalegmn.nn.invariant import mlp
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import Architecture

VARIANTS = ("np", "hnp")
POOLS = ("np", "hnp")
HEAD_ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU}


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


def layer_structure(arch: Architecture) -> tuple:
    """What an NFN's parameters depend on: the number of layers, the input and output neurons, the kernels,
    the pooling and the flatten size; everything but the hidden widths."""
    return (arch.num_layers, arch.layer_sizes[0], arch.layer_sizes[-1], arch.kernel_shapes, arch.strides,
            arch.paddings, arch.pooling, arch.flatten_size)


class InputStandardizer(nn.Module):
    """Standardizes every weight and bias array ``(B, 1, n_out, [n_in, *kernel])`` with the mean and std of the
    training networks, pooled over the batch and each hidden-neuron axis and kept per input neuron, output
    neuron and kernel position: it commutes with hidden-neuron permutations, so the model stays invariant. The
    identity until :meth:`fit`. (The NFN paper's NP model, nfn's ``experiments/data_utils.py``
    ``compute_mean_std``, standardizes each entry on its own, which breaks that invariance by the sampling
    noise of the statistics.)"""

    def __init__(self, spec) -> None:
        super().__init__()
        self.num_layers = len(spec.weight_spec)
        for l, (w, b) in enumerate(zip(spec.weight_spec, spec.bias_spec)):
            for kind, shape in (("weight", w.shape), ("bias", b.shape)):
                stat = [1, 1, *(1 if a in self._hidden_axes(l, kind) else n for a, n in enumerate(shape, 2))]
                self.register_buffer(f"{kind}_mean_{l}", torch.zeros(stat))
                self.register_buffer(f"{kind}_std_{l}", torch.ones(stat))

    def _hidden_axes(self, layer: int, kind: str) -> tuple[int, ...]:
        """The axes of a layer's array that hidden-neuron permutations act on (2: outputs, 3: inputs)."""
        out_hidden = (2,) if layer < self.num_layers - 1 else ()
        in_hidden = (3,) if kind == "weight" and layer > 0 else ()
        return out_hidden + in_hidden

    @torch.no_grad()
    def fit(self, features: Iterable) -> None:
        """Set the statistics from ``features`` (``WeightSpaceFeatures`` batches of the training networks);
        a std below 1e-5 counts as 1, as in nfn."""
        sums: dict[tuple[str, int], tuple[Tensor, Tensor, int]] = {}
        for feats in features:
            for kind, arrays in (("weight", feats.weights), ("bias", feats.biases)):
                for l, x in enumerate(arrays):
                    axes = (0, *self._hidden_axes(l, kind))
                    x = x.double()
                    total = x.sum(axes, keepdim=True)
                    part = (total, x.square().sum(axes, keepdim=True), x.numel() // total.numel())
                    before = sums.get((kind, l))
                    sums[(kind, l)] = part if before is None else tuple(a + b for a, b in zip(before, part))
        if not sums:
            raise ValueError("no training networks to standardize the inputs with")
        for (kind, l), (total, squares, count) in sums.items():
            mean = total / count
            std = (squares / count - mean.square()).clamp_min(0).sqrt()
            getattr(self, f"{kind}_mean_{l}").copy_(mean)
            getattr(self, f"{kind}_std_{l}").copy_(torch.where(std < 1e-5, torch.ones_like(std), std))

    def forward(self, feats):
        from nfn.common import WeightSpaceFeatures

        def standardize(kind: str, arrays) -> list[Tensor]:
            return [(x - getattr(self, f"{kind}_mean_{l}")) / getattr(self, f"{kind}_std_{l}")
                    for l, x in enumerate(arrays)]

        return WeightSpaceFeatures(standardize("weight", feats.weights), standardize("bias", feats.biases))


class NFN(nn.Module):
    """``(B, out_dim)``: NP (or HNP) equivariant layers with ReLU, an invariant pooling (``pool``, default the
    variant's), then an MLP head of ``head_layers`` linear layers, ``head_hidden`` wide (default
    ``2 * hidden``), with ``head_activation`` between them. The layers have ``channels`` output channels each
    (default ``layers`` times ``hidden``). Networks may differ from the example in their hidden widths only
    (:func:`layer_structure`).

    The NFN paper's generalization-prediction models (nfn's ``experiments/predict_gen_configs/nfnet/``):
    ``hnp_inv.yaml`` is HNP with channels ``[16, 16, 5]``, HNP pooling and a ReLU head of 3 layers 1000 wide
    (``head_cls/mlp.yaml``, ``models.py`` ``MlpHead``); ``np_inv.yaml`` is the same with NP layers whose first
    and last layers add learned input/output position embeddings (``io_embed``, mode ``NP-PosEmb``) and
    standardized inputs (``normalize``, :class:`InputStandardizer`, fitted by :meth:`fit_inputs`).
    A conv layer's channels are ``kh*kw*c`` wide inside NP/HNP layers (4.6M / 9.3M parameters on the Small CNN
    Zoo architecture at 32 channels, four times that at 64)."""

    equivariant = False  # invariant only: (B, out_dim) outputs, no equivariant variant
    symmetries = ("permutation",)  # hidden-neuron permutations (NP and HNP); not scale invariant

    def __init__(self, example, out_dim: int, hidden: int = 32, layers: int = 3, variant: str = "np",
                 head_layers: int = 2, channels: list[int] | None = None, pool: str | None = None,
                 io_embed: bool = False, normalize: bool = False, head_hidden: int | None = None,
                 head_activation: str = "silu") -> None:
        super().__init__()
        from nfn.layers import HNPLinear, HNPPool, NPLinear, NPPool, TupleOp

        pool = variant if pool is None else pool
        for name, value, allowed in (("variant", variant, VARIANTS), ("pool", pool, POOLS),
                                     ("head_activation", head_activation, tuple(HEAD_ACTIVATIONS))):
            if value not in allowed:
                raise ValueError(f"unknown NFN {name} {value!r}; expected one of {', '.join(allowed)}")
        if io_embed and variant != "np":
            raise ValueError("io_embed is for NP layers (HNP layers already tell input and output neurons apart)")
        self.arch: Architecture = example.arch if not isinstance(example.arch, list) else example.arch[0]
        self.spec = network_spec(self.arch)
        self._specs = {self.arch: self.spec}
        widths = [hidden] * layers if channels is None else [int(c) for c in channels]
        if not widths or min(widths) < 1:
            raise ValueError(f"NFN needs at least one layer of >= 1 channels, got {widths}")
        mods: list[nn.Module] = []
        for c_in, c_out in zip([1, *widths[:-1]], widths):
            layer = NPLinear(self.spec, c_in, c_out, io_embed=io_embed) if variant == "np" else \
                HNPLinear(self.spec, c_in, c_out)
            mods += [layer, TupleOp(nn.ReLU())]
        self.standardize = InputStandardizer(self.spec) if normalize else None
        self.layers = nn.Sequential(*mods)  # the NP/HNP layers (saved as `equivariant.*` before it was renamed)
        self._register_load_state_dict_pre_hook(_legacy_layer_keys)
        pool_cls = NPPool if pool == "np" else HNPPool
        self.pool = pool_cls(self.spec)
        self.head = mlp(widths[-1] * pool_cls.get_num_outs(self.spec), head_hidden or 2 * hidden, out_dim,
                        head_layers, activation=HEAD_ACTIVATIONS[head_activation])

    def _spec_of(self, arch: Architecture):
        """The ``NetworkSpec`` of ``arch``, which must have the example's layer structure."""
        if arch not in self._specs:
            if layer_structure(arch) != layer_structure(self.arch):
                raise ValueError(f"NFN was built for networks shaped like {self.arch.key} (any hidden widths); "
                                 f"got architecture {arch.key}")
            self._specs[arch] = network_spec(arch)
        return self._specs[arch]

    def _features(self, data) -> list[tuple[Tensor, "WeightSpaceFeatures"]]:
        """The batch's networks per architecture: ``(indices (B_a,), features)``, the weights as ``nfn``
        ``WeightSpaceFeatures`` with one channel, in the head's dtype."""
        from nfn.common import WeightSpaceFeatures

        dtype = self.head[0].weight.dtype
        groups = []
        for indices, group in WeightBatch.from_graphs(data):
            spec = self._spec_of(group.arch)
            weights = [w.reshape(w.shape[0], 1, *s.shape).to(dtype) for w, s in zip(group.weights, spec.weight_spec)]
            groups.append((indices, WeightSpaceFeatures(weights, [b.unsqueeze(1).to(dtype) for b in group.biases])))
        return groups

    def fit_inputs(self, batches: Iterable) -> None:
        """Fit the input standardization (``normalize``) to the training networks' ``batches``; a no-op
        without it. The trainer calls it once before training."""
        if self.standardize is not None:
            self.standardize.fit(feats for b in batches for _, feats in self._features(b))

    def _pooled(self, feats) -> Tensor:
        """``(B_a, channels * pooled)`` invariant features of one architecture's networks."""
        if self.standardize is not None:
            feats = self.standardize(feats)
        return self.pool(self.layers(feats)).flatten(1)

    def forward(self, data) -> Tensor:
        groups = self._features(data)
        head = self.head[0].weight
        pooled = head.new_empty(sum(len(indices) for indices, _ in groups), head.shape[1])
        for indices, feats in groups:
            pooled[indices] = self._pooled(feats)
        return self.head(pooled)


def _legacy_layer_keys(state_dict, prefix, *_args) -> None:
    """Read checkpoints that saved the layers as ``equivariant.*`` (now ``layers.*``; ``equivariant`` is the
    class's declaration that it has no equivariant variant)."""
    old = prefix + "equivariant."
    for key in [k for k in state_dict if k.startswith(old)]:
        state_dict[prefix + "layers." + key[len(old):]] = state_dict.pop(key)
