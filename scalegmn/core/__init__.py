"""The network data type and what acts on it: activations, weights and their batched form, symmetries,
graphs, SIREN rendering, random example networks."""
