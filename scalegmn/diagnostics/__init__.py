"""Checks and measurements: the models' symmetry checker, the self-check of the weight transformations,
training throughput."""
