"""Each ScaleGMN building block of the factorized layer and the shared ones, checked numerically for the
symmetry it claims (float64). The per-edge layer's blocks: tests/test_nn_per_edge.py."""

import pytest
import torch

from scalegmn.core.random_networks import random_mlp
from scalegmn.core.graph import collate, to_graph
from scalegmn.nn.edges import EdgeOperator, aggregate, csr_matrices
from scalegmn.nn.embedding import NodeEmbedding
from scalegmn.nn.equivariant import ScaleEq
from scalegmn.nn.invariant import ScaleInv
from scalegmn.nn.factorized import EdgeGates, Message, NodeUpdate
from scalegmn.nn.modes import PLAIN, POSITIVE, SIGN, node_modes
from scalegmn.nn.readout import EquivariantHead, InvariantReadout
from scalegmn.nn.reciprocal import stable_reciprocal

D = 16


def _rows(gen: torch.Generator, n: int = 30):
    """Random rows, a mode per row and a group element per row (q > 0, ±1, or 1)."""
    mode = torch.tensor([PLAIN, POSITIVE, SIGN] * (n // 3))
    q_pos = torch.exp(torch.empty(n, dtype=torch.float64).uniform_(-2.0, 2.0, generator=gen))
    q_sign = torch.randint(0, 2, (n,), generator=gen).double() * 2 - 1
    q = torch.where(mode == POSITIVE, q_pos, torch.where(mode == SIGN, q_sign, torch.ones(n)))
    return torch.randn(n, D, generator=gen), mode, q.unsqueeze(1)


def _rel(a, b):
    return float(((a - b).norm() / a.norm()).detach())


pytestmark = pytest.mark.usefixtures("float64_single_thread")


def test_scale_inv_is_invariant_to_each_rows_group():
    x, mode, q = _rows(torch.Generator().manual_seed(1))
    inv = ScaleInv(D, 32, 8, layers=2)
    assert _rel(inv(x, mode), inv(q * x, mode)) < 1e-12


def test_scale_inv_positive_rows_are_not_sign_invariant():
    x, _, _ = _rows(torch.Generator().manual_seed(2))
    mode = torch.full((x.shape[0],), POSITIVE)
    inv = ScaleInv(D, 32, 8)
    assert _rel(inv(x, mode), inv(-x, mode)) > 1e-3


def test_scale_inv_plain_rows_see_the_magnitude():
    x, _, _ = _rows(torch.Generator().manual_seed(3))
    mode = torch.full((x.shape[0],), PLAIN)
    inv = ScaleInv(D, 32, 8)
    assert _rel(inv(x, mode), inv(3.0 * x, mode)) > 1e-3


def test_scale_eq_scales_like_its_input():
    x, mode, q = _rows(torch.Generator().manual_seed(4))
    eq = ScaleEq(D, 8, 32)
    assert _rel(q * eq(x, mode), eq(q * x, mode)) < 1e-12


def test_stable_reciprocal_is_exact_above_eps_and_bounded_near_zero():
    v = torch.randn(50, 9)
    c = torch.exp(torch.randn(50, 1))
    assert torch.allclose(stable_reciprocal(c * v), stable_reciprocal(v) / c, rtol=1e-12)
    assert torch.allclose(stable_reciprocal(-v), -stable_reciprocal(v))
    tiny = torch.cat([torch.zeros(1, 9), 1e-30 * torch.randn(4, 9), 1e-5 * torch.randn(4, 9)]).requires_grad_()
    out = stable_reciprocal(tiny, eps=1e-8)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(tiny.grad).all()
    assert float(out.detach().norm(dim=1).max()) <= 1e4 + 1e-6


def test_node_embedding_is_multiplicative_on_scaled_nodes_and_additive_on_plain_ones():
    emb = NodeEmbedding(6, D)
    x = torch.randn(30, 1)
    node_type = torch.arange(30) % 6
    _, mode, q = _rows(torch.Generator().manual_seed(5))
    h = emb(x, node_type, mode)
    assert _rel(q * h, emb(q * x, node_type, mode)) < 1e-12
    plain = mode == PLAIN
    assert torch.allclose(emb(torch.zeros(30, 1), node_type, mode)[plain], emb.add[node_type[plain]])
    with pytest.raises(ValueError, match="max_layers"):
        emb(x, node_type + 6, mode)


def _random_edges(gen, n=12, e=40, k=3):
    key = torch.unique(torch.randint(0, n * n, (e,), generator=gen))
    return key // n, key % n, torch.randn(key.numel(), k, generator=gen), n


def test_sparse_operators_match_the_dense_matrices():
    r, s, w, n = _random_edges(torch.Generator().manual_seed(6))
    op = EdgeOperator.build(r, s, w, n)
    for k in range(w.shape[1]):
        dense = torch.zeros(n, n)
        dense[r, s] = w[:, k]
        assert torch.equal(op.matrices[k].to_dense(), dense)
        assert torch.equal(op.transposed[k].to_dense(), dense.T)
    assert len(csr_matrices(r, s, w[:, :1], n)) == 1


def test_aggregate_sums_factorized_edge_messages_and_its_gradient_matches_autograd():
    r, s, w, n = _random_edges(torch.Generator().manual_seed(7))
    table = torch.randn(w.shape[1], D, requires_grad=True)
    z = torch.randn(n, D, requires_grad=True)
    out = aggregate(EdgeOperator.build(r, s, w, n), z, table)
    ref = torch.zeros(n, D).index_add(0, r, (w @ table) * z[s])
    assert torch.allclose(out, ref)
    g = torch.randn(n, D)
    grads = torch.autograd.grad((out * g).sum(), (z, table))
    ref_grads = torch.autograd.grad((ref * g).sum(), (z, table))
    assert all(torch.allclose(a, b) for a, b in zip(grads, ref_grads))


def _graph_and_scales(gen):
    """A relu MLP graph, per-node scalars (1 on I/O nodes) and its node modes."""
    data = collate([to_graph(random_mlp((3, 7, 5, 2), "relu", generator=gen))])
    q = torch.exp(torch.empty(data.num_nodes).uniform_(-1.5, 1.5, generator=gen))
    q = torch.where(data.hidden_mask, q, torch.ones_like(q)).unsqueeze(1)
    return data, q, node_modes(data, "auto")


def test_edge_gates_are_invariant():
    x, mode, q = _rows(torch.Generator().manual_seed(12))
    gates = EdgeGates(D, 2, 1)
    for (a, b), (a2, b2) in zip(gates(x, mode), gates(q * x, mode)):
        assert a.shape == b.shape == x.shape
        assert _rel(a, a2) < 1e-12 and _rel(b, b2) < 1e-12


def test_message_scales_like_the_receiver():
    data, q, mode = _graph_and_scales(torch.Generator().manual_seed(8))
    src, dst = data.edge_index
    w = data.edge_attr
    w2 = w * q[dst] / q[src]
    h = torch.randn(data.num_nodes, D)
    gates = EdgeGates(D, 1, 1)
    msg = Message(D, 1)
    out = msg(h, gates(h, mode)[0], EdgeOperator.build(dst, src, w, data.num_nodes))
    out2 = msg(q * h, gates(q * h, mode)[0], EdgeOperator.build(dst, src, w2, data.num_nodes))
    assert _rel(q * out, out2) < 1e-12


def test_node_update_scales_like_the_node():
    x, mode, q = _rows(torch.Generator().manual_seed(9))
    up = NodeUpdate(D, 2, 1)
    m1, m2 = torch.randn_like(x), torch.randn_like(x)
    assert _rel(q * up(x, [m1, m2], mode), up(q * x, [q * m1, q * m2], mode)) < 1e-12


def test_readouts_are_invariant_to_hidden_scalings():
    data, q, mode = _graph_and_scales(torch.Generator().manual_seed(10))
    h, pos = torch.randn(data.num_nodes, D), torch.randn(data.num_nodes, D)
    for kind in ("output", "deepsets"):
        readout = InvariantReadout(kind, D, 3, 2, 4, 2, 1)
        assert _rel(readout(h, mode, data, pos), readout(q * h, mode, data, pos)) < 1e-12
    with pytest.raises(ValueError, match="readout"):
        InvariantReadout("max", D, 3, 2, 4, 2, 1)


def test_equivariant_head_outputs_scale_like_biases_and_weights():
    data, q, mode = _graph_and_scales(torch.Generator().manual_seed(11))
    src, dst = data.edge_index
    head = EquivariantHead(D, 1, 1, stable_reciprocal)
    h = torch.randn(data.num_nodes, D)
    w = data.edge_attr
    node, edge = head(h, mode, data, w)
    node2, edge2 = head(q * h, mode, data, w * q[dst] / q[src])
    assert _rel(q * node, node2) < 1e-10
    assert _rel(edge * q[dst] / q[src], edge2) < 1e-10
    assert torch.equal(node[data.input_mask], torch.zeros_like(node[data.input_mask]))
