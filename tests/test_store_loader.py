"""The fast loader: epoch order seeded by (seed, epoch), DDP sharding, symmetry copies drawn on the fly."""

import torch

from scalegmn.data import InMemoryGraphDataset, RandomSymmetry
from scalegmn.data.loader import GraphLoader
from scalegmn.data.synthetic import synthetic_cnn_zoo


def dataset(n=30):
    nets = list(synthetic_cnn_zoo(n, activations=("relu", "tanh")))
    return InMemoryGraphDataset(nets, {"train": list(range(n))})


def order(loader, epoch):
    return torch.cat([loader.positions[c % len(loader.positions)] for c in loader.global_batches(epoch)])


def test_epoch_order_is_seeded_by_seed_and_epoch_and_sharded_evenly():
    ds = dataset()
    rows = torch.arange(10, 30)
    loader = GraphLoader(ds, rows, 6, shuffle=True, seed=0)
    assert [len(c) for c in loader.global_batches(0)] == [6, 6, 6, 2] and len(loader) == 4
    assert sorted(order(loader, 0).tolist()) == rows.tolist()
    assert torch.equal(order(loader, 0), order(GraphLoader(ds, rows, 6, shuffle=True, seed=0), 0))
    assert not torch.equal(order(loader, 0), order(loader, 1))
    assert not torch.equal(order(loader, 0), order(GraphLoader(ds, rows, 6, shuffle=True, seed=1), 0))
    four = GraphLoader(ds, rows, 6, shuffle=True, world_size=4)
    assert [len(c) for c in four.global_batches(0)] == [6, 6, 6] and len(four) == 3
    assert [len(c) for c in GraphLoader(ds, rows, 8, shuffle=True, world_size=2).global_batches(0)] == [8, 8, 4]


def test_ranks_split_every_global_batch_and_together_see_the_single_process_batches():
    ds = dataset()
    rows = torch.arange(24)
    single = [b.dataset_row for b in GraphLoader(ds, rows, 8, shuffle=True, seed=3)]
    ranks = [[b.dataset_row for b in GraphLoader(ds, rows, 8, shuffle=True, seed=3, world_size=2, rank=r)]
             for r in (0, 1)]
    for whole, a, b in zip(single, *ranks):
        assert torch.equal(whole[0::2], a) and torch.equal(whole[1::2], b)


def test_passes_advance_the_epoch_unless_it_is_set():
    ds = dataset()
    loader = GraphLoader(ds, torch.arange(12), 4, shuffle=True, seed=0)
    first = torch.cat([b.dataset_row for b in loader])
    second = torch.cat([b.dataset_row for b in loader])
    assert not torch.equal(first, second)
    loader.set_epoch(0)
    assert torch.equal(torch.cat([b.dataset_row for b in loader]), first)


def test_copies_add_k_symmetry_copies_per_network_and_epoch_drawn_on_the_fly():
    ds = dataset(8)
    augment = RandomSymmetry(seed=5)
    loader = GraphLoader(ds, torch.arange(8), 4, shuffle=True, seed=0, copies=2, augment=augment)
    batches = list(loader)
    index = torch.cat([b.dataset_row for b in batches])
    copies = torch.cat([b.copy_number for b in batches])
    assert len(index) == 24 and sorted(index.tolist()) == sorted(list(range(8)) * 3)
    assert sorted(copies.tolist()) == [0] * 8 + [1] * 8 + [2] * 8
    x = torch.cat([b.edge_attr.reshape(len(b.dataset_row), -1) for b in batches])
    for i, (row, k) in enumerate(zip(index.tolist(), copies.tolist())):
        original = ds[row].edge_attr.reshape(-1)
        assert torch.equal(x[i], original) == (k == 0)
    # the same epoch gives the same copies, another epoch other ones
    loader.set_epoch(0)
    again = torch.cat([b.edge_attr.reshape(len(b.dataset_row), -1) for b in loader])
    assert torch.equal(again, x)
    other = torch.cat([b.edge_attr.reshape(len(b.dataset_row), -1) for b in loader])
    assert not torch.equal(other.sort(0).values, x.sort(0).values)


def test_without_originals_every_network_is_replaced_by_a_fresh_copy_each_epoch():
    import pytest

    ds = dataset(8)
    loader = GraphLoader(ds, torch.arange(8), 4, shuffle=True, seed=0, copies=1, augment=RandomSymmetry(seed=5),
                         originals=False)
    batches = list(loader)
    index = torch.cat([b.dataset_row for b in batches])
    assert sorted(index.tolist()) == list(range(8)) and len(loader) == 2  # as many steps as without copies
    assert torch.cat([b.copy_number for b in batches]).tolist() == [1] * 8
    x = torch.cat([b.edge_attr.reshape(len(b.dataset_row), -1) for b in batches])
    assert not any(torch.equal(x[i], ds[row].edge_attr.reshape(-1)) for i, row in enumerate(index.tolist()))
    with pytest.raises(ValueError, match="without the original networks needs copies >= 1"):
        GraphLoader(ds, torch.arange(8), 4, originals=False)


def test_cached_loader_gives_the_batches_of_the_uncached_one():
    ds = dataset(12)
    augment = RandomSymmetry(seed=1)
    kwargs = dict(shuffle=True, seed=2, copies=1, augment=augment)
    for a, b in zip(GraphLoader(ds, torch.arange(12), 5, cache=True, **kwargs),
                    GraphLoader(ds, torch.arange(12), 5, cache=False, **kwargs)):
        assert torch.equal(a.x, b.x) and torch.equal(a.edge_attr, b.edge_attr)
        assert torch.equal(a.dataset_row, b.dataset_row)


def test_a_batch_smaller_than_the_number_of_processes_is_refused():
    import pytest

    with pytest.raises(ValueError, match="smaller than the 2 processes"):
        GraphLoader(dataset(4), torch.arange(4), 1, world_size=2, rank=1)
