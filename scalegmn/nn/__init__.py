"""ScaleGMN building blocks and the model (DESIGN §6): one idea per module.

- :mod:`~scalegmn.nn.modes`: which scaling group each node is canonicalized for (the symmetry switch).
- :mod:`~scalegmn.nn.invariant`: ScaleInv (canonicalize / symmetrize, then an MLP).
- :mod:`~scalegmn.nn.equivariant`: ScaleEq (bias-free linear map gated by ScaleInv).
- :mod:`~scalegmn.nn.reciprocal`: the numerically stable reciprocal for positive scalings.
- :mod:`~scalegmn.nn.embedding`: node and edge positional embeddings.
- :mod:`~scalegmn.nn.edges`: sparse edge operators and factorized edge states (messages without E x d tensors).
- :mod:`~scalegmn.nn.layer`: one message-passing layer (edge update, message, node update).
- :mod:`~scalegmn.nn.readout`: invariant readouts and the equivariant head.
- :mod:`~scalegmn.nn.model`: :class:`ScaleGMN` (also GMN through ``symmetry="permutation"``).
- :mod:`~scalegmn.nn.benchmark`: training throughput (graphs/s) of any registered metanetwork.
"""

from scalegmn.nn.model import ScaleGMN, ScaleGMNConfig

__all__ = ["ScaleGMN", "ScaleGMNConfig"]
