"""Running experiments: the trainer (its settings, processes and checkpoints) and the benchmark runner."""
