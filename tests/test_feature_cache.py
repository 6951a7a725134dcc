"""Features that are a fixed function of the weights (StatNN's statistics, the flat MLP's vector) are computed
once per dataset view and are exactly what recomputing them gives; symmetry copies are always recomputed."""

import math

import pytest
import torch

from scalegmn.baselines import FlatMLP, StatNN
from scalegmn.core.random_networks import random_cnn
from scalegmn.data import InMemoryGraphDataset, RandomSymmetry
from scalegmn.data.dataset import collate_graphs
from scalegmn.data.loader import GraphLoader
from scalegmn.data.transforms import PhaseCanonicalize
from scalegmn.nn.feature_cache import FeatureCache

pytestmark = pytest.mark.usefixtures("seeded_single_thread")

MODELS = [StatNN, FlatMLP]


def zoo(n=40, seed=0):
    """``n`` CNNs of two architectures (3 and 4 layers), ReLU and tanh, with random scores."""
    g = torch.Generator().manual_seed(seed)
    nets = []
    for i in range(n):
        net = random_cnn((1, 4, 4) if i % 3 else (1, 8, 8, 8), 10, ("relu", "tanh")[i % 2], generator=g,
                         dtype=torch.float32)
        net.meta = {"id": f"cnn-{i}", "score": float(torch.rand((), generator=g))}
        nets.append(net)
    a, b = n * 3 // 5, n * 4 // 5
    return InMemoryGraphDataset(nets, {"train": list(range(a)), "val": list(range(a, b)), "test": list(range(b, n))})


def build(model_type, ds, **options):
    """A model sized for every network of ``ds`` (the 4-layer one is position 0)."""
    return model_type(ds[0], 1, hidden=8, **options)


def features(model, batch):
    return model.features(batch) if isinstance(model, StatNN) else model.flatten(batch)


def uncached(model, batch):
    """The model's features of ``batch`` computed afresh (a cache that keeps nothing)."""
    cache, model.feature_cache = model.feature_cache, FeatureCache(max_bytes=0)
    try:
        return features(model, batch)
    finally:
        model.feature_cache = cache


def in_view(batch, loader):
    """``batch`` named as one of ``loader``'s dataset view."""
    batch.dataset_view = loader.dataset_view
    return batch


def passes(loader, epochs=2):
    """Every batch of ``epochs`` passes, each made when it is asked for."""
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        yield from loader


@pytest.mark.parametrize("model_type", MODELS)
@pytest.mark.parametrize("normalize", [False, True])
def test_cached_features_equal_recomputed_features(model_type, normalize):
    ds = zoo()
    model = build(model_type, ds, normalize=normalize)
    loader = GraphLoader(ds, torch.arange(len(ds)), 7, shuffle=True, cache=True)
    model.fit_inputs(loader.networks(16))
    batches = list(passes(loader))
    first = [features(model, b) for b in batches]
    assert model.feature_cache.size == len(ds)
    for batch, before in zip(batches, first):
        cached = features(model, batch)
        assert torch.equal(cached, before) and torch.equal(cached, uncached(model, batch))


@pytest.mark.parametrize("model_type", MODELS)
def test_a_networks_features_do_not_depend_on_the_rest_of_its_batch(model_type):
    ds = zoo(260)
    model = build(model_type, ds, normalize=True)
    model.fit_inputs([ds.batch(torch.arange(100))])
    whole = uncached(model, ds.batch(torch.arange(256)))
    alone = torch.cat([uncached(model, ds.batch([i])) for i in range(256)])
    assert torch.equal(whole, alone)
    loader = GraphLoader(ds, torch.arange(256), 256, cache=True)
    for i in range(0, 256, 37):  # the cache computes only the rows it lacks
        features(model, in_view(ds.batch(torch.arange(i, i + 37)), loader))
    assert torch.equal(features(model, next(iter(loader))), whole)


@pytest.mark.parametrize("model_type", MODELS)
def test_symmetry_copies_are_recomputed_not_looked_up(model_type):
    ds = zoo()
    relu = torch.arange(0, len(ds), 2)
    model = build(model_type, ds)
    augment = RandomSymmetry(permute=False, scale=True, max_log_scale=math.log(4.0))
    loader = GraphLoader(ds, relu, 6, shuffle=True, copies=1, augment=augment, cache=True)
    batches = list(passes(loader, 3))
    for batch in batches:
        features(model, batch)
    assert model.feature_cache.size == len(relu)
    copies = [b for b in batches if bool((b.copy_number > 0).any()) and bool((b.copy_number == 0).any())]
    assert copies
    for batch in copies:
        copy = batch.copy_number > 0
        output = model(batch)
        assert torch.equal(output, model.mlp(uncached(model, batch)))
        originals = torch.cat([features(model, in_view(ds.batch([int(r)]), loader)) for r in batch.dataset_row[copy]])
        assert not torch.equal(features(model, batch)[copy], originals)  # a scaled copy has other statistics


@pytest.mark.parametrize("model_type", MODELS)
def test_features_follow_the_input_scales_when_they_are_refitted_or_loaded(model_type):
    ds = zoo()
    model = build(model_type, ds, normalize=True)
    loader = GraphLoader(ds, torch.arange(len(ds)), 8, cache=True)
    batch = next(iter(loader))
    identity = features(model, batch)
    model.fit_inputs(loader.networks(16))
    fitted = features(model, batch)
    assert not torch.equal(fitted, identity) and torch.equal(fitted, uncached(model, batch))
    model.load_state_dict(build(model_type, ds, normalize=True).state_dict())
    assert torch.equal(features(model, batch), identity)


@pytest.mark.parametrize("model_type", MODELS)
def test_state_dict_holds_no_cached_features(model_type):
    ds = zoo()
    model = build(model_type, ds)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for batch in GraphLoader(ds, torch.arange(len(ds)), 8, cache=True):
        model(batch)
    after = model.state_dict()
    assert model.feature_cache.size == len(ds)
    assert list(after) == list(before) and all(torch.equal(after[k], v) for k, v in before.items())


def test_only_batches_naming_a_fixed_dataset_view_are_cached():
    ds = zoo()
    model = build(StatNN, ds)
    model(collate_graphs([ds[i] for i in range(4)]))
    assert model.feature_cache.size == 0
    canonical = InMemoryGraphDataset(ds.nets, {"train": list(range(len(ds)))}, transform=PhaseCanonicalize())
    assert GraphLoader(canonical, torch.arange(4), 4).dataset_view is None  # a transform, and no graph cache
    views = {GraphLoader(d, torch.arange(4), 4, cache=True).dataset_view for d in (ds, canonical)}
    assert len(views) == 2  # the transform is part of the view
    model(next(iter(GraphLoader(canonical, torch.arange(4), 4, cache=True))))
    assert model.feature_cache.size == 4


def test_another_dataset_view_starts_the_cache_over():
    model = build(StatNN, zoo())
    for ds in (zoo(seed=0), zoo(seed=1), zoo(seed=0)):  # the same rows, other weights
        batch = next(iter(GraphLoader(ds, torch.arange(8), 8, cache=True)))
        assert torch.equal(features(model, batch), uncached(model, batch))
        assert model.feature_cache.size == 8


def test_rows_beyond_the_memory_bound_are_recomputed():
    ds = zoo()
    model = build(FlatMLP, ds)
    model.feature_cache = FeatureCache(max_bytes=10 * model.input_dim * 4)
    batches = list(passes(GraphLoader(ds, torch.arange(len(ds)), 8, shuffle=True, cache=True)))
    for batch in batches:
        assert torch.equal(features(model, batch), uncached(model, batch))
    assert model.feature_cache.size == 10 and len(model.feature_cache.table) == 10


@pytest.mark.parametrize("copies", [0, 1])
def test_a_loader_leaves_out_the_graphs_of_batches_whose_features_the_model_holds(copies):
    ds = zoo()
    model = build(StatNN, ds, normalize=True)

    def loader():
        return GraphLoader(ds, torch.arange(0, len(ds), 2), 4, shuffle=True, copies=copies, cache=True,
                           augment=RandomSymmetry(permute=False, max_log_scale=math.log(4.0)) if copies else None)

    light, full = loader(), loader()
    light.features_held = model.holds_features
    model.fit_inputs(light.networks(8))
    without_graphs = 0
    for a, b in zip(passes(light, 3), passes(full, 3)):
        without_graphs += a.x is None
        assert a.x is not None or not bool(a.copy_number.any())
        for key in ("score", "label", "dataset_row", "y", "copy_number"):
            assert torch.equal(a[key], b[key])
        assert torch.equal(model(a), model(b)) and torch.equal(model(b), model.mlp(uncached(model, b)))
    assert without_graphs > 0


def test_graphs_come_back_when_the_input_scales_change():
    ds = zoo()
    model = build(FlatMLP, ds, normalize=True)
    loader = GraphLoader(ds, torch.arange(8), 8, cache=True)
    loader.features_held = model.holds_features
    model(next(iter(loader)))
    assert next(iter(loader)).x is None
    model.fit_inputs(loader.networks(8))
    batch = next(iter(loader))
    assert batch.x is not None and torch.equal(model(batch), model.mlp(uncached(model, batch)))
    light = next(iter(loader))
    model.load_state_dict(build(FlatMLP, ds, normalize=True).state_dict())
    with pytest.raises(ValueError, match="not cached"):
        model(light)


@pytest.mark.parametrize("copies", [0, 1])
def test_training_with_cached_features_gives_exactly_the_uncached_result(tmp_path, monkeypatch, copies):
    from scalegmn.data import AugmentConfig
    from scalegmn.run.config import TrainConfig
    from scalegmn.run.trainer import train

    cfg = TrainConfig(epochs=3, batch_size=8, progress=False, num_threads=1, model={"hidden": 16, "normalize": True},
                      augment=AugmentConfig(copies=copies))
    ds = zoo()
    cached = train("genpred-mixed", "statnn", ds, seed=0, out_dir=tmp_path / "cached", config=cfg)
    monkeypatch.setattr(GraphLoader, "dataset_view", None)
    fresh = train("genpred-mixed", "statnn", ds, seed=0, out_dir=tmp_path / "fresh", config=cfg)
    assert cached["test"] == fresh["test"] and cached["val"] == fresh["val"]
    saved = [torch.load(tmp_path / run / "checkpoint.pt", weights_only=False)["model"] for run in ("cached", "fresh")]
    assert saved[0].keys() == saved[1].keys() and all(torch.equal(saved[0][k], saved[1][k]) for k in saved[0])
