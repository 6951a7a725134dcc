"""ScaleGMN building blocks and the model (DESIGN §6): one idea per module.

- :mod:`~scalegmn.nn.modes`: which scaling group each node is canonicalized for (the symmetry switch).
- :mod:`~scalegmn.nn.invariant`: ScaleInv (canonicalize / symmetrize, then an MLP).
- :mod:`~scalegmn.nn.equivariant`: ScaleEq (bias-free linear map gated by ScaleInv).
- :mod:`~scalegmn.nn.norms`: norms and LayerNorm that cannot overflow.
- :mod:`~scalegmn.nn.reciprocal`: the numerically stable reciprocal for positive scalings.
- :mod:`~scalegmn.nn.embedding`: node positional embeddings.
- :mod:`~scalegmn.nn.rows`: ScaleEq nets on rows with a scaling symmetry, plain MLPs on the others.
- :mod:`~scalegmn.nn.per_edge`: the paper's layer (per-edge states and messages, edge updates).
- :mod:`~scalegmn.nn.edges`: sparse edge operators (messages of the factorized layer without E x d tensors).
- :mod:`~scalegmn.nn.factorized`: the factorized fast layer of the ``*-fast`` models.
- :mod:`~scalegmn.nn.readout`: invariant readouts and the equivariant head.
- :mod:`~scalegmn.nn.model`: :class:`ScaleGMN` (also GMN through ``symmetry="permutation"``).
"""

from scalegmn.nn.model import ScaleGMN, ScaleGMNConfig

__all__ = ["ScaleGMN", "ScaleGMNConfig"]
