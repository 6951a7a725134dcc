"""Graph datasets: augmentation, Arrow shards, the memory-mapped dataset and Hugging Face Hub publishing."""

from scalegmn.store.dataset import GraphDatasetBase, GraphLoader, InMemoryGraphDataset, collate_graphs
from scalegmn.store.reader import GraphDataset, open_dataset
from scalegmn.store.shards import ShardConfig, write_dataset
from scalegmn.store.splits import SplitConfig, plan_splits

__all__ = [
    "GraphDataset",
    "GraphDatasetBase",
    "GraphLoader",
    "InMemoryGraphDataset",
    "ShardConfig",
    "SplitConfig",
    "collate_graphs",
    "open_dataset",
    "plan_splits",
    "write_dataset",
]
