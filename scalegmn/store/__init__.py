"""Graph datasets: augmentation, Arrow shards, the memory-mapped dataset and Hugging Face Hub publishing."""

from scalegmn.store.dataset import GraphDatasetBase, GraphLoader, InMemoryGraphDataset, collate_graphs

__all__ = ["GraphDatasetBase", "GraphLoader", "InMemoryGraphDataset", "collate_graphs"]
