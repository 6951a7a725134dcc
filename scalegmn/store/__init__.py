"""Graph datasets: augmentation, Arrow shards, the memory-mapped dataset and Hugging Face Hub publishing."""

from scalegmn.store.dataset import GraphDatasetBase, InMemoryGraphDataset, collate_graphs
from scalegmn.store.loader import GraphLoader
from scalegmn.store.reader import GraphDataset, open_dataset
from scalegmn.store.shards import ShardConfig, write_dataset
from scalegmn.store.splits import SplitConfig, plan_splits
from scalegmn.store.transforms import AugmentConfig, PhaseCanonicalize, RandomSymmetry

__all__ = [
    "AugmentConfig",
    "GraphDataset",
    "GraphDatasetBase",
    "GraphLoader",
    "InMemoryGraphDataset",
    "PhaseCanonicalize",
    "RandomSymmetry",
    "ShardConfig",
    "SplitConfig",
    "collate_graphs",
    "open_dataset",
    "plan_splits",
    "write_dataset",
]
