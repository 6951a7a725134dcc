"""The in-memory graph dataset: items are to_graph outputs plus targets, stored splits, seeded loader."""

import math

import pytest
import torch

from scalegmn.graph import from_graph, to_graph
from scalegmn.store import InMemoryGraphDataset
from scalegmn.store.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo
from scalegmn.weights import forward


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
    assert g.label.item() == -1 and g.index.item() == 2
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
    first = [b.index.tolist() for b in ds.loader(cnn_rows, batch_size=4, shuffle=True, seed=3)]
    again = [b.index.tolist() for b in ds.loader(cnn_rows, batch_size=4, shuffle=True, seed=3)]
    assert first == again and sorted(sum(first, [])) == cnn_rows and [len(b) for b in first] == [4, 2]
    loader = ds.loader(cnn_rows, batch_size=4, shuffle=True, seed=3)
    assert len(loader) == 2
    epochs = [[b.index.tolist() for b in loader] for _ in range(3)]
    assert len({str(e) for e in epochs}) > 1
    batch = next(iter(ds.loader([0, 7, 8], batch_size=3)))
    assert batch.num_graphs == 3 and batch.score.shape == (3,) and batch.label.tolist() == [-1, 1, 2]
    assert batch.edge_attr.shape[1] == 9
