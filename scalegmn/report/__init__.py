"""The benchmark report: :mod:`.build` assembles and writes it from results, run artefacts, zoos and
checks; :mod:`.timings` records per-stage wall time (light to import, for every pipeline stage)."""
