"""The in-memory graph dataset: items are to_graph outputs plus targets, stored splits, seeded loader."""

import math

import pytest
import torch

from scalegmn.core.graph import from_graph, to_graph
from scalegmn.data import InMemoryGraphDataset
from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo
from scalegmn.core.weights import forward


def mixed_dataset():
    nets = list(synthetic_cnn_zoo(6, seed=1)) + list(synthetic_inr_zoo(4, seed=2))
    return nets, InMemoryGraphDataset(nets, {"train": [0, 1, 2, 6, 7], "val": [3, 8], "test": [4, 5, 9]})


def test_item_is_to_graph_output_plus_targets():
    nets, ds = mixed_dataset()
    assert len(ds) == 10 and ds.edge_dim == 9
    g = ds[2]
    ref = to_graph(nets[2], edge_dim=9)
    assert torch.equal(g.x, ref.x) and torch.equal(g.edge_attr, ref.edge_attr)
    assert torch.equal(g.edge_index, ref.edge_index)
    assert g.score.dtype == torch.float32 and math.isclose(g.score.item(), nets[2].meta["score"], rel_tol=1e-6)
    assert g.label.item() == -1 and g.dataset_row.item() == 2
    inr = ds[7]
    assert inr.label.item() == 1 and math.isnan(inr.score.item())
    back = from_graph(inr)
    x = torch.rand(5, 2) * 2 - 1
    assert torch.equal(forward(back, x), forward(nets[7], x))


def test_splits_and_frame():
    _, ds = mixed_dataset()
    split = ds.get_idx_split()
    assert split["train"].tolist() == [0, 1, 2, 6, 7] and split["val"].tolist() == [3, 8]
    assert split["test"].dtype == torch.long
    frame = ds.frame()
    assert list(frame.columns) == ["row", "id", "source_id", "aug_seed", "split", "activation", "label", "score",
                                   "arch_key"]
    assert frame.loc[3, "id"] == "cnn-3" and frame.loc[3, "source_id"] == "cnn-3" and frame.loc[3, "aug_seed"] == -1
    assert ds.metadata["split_sizes"] == {"train": 5, "val": 2, "test": 3}
    assert ds.metadata["node_feature_dim"] == 1 and ds.metadata["edge_feature_dim"] == 9


def test_bad_splits_are_rejected():
    nets = list(synthetic_cnn_zoo(2))
    with pytest.raises(ValueError, match="out of range"):
        InMemoryGraphDataset(nets, {"train": [0, 2]})
    with pytest.raises(ValueError, match="unknown split"):
        InMemoryGraphDataset(nets, {"validation": [0]})
    with pytest.raises(ValueError, match="is in splits"):
        InMemoryGraphDataset(nets, {"train": [0], "test": [0]})


def test_loader_batches_are_collated_and_seeded():
    _, ds = mixed_dataset()
    cnn_rows = [0, 1, 2, 3, 4, 5]
    first = [b.dataset_row.tolist() for b in ds.loader(cnn_rows, batch_size=4, shuffle=True, seed=3)]
    again = [b.dataset_row.tolist() for b in ds.loader(cnn_rows, batch_size=4, shuffle=True, seed=3)]
    assert first == again and sorted(sum(first, [])) == cnn_rows and [len(b) for b in first] == [4, 2]
    loader = ds.loader(cnn_rows, batch_size=4, shuffle=True, seed=3)
    assert len(loader) == 2
    epochs = [[b.dataset_row.tolist() for b in loader] for _ in range(3)]
    assert len({str(e) for e in epochs}) > 1
    batch = next(iter(ds.loader([0, 7, 8], batch_size=3)))
    assert batch.num_graphs == 3 and batch.score.shape == (3,) and batch.label.tolist() == [-1, 1, 2]
    assert batch.edge_attr.shape[1] == 9


# ----------------------------------------------------------------------------- the PyG Dataset API
def test_dataset_is_a_pyg_dataset_with_feature_counts_targets_and_repr():
    from torch_geometric.data import Dataset

    _, ds = mixed_dataset()
    assert isinstance(ds, Dataset)
    assert ds.num_node_features == 1 and ds.num_edge_features == 9
    assert ds.target_name == "label" and ds.y.tolist() == [-1] * 6 + [0, 1, 2, 3]
    assert ds[7].y.tolist() == [1]
    text = repr(ds)
    assert "10 networks" in text and "train 5/val 2/test 3" in text and "edge_dim=9" in text


def test_slices_lists_tensors_and_arrays_give_views_whose_positions_compose():
    import numpy as np

    nets, ds = mixed_dataset()
    for view in (ds[6:9], ds[[6, 7, 8]], ds[torch.tensor([6, 7, 8])], ds[np.array([6, 7, 8])],
                 ds[torch.arange(10) >= 6][:3], ds.index_select([6, 7, 8])):
        assert len(view) == 3 and view[1].dataset_row.item() == 7
        assert view.network(2).equals(nets[8]) and view.frame()["id"].tolist() == ["inr-0", "inr-1", "inr-2"]
        assert view.y.tolist() == [0, 1, 2] and view.get_idx_split()["train"].tolist() == [0, 1]
        assert view.batch([2, 0]).dataset_row.tolist() == [8, 6]
    assert ds[-1].dataset_row.item() == 9
    with pytest.raises(IndexError):
        ds.network(10)
    shuffled = ds.shuffle()
    assert sorted(g.dataset_row.item() for g in shuffled) == list(range(10))


def test_transform_is_applied_to_items_and_batches_and_keeps_targets():
    from scalegmn.data import RandomSymmetry

    nets, ds = mixed_dataset()
    ds.transform = RandomSymmetry(seed=2)
    g = ds[3]
    assert not torch.equal(g.edge_attr, to_graph(nets[3], edge_dim=9).edge_attr)
    assert g.dataset_row.item() == 3 and math.isclose(g.score.item(), nets[3].meta["score"], rel_tol=1e-6)
    x = torch.randn(4, 1, 8, 8, dtype=torch.float32)
    torch.testing.assert_close(forward(from_graph(g), x), forward(nets[3], x), rtol=1e-4, atol=1e-5)
    batch = ds.batch([3, 4])
    assert torch.equal(batch.x[: g.num_nodes], g.x) and batch.dataset_row.tolist() == [3, 4]


def test_pyg_dataloader_batches_the_dataset_like_our_loader():
    from torch_geometric.loader import DataLoader

    _, ds = mixed_dataset()
    cnns = ds[:6]
    ours = next(iter(cnns.loader(batch_size=6)))
    theirs = next(iter(DataLoader(cnns, batch_size=6)))
    assert theirs.num_graphs == 6 and torch.equal(theirs.x, ours.x) and torch.equal(theirs.edge_attr, ours.edge_attr)
    assert torch.equal(theirs.edge_index, ours.edge_index) and torch.equal(theirs.y, ours.y)
    assert torch.equal(theirs.dataset_row, ours.dataset_row)


def test_a_view_has_its_own_fingerprint_and_names_networks_by_dataset_row():
    _, ds = mixed_dataset()
    view = ds[[3, 1, 7]]
    assert view.content_fingerprint() != ds.content_fingerprint() != ds[[1, 3, 7]].content_fingerprint()
    assert ds[:].content_fingerprint() == ds.content_fingerprint()  # the whole dataset, as a view
    assert view.network_ids(view.batch([0, 2]).dataset_row) == ["cnn-3", "inr-1"]
