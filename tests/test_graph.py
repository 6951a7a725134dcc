"""Networks as graphs: exact round trips, symmetry action on graph features, shared structure."""

import pytest
import torch
from torch_geometric.data import Batch

from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren
from scalegmn.core.graph import collate, from_graph, graph_structure, to_graph
from scalegmn.core.symmetry import apply_symmetry, sample_symmetry
from scalegmn.core.weights import forward


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


NETS = {
    "mlp": lambda s=0: random_mlp([5, 16, 12, 3], "relu", generator=gen(s)),
    "siren": lambda s=0: random_siren(generator=gen(s), output_offset=0.5),
    "cnn": lambda s=0: random_cnn(generator=gen(s)),
    "cnn_flatten": lambda s=0: random_cnn((3, 6, 5), 4, "tanh", pooling="flatten", flatten_size=4, generator=gen(s)),
}


@pytest.mark.parametrize("name", NETS)
def test_from_graph_inverts_to_graph_exactly(name):
    net = NETS[name]()
    net.meta = {"id": "n1", "score": 0.8125, "label": 3, "hparams": {"lr": 1e-3}}
    back = from_graph(to_graph(net))
    assert back.equals(net)


@pytest.mark.parametrize("name", NETS)
def test_graph_round_trip_preserves_forward(name):
    net = NETS[name]()
    back = from_graph(to_graph(net))
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64) if name == "cnn_flatten" else (
        torch.randn(4, 1, 8, 8, dtype=torch.float64) if name == "cnn" else torch.randn(4, net.layer_sizes[0], dtype=torch.float64))
    assert torch.equal(forward(back, x), forward(net, x))


def test_graph_sizes_follow_the_architecture():
    g = to_graph(NETS["cnn"]())
    assert g.num_nodes == 1 + 16 + 16 + 16 + 10
    assert g.edge_index.shape == (2, 16 + 16 * 16 * 2 + 16 * 10)
    assert g.edge_attr.shape[1] == 9
    assert g.hidden_mask.sum() == 48 and g.input_mask.sum() == 1 and g.output_mask.sum() == 10
    assert g.node_type.max() == 1 + 10 + 2
    flat = to_graph(NETS["cnn_flatten"]())
    assert flat.edge_attr.shape[1] == 9 and (flat.edge_attr[flat.edge_layer == 2, 4:] == 0).all()


def test_edge_features_hold_each_weight_at_its_source_and_target():
    net = NETS["cnn"]()
    g = to_graph(net)
    e = 16 + 7 * 16 + 5  # layer 1, target neuron 7, source neuron 5
    assert g.edge_index[:, e].tolist() == [1 + 5, 17 + 7]
    assert torch.equal(g.edge_attr[e], net.weights[1][7, 5].flatten())


def node_and_edge_maps(net, t):
    """For a transform ``t``: old node index of each new node and old edge index of each new edge."""
    s = graph_structure(net.architecture)
    perms = [torch.arange(net.layer_sizes[0])] + list(t.permutations) + [torch.arange(net.layer_sizes[-1])]
    node_map = torch.cat([s.node_offsets[l] + p for l, p in enumerate(perms)])
    edge_map = []
    for l in range(net.num_layers):
        n_in = net.layer_sizes[l]
        old = perms[l + 1].view(-1, 1) * n_in + perms[l].view(1, -1)
        edge_map.append(s.edge_offsets[l] + old.flatten())
    return node_map, torch.cat(edge_map)


@pytest.mark.parametrize("name", NETS)
def test_symmetry_permutes_graph_and_scales_its_features(name):
    net = NETS[name]()
    t = sample_symmetry(net, gen(5))
    g, g_sym = to_graph(net), to_graph(apply_symmetry(net, t))
    node_map, edge_map = node_and_edge_maps(net, t)
    s = graph_structure(net.architecture)
    q = torch.cat([torch.ones(net.layer_sizes[0], dtype=torch.float64)] + list(t.scales)
                  + [torch.ones(net.layer_sizes[-1], dtype=torch.float64)])
    torch.testing.assert_close(g_sym.x, g.x[node_map] * q.view(-1, 1), rtol=1e-12, atol=0)
    src, dst = s.edge_index
    torch.testing.assert_close(g_sym.edge_attr, g.edge_attr[edge_map] * (q[dst] / q[src]).view(-1, 1), rtol=1e-12, atol=0)
    assert not torch.equal(g_sym.edge_attr, g.edge_attr)


def test_networks_of_one_architecture_share_one_edge_index():
    a, b = to_graph(NETS["cnn"](1)), to_graph(NETS["cnn"](2))
    assert a.edge_index is b.edge_index


def test_collate_fast_path_equals_pyg_batching():
    graphs = [to_graph(NETS["cnn"](s)) for s in range(5)]
    fast, ref = collate(graphs), Batch.from_data_list(graphs)
    assert fast.num_graphs == 5
    for key in ("x", "edge_index", "edge_attr", "node_layer", "edge_layer", "node_type", "hidden_mask", "act", "batch", "ptr"):
        assert torch.equal(fast[key], ref[key]), key


def test_collate_handles_mixed_architectures():
    graphs = [to_graph(NETS["mlp"]()), to_graph(random_mlp([5, 7, 3], "tanh", generator=gen()))]
    batch = collate(graphs)
    assert batch.num_graphs == 2 and batch.num_nodes == 36 + 15
    assert batch.act.tolist() == [0, 2]


def test_from_graph_rejects_a_graph_that_does_not_fit_its_architecture():
    g = to_graph(NETS["mlp"]())
    g.edge_attr = g.edge_attr[:-1]
    with pytest.raises(ValueError, match="edges but its architecture needs"):
        from_graph(g)
