"""The digits-cnn zoo: a scaled-down Small CNN Zoo trained on scikit-learn's 8x8 digits.

Every member is ``conv3x3/2 -> act -> dropout -> conv3x3/2 -> act -> dropout -> conv3x3/2 -> act -> dropout
-> global average pool -> linear -> 10`` (padding 1), with its own hyper-parameters sampled as in
Unterthiner et al. (2020): activation, optimizer, log-uniform learning rate, weight init (and init std),
log-uniform L2, dropout and train fraction; optionally its own channel width.

Members are trained many at once: the parameters of all members of one (width, activation) group are
stacked along a leading member axis and every convolution is a batched matrix product (the first conv on
pre-extracted 3x3 patches, the others as dense ``(positions*in, positions*out)`` matrices built from the
kernels). Every member takes the same number of steps, ``epochs * ceil(n_train / batch_size)``, each on a
minibatch drawn with replacement from its own training subset (a member with train fraction ``f`` sees
its ``f * n_train`` images ``1/f`` times as often). A member whose update turns non-finite is frozen at its
last finite weights (``meta["diverged"] = True``).

Determinism: member ``i``'s hyper-parameters, initial weights and training subset depend only on
``(seed, i)``; minibatches and dropout masks depend on ``(seed, block, group)`` where blocks are
``block_size`` consecutive members, so any block-aligned ``start``/``count`` piece of a zoo equals the
same members of the whole zoo.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from scalegmn.core.weights import NetworkWeights
from scalegmn.zoo.digits import DIGITS_SIZE, DigitsSplit, digits_split
from scalegmn.zoo.parallel import map_tasks, task_seed

OPTIMIZERS: tuple[str, ...] = ("adam", "rmsprop", "sgd")
INITS: tuple[str, ...] = ("he_normal", "glorot_normal", "orthogonal", "normal")
CNN_ACTIVATIONS: tuple[str, ...] = ("relu", "tanh")
NUM_CLASSES = 10
KERNEL = 3
STRIDE = 2
PADDING = 1
NUM_CONVS = 3


@dataclass(frozen=True)
class CnnZooConfig:
    """Everything that determines a digits-cnn zoo (ranges are ``(low, high)``, sampled log-uniformly
    for ``learning_rate``, ``init_std``, ``l2reg`` and uniformly for ``dropout``)."""

    size: int = 2000
    seed: int = 0
    epochs: int = 10
    batch_size: int = 32
    widths: tuple[int, ...] = (4, 8)
    activations: tuple[str, ...] = CNN_ACTIVATIONS
    optimizers: tuple[str, ...] = OPTIMIZERS
    inits: tuple[str, ...] = INITS
    train_fractions: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)
    learning_rate: tuple[float, float] = (5e-4, 5e-2)
    init_std: tuple[float, float] = (1e-3, 0.5)
    l2reg: tuple[float, float] = (1e-8, 1e-2)
    dropout: tuple[float, float] = (0.0, 0.7)
    test_fraction: float = 0.3
    data_seed: int = 0
    block_size: int = 500
    name: str = "digits-cnn"

    def __post_init__(self) -> None:
        for key in ("widths", "activations", "optimizers", "inits"):
            object.__setattr__(self, key, tuple(getattr(self, key)))
        for key in ("train_fractions", "learning_rate", "init_std", "l2reg", "dropout"):
            try:  # YAML reads 1e-8 (no dot) as a string
                object.__setattr__(self, key, tuple(float(v) for v in getattr(self, key)))
            except (TypeError, ValueError):
                raise ValueError(f"CnnZooConfig: {key} must be a list of numbers, got {getattr(self, key)!r}") from None
        if any(len(getattr(self, key)) != 2 for key in ("learning_rate", "init_std", "l2reg", "dropout")):
            raise ValueError("CnnZooConfig: learning_rate, init_std, l2reg and dropout are [low, high] ranges")
        checks = [
            (self.size >= 1, "size must be >= 1"),
            (self.epochs >= 1 and self.batch_size >= 1, "epochs and batch_size must be >= 1"),
            (self.block_size >= 1, "block_size must be >= 1"),
            (len(self.widths) > 0 and all(w >= 1 for w in self.widths), "widths must be a non-empty list of ints >= 1"),
            (len(self.activations) > 0 and set(self.activations) <= set(CNN_ACTIVATIONS),
             f"activations must be a non-empty subset of {CNN_ACTIVATIONS}"),
            (len(self.optimizers) > 0 and set(self.optimizers) <= set(OPTIMIZERS),
             f"optimizers must be a non-empty subset of {OPTIMIZERS}"),
            (len(self.inits) > 0 and set(self.inits) <= set(INITS), f"inits must be a non-empty subset of {INITS}"),
            (len(self.train_fractions) > 0 and all(0 < f <= 1 for f in self.train_fractions),
             "train_fractions must lie in (0, 1]"),
            (0 < self.learning_rate[0] <= self.learning_rate[1], "learning_rate must be 0 < low <= high"),
            (0 < self.init_std[0] <= self.init_std[1], "init_std must be 0 < low <= high"),
            (0 < self.l2reg[0] <= self.l2reg[1], "l2reg must be 0 < low <= high"),
            (0 <= self.dropout[0] <= self.dropout[1] < 1, "dropout must be 0 <= low <= high < 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"CnnZooConfig: {message}")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class MemberHparams:
    """The hyper-parameters of one zoo member (``seed`` seeds its init and training subset)."""

    index: int
    activation: str
    optimizer: str
    learning_rate: float
    init: str
    init_std: float
    l2reg: float
    dropout: float
    train_fraction: float
    width: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "index"}


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def sample_hparams(config: CnnZooConfig, index: int) -> MemberHparams:
    """Member ``index``'s hyper-parameters; depends only on ``(config.seed, index)`` and the ranges."""
    rng = np.random.default_rng([config.seed, index])
    return MemberHparams(
        index=index,
        activation=str(rng.choice(config.activations)),
        optimizer=str(rng.choice(config.optimizers)),
        learning_rate=_log_uniform(rng, config.learning_rate),
        init=str(rng.choice(config.inits)),
        init_std=_log_uniform(rng, config.init_std),
        l2reg=_log_uniform(rng, config.l2reg),
        dropout=float(rng.uniform(*config.dropout)),
        train_fraction=float(rng.choice(config.train_fractions)),
        width=int(rng.choice(config.widths)),
        seed=int(rng.integers(2**62)),
    )


def _init_tensor(shape: tuple[int, ...], hp: MemberHparams, generator: torch.Generator) -> Tensor:
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    t = torch.empty(shape)
    if hp.init == "orthogonal":
        return torch.nn.init.orthogonal_(t, generator=generator)
    std = {"he_normal": math.sqrt(2.0 / fan_in), "glorot_normal": math.sqrt(2.0 / (fan_in + fan_out)),
           "normal": hp.init_std}[hp.init]
    return torch.nn.init.normal_(t, 0.0, std, generator=generator)


def member_layer_shapes(width: int, in_channels: int = 1) -> list[tuple[int, ...]]:
    """Weight shapes (PyTorch layout) of a member: three convs and the linear head."""
    convs = [(width, c_in, KERNEL, KERNEL) for c_in in [in_channels] + [width] * (NUM_CONVS - 1)]
    return convs + [(NUM_CLASSES, width)]


def _spatial_sizes(size: int) -> list[int]:
    sizes = [size]
    for _ in range(NUM_CONVS):
        sizes.append((sizes[-1] + 2 * PADDING - KERNEL) // STRIDE + 1)
    return sizes


def conv_tap_index(size: int) -> Tensor:
    """``taps (size*size, out*out)``: which of the 9 kernel taps (row-major) connects input position ``p``
    to output position ``q`` of a 3x3 / stride 2 / zero padding 1 convolution, or 9 (none); positions
    are row-major. ``W_padded[..., taps]`` turns kernels into the dense matrix of the convolution."""
    out = (size + 2 * PADDING - KERNEL) // STRIDE + 1
    taps = torch.full((size * size, out * out), KERNEL * KERNEL, dtype=torch.long)
    for oy in range(out):
        for ox in range(out):
            for ky in range(KERNEL):
                for kx in range(KERNEL):
                    iy, ix = oy * STRIDE - PADDING + ky, ox * STRIDE - PADDING + kx
                    if 0 <= iy < size and 0 <= ix < size:
                        taps[iy * size + ix, oy * out + ox] = ky * KERNEL + kx
    return taps


@dataclass
class StackedCnn:
    """The parameters of ``M`` members of one width and activation, stacked on a leading member axis.

    ``weights[l]``: conv ``(M, out, in, 9)`` (row-major 3x3 taps) or linear ``(M, 10, width)``;
    ``biases[l]``: ``(M, out)``. Inputs are ``size x size`` single-channel images.
    """

    weights: list[Tensor]
    biases: list[Tensor]
    activation: str
    size: int = DIGITS_SIZE
    taps: list[Tensor] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.taps:
            self.taps = [conv_tap_index(s) for s in _spatial_sizes(self.size)[1:NUM_CONVS]]

    @classmethod
    def from_networks(cls, nets: Sequence[NetworkWeights]) -> "StackedCnn":
        """Stack networks of one architecture (the inverse of :meth:`network`)."""
        weights = [torch.stack([n.weights[l].reshape(*n.weights[l].shape[:2], -1) if n.weights[l].dim() == 4
                                else n.weights[l] for n in nets]) for l in range(NUM_CONVS + 1)]
        biases = [torch.stack([n.biases[l] for n in nets]) for l in range(NUM_CONVS + 1)]
        return cls(weights, biases, nets[0].activation)

    @property
    def members(self) -> int:
        return int(self.weights[0].shape[0])

    def network(self, m: int, meta: dict[str, Any] | None = None) -> NetworkWeights:
        """Member ``m`` as a :class:`NetworkWeights` (float32, PyTorch layout)."""
        weights = [w[m].detach().reshape(*w.shape[1:3], KERNEL, KERNEL).clone() if l < NUM_CONVS
                   else w[m].detach().clone() for l, w in enumerate(self.weights)]
        return NetworkWeights(weights, [b[m].detach().clone() for b in self.biases], self.activation,
                              strides=[STRIDE] * NUM_CONVS + [1], paddings=[PADDING] * NUM_CONVS + [0],
                              pooling="avg", meta=dict(meta or {}))

    def _act(self, z: Tensor) -> Tensor:
        return torch.relu(z) if self.activation == "relu" else torch.tanh(z)

    def logits_from_patches(self, patches: Tensor, keep: Sequence[Tensor | None] = ()) -> Tensor:
        """Logits ``(M, B, 10)`` from first-layer patches ``(M, B, P1, 9)``; ``keep[l]`` are optional
        dropout multipliers ``(M, B, P_l, width)`` applied after each conv's activation."""
        m, b, p1, _ = patches.shape
        w1 = self.weights[0]
        z = torch.baddbmm(self.biases[0].unsqueeze(1), patches.reshape(m, b * p1, -1),
                          w1.reshape(m, w1.shape[1], -1).transpose(1, 2))
        h = self._act(z).view(m, b, p1, -1)
        for l in range(NUM_CONVS):
            if l < len(keep) and keep[l] is not None:
                h = h * keep[l]
            if l == NUM_CONVS - 1:
                break
            taps, w = self.taps[l], self.weights[l + 1]
            dense = F.pad(w, (0, 1))[..., taps].permute(0, 3, 2, 4, 1).reshape(m, taps.shape[0] * w.shape[2], -1)
            bias = self.biases[l + 1].repeat(1, taps.shape[1]).unsqueeze(1)
            h = self._act(torch.baddbmm(bias, h.reshape(m, b, -1), dense)).view(m, b, taps.shape[1], w.shape[1])
        pooled = h.mean(dim=2)
        return torch.baddbmm(self.biases[-1].unsqueeze(1), pooled, self.weights[-1].transpose(1, 2))

    def logits(self, images: Tensor) -> Tensor:
        """Logits ``(M, B, 10)`` of every member on the same images ``(B, 1, size, size)``."""
        patches = image_patches(images)
        return self.logits_from_patches(patches.unsqueeze(0).expand(self.members, *patches.shape))


def image_patches(images: Tensor) -> Tensor:
    """3x3 / stride 2 / padding 1 patches of single-channel images: ``(B, 1, H, W) -> (B, P1, 9)``."""
    return F.unfold(images, KERNEL, padding=PADDING, stride=STRIDE).transpose(1, 2).contiguous()


class MemberwiseOptimizer:
    """Adam, RMSprop or plain SGD (Keras defaults) chosen per member, each member with its own learning
    rate and L2 penalty on its kernels, over stacked parameters ``(M, ...)``. Members whose update
    would be non-finite are frozen (``self.active``)."""

    BETA1, BETA2, RHO, EPS = 0.9, 0.999, 0.9, 1e-7

    def __init__(self, params: Sequence[Tensor], kinds: Sequence[str], lrs: Tensor, l2: Tensor,
                 decay: Sequence[bool]) -> None:
        self.params = list(params)
        self.decay = list(decay)
        self.lrs, self.l2 = lrs, l2
        kind = torch.tensor([OPTIMIZERS.index(k) for k in kinds])
        self.is_adam, self.is_rms = kind == OPTIMIZERS.index("adam"), kind == OPTIMIZERS.index("rmsprop")
        self.square_decay = torch.where(self.is_rms, self.RHO, self.BETA2)
        self.first = [torch.zeros_like(p) for p in self.params]
        self.second = [torch.zeros_like(p) for p in self.params]
        self.active = torch.ones(len(kinds), dtype=torch.bool)
        self.t = 0

    def step(self, grads: Sequence[Tensor]) -> None:
        self.t += 1
        c1, c2 = 1 - self.BETA1**self.t, 1 - self.BETA2**self.t
        updated, finite = [], self.active.clone()
        for p, g, m1, m2, decay in zip(self.params, grads, self.first, self.second, self.decay):
            view = (-1,) + (1,) * (p.dim() - 1)
            if decay:
                g = g + 2.0 * self.l2.view(view) * p
            m1.mul_(self.BETA1).add_(g, alpha=1 - self.BETA1)
            decay_sq = self.square_decay.view(view)
            m2.mul_(decay_sq).add_((1 - decay_sq) * g * g)  # Adam's or RMSprop's mean square, per member
            adam = (m1 / c1) / ((m2 / c2).sqrt() + self.EPS)
            rms = g / (m2.sqrt() + self.EPS)
            direction = torch.where(self.is_adam.view(view), adam, torch.where(self.is_rms.view(view), rms, g))
            new = p - self.lrs.view(view) * direction
            finite &= torch.isfinite(new).flatten(1).all(dim=1)
            updated.append(new)
        for p, new in zip(self.params, updated):
            view = (-1,) + (1,) * (p.dim() - 1)
            p.copy_(torch.where(finite.view(view), new, p))
        self.active = finite


@dataclass(frozen=True)
class _Data:
    patches: Tensor  # (n_digits, P1, 9) CNN input patches, pixels in [-1, 1]
    labels: Tensor  # (n_digits,)
    train_index: Tensor
    test_index: Tensor

    @classmethod
    def from_split(cls, split: DigitsSplit) -> "_Data":
        return cls(image_patches(split.signed(torch.arange(len(split.labels)))), split.labels,
                   split.train_index, split.test_index)


def _accuracy(model: StackedCnn, data: _Data, index: Tensor, chunk: int = 256) -> tuple[Tensor, Tensor]:
    """Per-member correctness ``(M, n)`` (bool) and mean cross-entropy ``(M,)`` on digits ``index``."""
    correct, losses = [], []
    for start in range(0, len(index), chunk):
        idx = index[start:start + chunk]
        patches = data.patches[idx].unsqueeze(0).expand(model.members, -1, -1, -1)
        logits = model.logits_from_patches(patches)
        target = data.labels[idx].unsqueeze(0).expand(model.members, -1)
        correct.append(logits.argmax(dim=-1) == target)
        losses.append(F.cross_entropy(logits.transpose(1, 2), target, reduction="none").sum(dim=1))
    return torch.cat(correct, dim=1), torch.stack(losses).sum(dim=0) / len(index)


def train_group(members: Sequence[MemberHparams], data: _Data, config: CnnZooConfig,
                generator: torch.Generator, progress: tqdm | None = None) -> list[NetworkWeights]:
    """Train members of one width and activation together; returns them with ``meta`` filled in."""
    width, activation = members[0].width, members[0].activation
    n_train = len(data.train_index)
    inits, orders = [], []
    for hp in members:
        g = torch.Generator().manual_seed(hp.seed)
        inits.append([_init_tensor(s, hp, g) for s in member_layer_shapes(width)])
        orders.append(torch.randperm(n_train, generator=g))
    model = StackedCnn(
        [torch.stack([layers[l] for layers in inits]).flatten(3) if l < NUM_CONVS
         else torch.stack([layers[l] for layers in inits]) for l in range(NUM_CONVS + 1)],
        [torch.zeros(len(members), s[0]) for s in member_layer_shapes(width)], activation)
    params = model.weights + model.biases
    for p in params:
        p.requires_grad_(True)
    optimizer = MemberwiseOptimizer(
        params, [hp.optimizer for hp in members], torch.tensor([hp.learning_rate for hp in members]),
        torch.tensor([hp.l2reg for hp in members]), decay=[True] * len(model.weights) + [False] * len(model.biases))
    order = torch.stack(orders)
    subset = torch.tensor([max(1, round(hp.train_fraction * n_train)) for hp in members])
    keep_prob = 1.0 - torch.tensor([hp.dropout for hp in members])
    m, b = len(members), config.batch_size
    positions = [data.patches.shape[1]] + [t.shape[1] for t in model.taps]
    for _ in range(config.epochs * math.ceil(n_train / b)):
        pick = (torch.rand(m, b, generator=generator) * subset[:, None]).long().clamp_max_(subset[:, None] - 1)
        idx = data.train_index[order.gather(1, pick)]
        keep = [(torch.rand(m, b, pos, width, generator=generator) < keep_prob[:, None, None, None])
                / keep_prob[:, None, None, None] for pos in positions]
        logits = model.logits_from_patches(data.patches[idx], keep)
        loss = F.cross_entropy(logits.reshape(m * b, NUM_CLASSES), data.labels[idx].reshape(-1), reduction="sum") / b
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            optimizer.step(grads)
        if progress is not None:
            progress.update(1)
    with torch.no_grad():
        test_correct, test_loss = _accuracy(model, data, data.test_index)
        train_correct, _ = _accuracy(model, data, data.train_index)
    in_subset = torch.zeros(m, n_train, dtype=torch.bool).scatter_(
        1, order, torch.arange(n_train).expand(m, -1) < subset[:, None])
    train_acc = (train_correct & in_subset).sum(dim=1) / subset
    nets = []
    for i, hp in enumerate(members):
        loss_i = float(test_loss[i])
        meta = {"id": f"{config.name}-{hp.index:06d}", "source": config.name,
                "score": float(test_correct[i].float().mean()),
                "train_accuracy": float(train_acc[i]), "test_loss": loss_i if math.isfinite(loss_i) else None,
                "diverged": not bool(optimizer.active[i]),
                "hparams": {**hp.to_dict(), "epochs": config.epochs, "batch_size": config.batch_size}}
        nets.append(model.network(i, meta))
    return nets


@functools.lru_cache(maxsize=4)
def _digits_data(test_fraction: float, data_seed: int) -> _Data:
    return _Data.from_split(digits_split(test_fraction, data_seed))


def _train_task(task: tuple[list[MemberHparams], CnnZooConfig, int], progress: tqdm | None = None
                ) -> list[NetworkWeights]:
    members, config, seed = task
    return train_group(members, _digits_data(config.test_fraction, config.data_seed), config,
                       torch.Generator().manual_seed(seed), progress)


def _plan(config: CnnZooConfig, start: int, stop: int) -> list[tuple[list[MemberHparams], CnnZooConfig, int]]:
    """One task per (block, width, activation) group of members ``start .. stop-1``."""
    tasks = []
    for block_start in range(start, stop, config.block_size):
        groups: dict[tuple[int, str], list[MemberHparams]] = {}
        for i in range(block_start, min(block_start + config.block_size, stop)):
            hp = sample_hparams(config, i)
            groups.setdefault((hp.width, hp.activation), []).append(hp)
        block = block_start // config.block_size
        tasks += [(members, config, task_seed(config.seed, block, width, CNN_ACTIVATIONS.index(act)))
                  for (width, act), members in sorted(groups.items())]
    return tasks


def generate_cnn_zoo(config: CnnZooConfig, start: int = 0, count: int | None = None, workers: int = 1,
                     progress: bool = True) -> list[NetworkWeights]:
    """Train members ``start .. start+count-1`` of the zoo (default: all), in index order.

    ``start`` and ``start + count`` must be multiples of ``config.block_size`` (or the zoo's end), so
    that pieces generated separately are identical to the same members of the whole zoo. ``workers``
    processes train groups in parallel (same results for any number of workers).
    """
    count = config.size - start if count is None else count
    stop = start + count
    if not 0 <= start < stop <= config.size:
        raise ValueError(f"members {start}..{stop - 1} are not inside a zoo of size {config.size}")
    for name, value in (("start", start), ("start + count", stop)):
        if value % config.block_size and value != config.size:
            raise ValueError(f"{name} = {value} must be a multiple of block_size = {config.block_size} "
                             f"(or the zoo size {config.size})")
    tasks = _plan(config, start, stop)
    steps = config.epochs * math.ceil(len(_digits_data(config.test_fraction, config.data_seed).train_index)
                                      / config.batch_size)
    with tqdm(total=steps * len(tasks), desc=f"{config.name} {start}..{stop - 1}", unit="step",
              disable=not progress) as bar:
        results = map_tasks(_train_task, tasks, workers, bar, units=lambda _: steps)
    nets = {net.meta["id"]: net for group in results for net in group}
    return [nets[f"{config.name}-{i:06d}"] for i in range(start, stop)]
