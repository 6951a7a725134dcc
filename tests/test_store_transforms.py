"""Symmetry transforms on graphs and batches: function preserved through the forward pass, targets and ids
kept, draws deterministic by (seed, epoch, index, copy), batched and per-graph results equal."""

import math

import pytest
import torch

from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren
from scalegmn.core.graph import collate, from_graph, to_graph
from scalegmn.data import InMemoryGraphDataset, PhaseCanonicalize, RandomSymmetry, collate_graphs
from scalegmn.core.symmetry import phase_canonicalize
from scalegmn.core.weights import forward


def networks(dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    return [random_cnn((1, 4, 4), 3, "relu", generator=g, dtype=dtype),
            random_mlp((2, 6, 5, 3), "tanh", generator=g, dtype=dtype),
            random_mlp((2, 6, 5, 3), "leaky_relu", generator=g, dtype=dtype),
            random_siren((2, 8, 8, 1), generator=g, dtype=dtype)]


def dataset():
    nets = networks()
    for i, net in enumerate(nets):
        net.meta.update(id=f"n{i}", label=i)
    return InMemoryGraphDataset(nets, {"train": [0, 1, 2, 3]})


def inputs(net, n=5):
    g = torch.Generator().manual_seed(1)
    shape = (n, net.layer_sizes[0], 6, 6) if net.is_conv[0] else (n, net.layer_sizes[0])
    return torch.randn(*shape, generator=g, dtype=net.dtype)


def test_random_symmetry_preserves_each_networks_function_and_keeps_targets():
    ds = dataset()
    for i in range(len(ds)):
        graph = ds[i]
        moved = RandomSymmetry(seed=3)(graph)
        before, after = from_graph(graph), from_graph(moved)
        assert not torch.equal(moved.edge_attr, graph.edge_attr)
        torch.testing.assert_close(forward(after, inputs(before)), forward(before, inputs(before)), rtol=1e-9,
                                   atol=1e-9)
        assert moved.label.item() == i and moved.dataset_row.item() == i and moved.y.item() == i
        assert after.meta == before.meta


def test_random_symmetry_leaves_its_input_unchanged():
    graph = dataset()[1]
    x, e = graph.x.clone(), graph.edge_attr.clone()
    RandomSymmetry(seed=0)(graph)
    assert torch.equal(graph.x, x) and torch.equal(graph.edge_attr, e)


def test_draws_are_deterministic_by_seed_epoch_and_index():
    graph = dataset()[1]
    same = [RandomSymmetry(seed=7, epoch=2)(graph).edge_attr for _ in range(2)]
    assert torch.equal(*same)
    assert not torch.equal(RandomSymmetry(seed=7, epoch=3)(graph).edge_attr, same[0])
    assert not torch.equal(RandomSymmetry(seed=8, epoch=2)(graph).edge_attr, same[0])
    other = dataset()[2]
    other.dataset_row = graph.dataset_row + 10
    assert not torch.equal(RandomSymmetry(seed=7, epoch=2)(other).edge_attr, RandomSymmetry(seed=7, epoch=2)(
        dataset()[2]).edge_attr)


def test_a_batch_transformed_at_once_equals_its_graphs_transformed_one_by_one():
    ds = dataset()
    graphs = [ds[i] for i in (1, 2, 1)]
    graphs[2].dataset_row = torch.tensor([9])
    transform = RandomSymmetry(seed=4, epoch=1)
    batched = transform(collate_graphs(graphs))
    single = collate_graphs([transform(g) for g in graphs])
    assert torch.equal(batched.x, single.x) and torch.equal(batched.edge_attr, single.edge_attr)
    mixed = transform(collate_graphs([ds[i] for i in range(4)]))  # four architectures
    for i in range(4):
        one = transform(ds[i])
        rows = mixed.batch == i
        assert torch.equal(mixed.x[rows], one.x)


def test_graphs_with_copy_number_zero_are_left_as_they_are():
    ds = dataset()
    batch = collate_graphs([ds[1], ds[2]])
    batch.copy_number = torch.tensor([0, 1])
    moved = RandomSymmetry(seed=0)(batch)
    n = ds[1].num_nodes
    assert torch.equal(moved.x[:n], batch.x[:n]) and not torch.equal(moved.x[n:], batch.x[n:])


def test_scale_only_and_permute_only_transforms_keep_the_function():
    net = networks()[2]
    graph = to_graph(net)
    for permute, scale in ((True, False), (False, True)):
        moved = from_graph(RandomSymmetry(permute=permute, scale=scale, max_log_scale=math.log(3.0))(graph))
        torch.testing.assert_close(forward(moved, inputs(net)), forward(net, inputs(net)), rtol=1e-9, atol=1e-9)


def test_phase_canonicalize_transform_equals_phase_canonicalize_of_the_network():
    siren = networks()[3]
    graph = to_graph(siren)
    out = from_graph(PhaseCanonicalize()(graph))
    assert out.equals(phase_canonicalize(siren))
    relu = to_graph(networks()[0])
    assert PhaseCanonicalize()(relu) is relu
    moved = from_graph(RandomSymmetry(seed=1, canonicalize="full")(graph))
    assert moved.equals(phase_canonicalize(from_graph(RandomSymmetry(seed=1)(graph))))
    phase = from_graph(PhaseCanonicalize("phase")(graph))
    assert phase.equals(phase_canonicalize(siren, "phase"))
    batch = PhaseCanonicalize()(collate([to_graph(siren), to_graph(networks()[1])]))
    assert torch.equal(batch.x[: graph.num_nodes], to_graph(phase_canonicalize(siren)).x)


def test_sign_augmentation_acts_under_the_phase_form_and_is_undone_by_the_full_form():
    siren = phase_canonicalize(networks()[3], "phase")
    graph = to_graph(siren)
    flips = RandomSymmetry(permute=False, seed=2, canonicalize="phase")
    moved = from_graph(flips(graph))
    torch.testing.assert_close(forward(moved, inputs(siren)), forward(siren, inputs(siren)), rtol=1e-9, atol=1e-9)
    assert not moved.equals(siren)
    undone = from_graph(RandomSymmetry(permute=False, seed=2, canonicalize="full")(graph))
    assert undone.equals(phase_canonicalize(siren, "full"))


def test_canonical_forms_are_checked():
    with pytest.raises(ValueError, match="needs form 'phase' or 'full'"):
        PhaseCanonicalize("none")
    with pytest.raises(ValueError, match="none, phase, full"):
        RandomSymmetry(canonicalize=True)


def test_graphs_without_a_dataset_row_draw_by_their_position_in_the_batch():
    net = networks()[1]
    moved = RandomSymmetry(seed=0)(collate([to_graph(net), to_graph(net)]))
    n = to_graph(net).num_nodes
    assert not torch.equal(moved.x[:n], moved.x[n:])


def test_mixed_architecture_batches_keep_float64_sine_frequencies():
    g = torch.Generator().manual_seed(3)
    siren = random_siren((2, 8, 8, 1), generator=g, dtype=torch.float64, w0=30.1)
    other = networks()[1]
    batch = collate([to_graph(siren), to_graph(other)])
    assert batch.w0.dtype == torch.float64 and batch.w0[0].item() == 30.1
    canonical = PhaseCanonicalize()(batch)
    n = to_graph(siren).num_nodes
    assert torch.equal(canonical.x[:n], to_graph(phase_canonicalize(siren)).x)
