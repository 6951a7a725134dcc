"""The augmentation stage: K random function-preserving symmetry copies per network, streamed.

Copy ``k`` of network ``id`` is ``random_symmetry`` of it under a generator seeded with
:func:`copy_seed` ``(seed, id, k)``, so any copy can be regenerated on its own. Copies carry the source's
metadata plus ``id = "<id>~aug<k>"``, ``source_id`` and ``aug_seed``. With ``canonicalize`` every sine
network (originals and copies) is phase-canonicalized; other activations are left as they are.
Networks whose metadata puts them in the val or test split get no copies (copies only help training);
networks that already are copies are passed through unchanged.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch

from scalegmn.symmetry import phase_canonicalize, random_symmetry
from scalegmn.weights import NetworkWeights


@dataclass(frozen=True)
class AugmentConfig:
    """``copies`` per network (0: none), base ``seed``, ReLU scale range ``exp(U[-max_log_scale, max_log_scale])``,
    whether to permute / scale, and whether to phase-canonicalize sine networks."""

    copies: int = 0
    seed: int = 0
    max_log_scale: float = math.log(4.0)
    permute: bool = True
    scale: bool = True
    canonicalize: bool = False

    def __post_init__(self) -> None:
        if self.copies < 0:
            raise ValueError(f"copies must be >= 0, got {self.copies}")
        if not (self.max_log_scale >= 0 and math.isfinite(self.max_log_scale)):
            raise ValueError(f"max_log_scale must be finite and >= 0, got {self.max_log_scale}")


def copy_seed(seed: int, net_id: str, k: int) -> int:
    """A 63-bit seed for copy ``k`` of network ``net_id``, derived from the base ``seed`` (stable across runs)."""
    digest = hashlib.sha256(f"{seed}\x00{net_id}\x00{k}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def _canonical(net: NetworkWeights, config: AugmentConfig) -> NetworkWeights:
    return phase_canonicalize(net) if config.canonicalize and net.activation == "sine" else net


def augment_network(net: NetworkWeights, config: AugmentConfig) -> list[NetworkWeights]:
    """``[original, copy_0, ..., copy_{K-1}]`` (canonicalized if asked); ``ValueError`` without ``meta["id"]``."""
    if net.meta.get("id") is None:
        raise ValueError("network has no meta['id'] (augmented copies are named after their source's id)")
    out = [_canonical(net, config)]
    if "aug_seed" in net.meta or net.meta.get("split") in ("val", "test"):
        return out
    net_id = str(net.meta["id"])
    for k in range(config.copies):
        seed = copy_seed(config.seed, net_id, k)
        copy = random_symmetry(
            net,
            torch.Generator().manual_seed(seed),
            permute=config.permute,
            scale=config.scale,
            max_log_scale=config.max_log_scale,
        )
        copy.meta.update(id=f"{net_id}~aug{k}", source_id=net_id, aug_seed=seed)
        out.append(_canonical(copy, config))
    return out


def augment_stream(nets: Iterable[NetworkWeights], config: AugmentConfig) -> Iterator[NetworkWeights]:
    """Each network followed by its copies, one source at a time (memory does not grow with the zoo)."""
    for i, net in enumerate(nets):
        try:
            yield from augment_network(net, config)
        except ValueError as err:
            raise ValueError(f"network {i}: {err}") from None
