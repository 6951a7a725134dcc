"""Graph datasets: PyG datasets over Arrow shards, the fast loader, symmetry transforms, splits, Hub publishing."""

from scalegmn.data.dataset import GraphDatasetBase, InMemoryGraphDataset, collate_graphs
from scalegmn.data.loader import GraphLoader
from scalegmn.data.reader import GraphDataset, open_dataset
from scalegmn.data.shards import ShardConfig, write_dataset
from scalegmn.data.splits import SplitConfig, plan_splits
from scalegmn.data.transforms import AugmentConfig, PhaseCanonicalize, RandomSymmetry

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
