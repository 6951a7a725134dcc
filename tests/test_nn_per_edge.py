"""The per-edge ScaleGMN layer's blocks (scalegmn.nn.per_edge, rows, norms), each checked numerically for
the symmetry it claims (float64): node states scale by q_i, edge states j -> i by q_i / q_j."""

import pytest
import torch

from scalegmn.core.random_networks import random_mlp
from scalegmn.core.graph import collate, to_graph
from scalegmn.nn.modes import PLAIN, POSITIVE, SIGN, node_modes
from scalegmn.nn.norms import safe_norm
from scalegmn.nn.per_edge import EdgeGraph, PairMLP, PerEdgeLayer, ScaleEdgeUpdate, ScaleMessage
from scalegmn.nn.readout import EdgeStateHead
from scalegmn.nn.reciprocal import stable_reciprocal
from scalegmn.nn.rows import RowNet, RowSplit

D = 16


pytestmark = pytest.mark.usefixtures("float64_single_thread")


def _rel(a, b):
    return float(((a - b).norm() / a.norm()).detach())


def _graph(gen, acts=("relu", "tanh")):
    """A batch of two MLP graphs (one per activation), its node modes and per-node group elements."""
    data = collate([to_graph(random_mlp((3, 7, 5, 2), act, generator=gen)) for act in acts])
    mode = node_modes(data, "auto")
    q_pos = torch.exp(torch.empty(data.num_nodes).uniform_(-1.5, 1.5, generator=gen))
    q_sign = torch.randint(0, 2, (data.num_nodes,), generator=gen).double() * 2 - 1
    q = torch.where(mode == POSITIVE, q_pos, torch.where(mode == SIGN, q_sign, torch.ones(data.num_nodes)))
    graph = EdgeGraph.build(data.edge_index, mode, data.num_nodes)
    return data, mode, q.unsqueeze(1), graph


def _edge_scale(q, graph):
    return q[graph.dst] / q[graph.src]


def test_safe_norm_matches_the_norm_and_survives_float32_overflow():
    x = torch.randn(6, D)
    assert torch.allclose(safe_norm(x), x.norm(dim=-1, keepdim=True))
    big = (torch.randn(4, D) * 1e30).float().requires_grad_()
    n = safe_norm(big)
    assert torch.isfinite(n).all()
    assert torch.allclose(n.double(), big.detach().double().norm(dim=-1, keepdim=True), rtol=1e-5)
    n.sum().backward()
    assert torch.isfinite(big.grad).all()
    assert torch.equal(safe_norm(torch.zeros(2, D)), torch.zeros(2, 1))


def test_stable_reciprocal_of_huge_float32_vectors_is_finite_and_exact():
    v = (torch.randn(5, D) * 1e25).float()
    r = stable_reciprocal(v, 1e-16)
    expected = v.double() / v.double().square().sum(-1, keepdim=True)
    assert torch.isfinite(r).all() and torch.allclose(r.double(), expected, rtol=1e-5)


def test_row_split_runs_and_indices_apply_the_same_function_per_row():
    gen = torch.Generator().manual_seed(1)
    net = RowNet(D, D, D, 2, 1, scaled=True)
    sorted_mode = torch.tensor([POSITIVE] * 5 + [PLAIN] * 3 + [SIGN] * 4)
    shuffled = sorted_mode[torch.randperm(12, generator=gen)]
    for mode in (sorted_mode, shuffled):
        x = torch.randn(12, D, generator=gen)
        rows = RowSplit.of(mode)
        assert (rows.runs is not None) == (mode is sorted_mode)
        together = net(x, rows)
        alone = torch.cat([net(x[i : i + 1], RowSplit.of(mode[i : i + 1])) for i in range(12)])
        assert torch.allclose(together, alone, atol=1e-12)


def test_row_net_scales_scaled_rows_and_runs_an_mlp_on_plain_rows():
    gen = torch.Generator().manual_seed(2)
    mode = torch.tensor([POSITIVE, SIGN, PLAIN] * 6)
    q = torch.where(mode == POSITIVE, torch.exp(torch.randn(18, generator=gen)),
                    torch.where(mode == SIGN, -torch.ones(18), torch.ones(18))).unsqueeze(1)
    x = torch.randn(18, D, generator=gen)
    net = RowNet(D, D, D, 2, 1, scaled=True)
    rows = RowSplit.of(mode)
    assert _rel(q * net(x, rows), net(q * x, rows)) < 1e-12
    plain = RowSplit.of(torch.full((4,), PLAIN))
    assert torch.allclose(net(x[:4], plain), net.plain(x[:4]))
    gmn = RowNet(D, D, D, 1, 1, scaled=False)
    assert gmn.eq is None and torch.allclose(gmn(x[:4], plain), gmn.plain(x[:4]))


def test_pair_mlp_is_an_mlp_on_the_concatenated_endpoint_and_edge_states():
    gen = torch.Generator().manual_seed(3)
    h, e = torch.randn(6, D, generator=gen), torch.randn(9, 3, generator=gen)
    recv, send = torch.randint(0, 6, (9,), generator=gen), torch.randint(0, 6, (9,), generator=gen)
    pair = PairMLP(D, 3, 8, 5)
    a, b = pair.nodes.weight.split(8)
    w1 = torch.cat([a, b, pair.edge.weight], dim=1)
    b1 = pair.nodes.bias[:8] + pair.nodes.bias[8:]
    cat = torch.cat([h[recv], h[send], e], dim=1)
    expected = pair.out(torch.nn.functional.silu(cat @ w1.T + b1))
    assert torch.allclose(pair(h, e, recv, send), expected)


def test_edge_graph_orders_edges_into_contiguous_runs_and_restores_them():
    data, mode, _, graph = _graph(torch.Generator().manual_seed(4))
    src, dst = data.edge_index
    assert torch.equal(graph.src, src[graph.order]) and torch.equal(graph.dst, dst[graph.order])
    assert torch.equal(graph.order[graph.restore], torch.arange(src.numel()))
    assert graph.forward_rows.runs is not None and len(graph.forward_rows.runs) == 2
    assert graph.backward_rows.runs is not None and len(graph.backward_rows.runs) == 3


def test_per_edge_message_scales_like_the_receiver_before_aggregation():
    data, mode, q, graph = _graph(torch.Generator().manual_seed(5))
    h, e = torch.randn(data.num_nodes, D), torch.randn(graph.src.numel(), D)
    msg = ScaleMessage(D, D, 2, 1, True)
    for backward in (False, True):
        senders, receivers, rows = graph.direction(backward)
        s = _edge_scale(q, graph)
        edge, edge2 = (stable_reciprocal(e), stable_reciprocal(s * e)) if backward else (e, s * e)
        out = msg(h, edge, senders, receivers, rows)
        out2 = msg(q * h, edge2, senders, receivers, rows)
        assert _rel(q[receivers] * out, out2) < 1e-12


def test_per_edge_message_gate_depends_on_each_edge_not_only_its_endpoints():
    data, mode, _, graph = _graph(torch.Generator().manual_seed(6), acts=("relu", "relu"))
    h = torch.randn(data.num_nodes, D)
    e = torch.randn(graph.src.numel(), D)
    msg = ScaleMessage(D, D, 1, 1, True)
    senders, receivers, rows = graph.direction(False)
    base = msg(h, e, senders, receivers, rows)
    e2 = e.clone()
    e2[0] = 3.0 * e[0]
    assert torch.allclose(msg(h, e2, senders, receivers, rows)[0], 3.0 * base[0])
    e2[0] = -e[0]
    assert not torch.allclose(msg(h, e2, senders, receivers, rows)[0], -base[0])


def test_edge_update_scales_like_the_edge():
    data, mode, q, graph = _graph(torch.Generator().manual_seed(7))
    h, e = torch.randn(data.num_nodes, D), torch.randn(graph.src.numel(), D)
    up = ScaleEdgeUpdate(D, D, 1, 1, True)
    s = _edge_scale(q, graph)
    assert _rel(s * up(h, e, graph), up(q * h, s * e, graph)) < 1e-12


@pytest.mark.parametrize("directions", [1, 2])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("gate_layers", [0, 1])
def test_per_edge_layer_is_equivariant_for_nodes_and_edges(directions, residual, gate_layers):
    data, mode, q, graph = _graph(torch.Generator().manual_seed(8))
    h, e = torch.randn(data.num_nodes, D), torch.randn(graph.src.numel(), D)
    layer = PerEdgeLayer(D, D, directions, True, 1, 1, gate_layers, True, residual, lambda v: stable_reciprocal(v, 1e-16))
    s = _edge_scale(q, graph)
    h1, e1 = layer(h, e, graph)
    h2, e2 = layer(q * h, s * e, graph)
    assert _rel(q * h1, h2) < 1e-12 and _rel(s * e1, e2) < 1e-12


def test_gmn_layer_is_permutation_equivariant_and_sees_raw_magnitudes():
    data, _, q, _ = _graph(torch.Generator().manual_seed(9))
    mode = node_modes(data, "permutation")
    graph = EdgeGraph.build(data.edge_index, mode, data.num_nodes)
    layer = PerEdgeLayer(D, 1, 1, False, 1, 1, 1, True, False, lambda v: v)
    h, e = torch.randn(data.num_nodes, D), torch.randn(graph.src.numel(), 1)
    h1, e1 = layer(h, e, graph)
    perm = torch.randperm(data.num_nodes)
    inv = torch.argsort(perm)
    graph_p = EdgeGraph.build(inv[data.edge_index], mode, data.num_nodes)
    order_p = torch.argsort(graph_p.order)
    e_p = e[graph.restore][graph_p.order]
    h1p, e1p = layer(h[perm], e_p, graph_p)
    assert torch.allclose(h1p, h1[perm]) and torch.allclose(e1p[order_p], e1[graph.restore])
    h2, _ = layer(2.0 * h, e, graph)
    assert _rel(2.0 * h1, h2) > 1e-3


def test_edge_state_head_outputs_scale_like_biases_and_weights():
    data, mode, q, graph = _graph(torch.Generator().manual_seed(10))
    head = EdgeStateHead(D, 3)
    h, e = torch.randn(data.num_nodes, D), torch.randn(graph.src.numel(), D)
    s = _edge_scale(q, graph)
    node, edge = head(h, e, data)
    node2, edge2 = head(q * h, s * e, data)
    assert _rel(q * node, node2) < 1e-12 and _rel(s * edge, edge2) < 1e-12
    assert torch.equal(node[data.input_mask], torch.zeros_like(node[data.input_mask]))
