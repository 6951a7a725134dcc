"""ScaleGMN / ScaleGMN-B / GMN: invariance, equivariance, mixed batches, stability, gradients (float64)."""

import pytest
import torch

from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren
from scalegmn.core.graph import collate, from_graph, to_graph
from scalegmn.registry import build_model
from scalegmn.core.symmetry import apply_symmetry, random_symmetry, sample_symmetry
from scalegmn.core.weight_batch import WeightBatch


pytestmark = pytest.mark.usefixtures("seeded_single_thread")


def _as_params(net, x, edge_attr):
    """Node/edge features aligned with ``net``'s graph read as parameters of ``net``'s architecture."""
    return WeightBatch.from_graphs(to_graph(net), x, edge_attr)[0][1].networks([net])[0]


def _rel(a, b):
    return float(((a - b).norm() / a.norm()).detach())


def _nets(kind: str, gen: torch.Generator):
    if kind == "relu-mlp":
        return [random_mlp((2, 16, 16, 3), "relu", generator=gen) for _ in range(3)]
    if kind == "tanh-mlp":
        return [random_mlp((2, 16, 16, 3), "tanh", generator=gen) for _ in range(3)]
    if kind == "sine-siren":
        return [random_siren((2, 16, 16, 1), generator=gen) for _ in range(3)]
    if kind == "relu-cnn":
        return [random_cnn((1, 4, 6, 5), 3, "relu", generator=gen) for _ in range(3)]
    if kind == "tanh-cnn":
        return [random_cnn((1, 4, 6, 5), 3, "tanh", generator=gen) for _ in range(3)]
    if kind == "mixed-relu-tanh-cnn":
        return [random_cnn((1, 4, 6, 5), 3, act, generator=gen) for act in ("relu", "tanh", "relu", "tanh")]
    if kind == "mixed-architectures":
        return [random_mlp((2, 8, 3), "relu", generator=gen), random_mlp((2, 16, 12, 3), "tanh", generator=gen),
                random_mlp((2, 6, 9, 7, 3), "relu", generator=gen), random_mlp((2, 5, 3), "sigmoid", generator=gen)]
    if kind == "flatten-cnn":
        return [random_cnn((1, 3, 4), 3, act, pooling="flatten", flatten_size=4, generator=gen)
                for act in ("relu", "tanh")]
    raise AssertionError(kind)


KINDS = ["relu-mlp", "tanh-mlp", "sine-siren", "relu-cnn", "tanh-cnn", "mixed-relu-tanh-cnn",
         "mixed-architectures", "flatten-cnn"]


def _fitted(name: str, nets, out_dim: int, **options):
    """A float64 graph model with ``normalize=True`` whose input scales were fitted to ``nets`` in two batches."""
    graphs = [to_graph(n) for n in nets]
    model = build_model(name, graphs[0], out_dim, hidden=32, layers=3, normalize=True, **options).double()
    model.fit_inputs([collate(graphs[:1]), collate(graphs[1:])])
    return model


SCALE_MODELS = ["scalegmn", "scalegmn-b", "scalegmn-fast", "scalegmn-b-fast"]
GRAPH_MODELS = SCALE_MODELS + ["gmn", "gmn-fast"]


@pytest.mark.parametrize("name", SCALE_MODELS)
@pytest.mark.parametrize("kind", KINDS)
def test_scalegmn_is_invariant_to_random_permutations_and_scalings(name, kind):
    gen = torch.Generator().manual_seed(1)
    nets = _nets(kind, gen)
    graphs = [to_graph(n) for n in nets]
    model = build_model(name, graphs[0], 3, hidden=32, layers=3).double()
    y = model(collate(graphs))
    for _ in range(2):
        y2 = model(collate([to_graph(random_symmetry(n, gen)) for n in nets]))
        assert _rel(y, y2) < 1e-6


def test_random_symmetries_change_the_weights_substantially():
    gen = torch.Generator().manual_seed(2)
    net = _nets("relu-cnn", gen)[0]
    moved = random_symmetry(net, gen)
    assert _rel(to_graph(net).edge_attr, to_graph(moved).edge_attr) > 0.3


@pytest.mark.parametrize("name", ["gmn", "gmn-fast"])
def test_gmn_is_permutation_but_not_scale_invariant(name):
    gen = torch.Generator().manual_seed(3)
    nets = _nets("relu-cnn", gen)
    graphs = [to_graph(n) for n in nets]
    model = build_model(name, graphs[0], 3, hidden=32, layers=3).double()
    y = model(collate(graphs))
    permuted = model(collate([to_graph(random_symmetry(n, gen, scale=False)) for n in nets]))
    scaled = model(collate([to_graph(random_symmetry(n, gen, permute=False)) for n in nets]))
    assert _rel(y, permuted) < 1e-10
    assert _rel(y, scaled) > 1e-4


@pytest.mark.parametrize("name", SCALE_MODELS + ["gmn", "gmn-fast"])
def test_scalegmn_reads_the_phase_and_full_forms_of_a_siren_alike_and_gmn_does_not(name):
    from scalegmn.core.symmetry import phase_canonicalize

    nets = _nets("sine-siren", torch.Generator().manual_seed(6))
    model = build_model(name, to_graph(nets[0]), 3, hidden=32, layers=3).double()
    phase = model(collate([to_graph(phase_canonicalize(n, "phase")) for n in nets]))
    full = model(collate([to_graph(phase_canonicalize(n, "full")) for n in nets]))
    if name.startswith("gmn"):
        assert _rel(phase, full) > 1e-4
    else:
        assert _rel(phase, full) < 1e-6


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_mixed_architecture_batch_equals_graph_by_graph(name):
    nets = _nets("mixed-architectures", torch.Generator().manual_seed(4))
    graphs = [to_graph(n) for n in nets]
    model = build_model(name, graphs[0], 2, hidden=16, layers=2).double()
    together = model(collate(graphs))
    alone = torch.cat([model(collate([g])) for g in graphs])
    assert torch.allclose(together, alone, atol=1e-12)


@pytest.mark.parametrize("name", SCALE_MODELS)
@pytest.mark.parametrize("kind", ["relu-mlp", "sine-siren", "mixed-relu-tanh-cnn"])
@pytest.mark.parametrize("normalize", [False, True])
def test_equivariant_head_transforms_like_the_weights(name, kind, normalize):
    gen = torch.Generator().manual_seed(5)
    nets = _nets(kind, gen)
    if normalize:  # per-layer input scales fitted to the networks
        model = _fitted(name, nets, 1, equivariant=True)
    else:
        model = build_model(name, to_graph(nets[0]), 1, hidden=32, layers=3, equivariant=True).double()
    for net in nets:
        g = to_graph(net)
        node, edge = model(collate([g]))
        assert node.shape == (g.num_nodes, 1) and edge.shape == g.edge_attr.shape
        t = sample_symmetry(net, gen)
        moved = apply_symmetry(net, t)
        node2, edge2 = model(collate([to_graph(moved)]))
        expected = apply_symmetry(_as_params(net, node, edge), t)
        got = _as_params(moved, node2, edge2)
        for a, b in zip(expected.weights + expected.biases, got.weights + got.biases):
            assert _rel(a, b) < 1e-6


def test_edited_network_is_a_valid_network_of_the_same_architecture():
    net = random_siren((2, 8, 8, 1), generator=torch.Generator().manual_seed(6))
    g = to_graph(net)
    model = build_model("scalegmn", g, 1, hidden=16, layers=2, equivariant=True).double()
    node, edge = model(collate([g]))
    edited = _as_params(net, g.x + 0.1 * node, g.edge_attr + 0.1 * edge)
    assert edited.architecture == net.architecture


def test_bidirectional_model_is_stable_with_near_zero_weights():
    gen = torch.Generator().manual_seed(7)
    nets = [random_mlp((2, 16, 16, 3), "relu", generator=gen), random_cnn((1, 4, 6, 5), 3, "relu", generator=gen)]
    tiny = []
    for net in nets:
        weights = [w * 1e-20 for w in net.weights]
        weights[1] = torch.zeros_like(weights[1])
        tiny.append(net.replace_params(weights, [b * 1e-20 for b in net.biases]))
    for net, name in zip(tiny * 2, ["scalegmn-b"] * len(tiny) + ["scalegmn-b-fast"] * len(tiny)):
        g = to_graph(net)
        for equivariant in (False, True):
            model = build_model(name, g, 2, hidden=16, layers=2, equivariant=equivariant)
            out = model(collate([g]))
            outs = out if isinstance(out, tuple) else (out,)
            assert all(torch.isfinite(o).all() for o in outs)
            sum(o.square().sum() for o in outs).backward()
            assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("name", GRAPH_MODELS)
@pytest.mark.parametrize("equivariant", [False, True])
def test_gradients_reach_every_parameter(name, equivariant):
    gen = torch.Generator().manual_seed(8)
    graphs = [to_graph(n) for n in _nets("mixed-relu-tanh-cnn", gen)]
    model = build_model(name, graphs[0], 2, hidden=16, layers=2, equivariant=equivariant)
    out = model(collate(graphs))
    outs = out if isinstance(out, tuple) else (out,)
    sum((o * torch.randn_like(o)).sum() for o in outs).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), pname


def test_model_accepts_float32_training_batches_and_narrower_edges():
    gen = torch.Generator().manual_seed(9)
    cnn = to_graph(random_cnn((1, 4, 6, 5), 3, "relu", generator=gen))
    mlp_graph = to_graph(random_mlp((1, 4, 3), "relu", generator=gen, dtype=torch.float32))
    model = build_model("scalegmn", cnn, 2, hidden=16, layers=2)
    assert model(collate([mlp_graph])).dtype == torch.float32


def test_bad_configurations_raise_clear_errors():
    g = to_graph(random_mlp((2, 4, 3), "relu", generator=torch.Generator().manual_seed(10)))
    with pytest.raises(ValueError, match="unknown ScaleGMN config"):
        build_model("scalegmn", g, 1, hiden=8)
    with pytest.raises(ValueError, match="unknown symmetry"):
        build_model("scalegmn", g, 1, symmetry="rotation")
    with pytest.raises(ValueError, match="unknown edges"):
        build_model("scalegmn", g, 1, edges="dense")
    model = build_model("scalegmn", g, 1, hidden=8, layers=1, max_layers=2)
    deep = to_graph(random_mlp((2, 4, 4, 4, 3), "relu", generator=torch.Generator().manual_seed(11)))
    with pytest.raises(ValueError, match="max_layers"):
        model(collate([deep]))
    other = to_graph(random_mlp((2, 4, 5), "relu", generator=torch.Generator().manual_seed(12)))
    with pytest.raises(ValueError, match="outputs"):
        build_model("scalegmn", g, 1, hidden=8, layers=1)(collate([other]))


def test_graph_round_trip_of_test_networks_is_exact():
    for net in _nets("mixed-architectures", torch.Generator().manual_seed(13)):
        assert from_graph(to_graph(net)).equals(net)


@pytest.mark.parametrize("name", ["scalegmn", "scalegmn-fast"])
def test_float32_model_stays_invariant_when_a_symmetry_makes_weights_huge(name):
    """Scalings by 1e-5 ... 1e15 give one layer weights of 1e20, whose squares overflow float32."""
    gen = torch.Generator().manual_seed(14)
    net = random_mlp((2, 8, 8, 8, 8, 3), "relu", generator=gen)
    t = sample_symmetry(net, gen, permute=False)
    t = type(t)(t.permutations, [torch.full_like(s, q) for s, q in zip(t.scales, (1e-5, 1e15, 1e10, 1e5))])
    huge = apply_symmetry(net, t)
    assert max(float(w.abs().max()) for w in huge.weights) > 1e19
    model = build_model(name, to_graph(net), 2, hidden=16, layers=3)
    y = model(collate([to_graph(net.to(torch.float32))]))
    y_huge = model(collate([to_graph(huge.to(torch.float32))]))
    assert _rel(y, y_huge) < 1e-3


@pytest.mark.parametrize("name", ["scalegmn", "scalegmn-b", "gmn", "scalegmn-fast", "scalegmn-b-fast"])
def test_float32_model_is_finite_on_a_network_with_weights_of_1e30(name):
    gen = torch.Generator().manual_seed(16)
    net = random_mlp((2, 8, 8, 3), "relu", generator=gen, dtype=torch.float32)
    weights = [w * 1e30 if i == 1 else w for i, w in enumerate(net.weights)]
    g = to_graph(net.replace_params(weights, net.biases))
    for equivariant in (False, True):
        model = build_model(name, g, 2, hidden=16, layers=2, equivariant=equivariant)
        out = model(collate([g]))
        outs = out if isinstance(out, tuple) else (out,)
        assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_float32_gradients_are_finite_on_denormal_weights(name):
    """Trained zoos hold weights as small as 6e-44 (float32 denormals); canonicalizing them must not
    give inf or NaN gradients."""
    gen = torch.Generator().manual_seed(17)
    net = random_cnn((1, 4, 6, 5), 3, "relu", generator=gen, dtype=torch.float32)
    weights = [w.clone() for w in net.weights]
    weights[1].view(-1)[:5] = 6e-44
    weights[2].view(-1)[: weights[2].numel() // 2] = 1e-40
    g = to_graph(net.replace_params(weights, [b * 1e-40 for b in net.biases]))
    model = build_model(name, g, 2, hidden=16, layers=2)
    model(collate([g, to_graph(net)])).square().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_fast_and_faithful_variants_are_one_model_with_a_switch():
    g = to_graph(_nets("relu-cnn", torch.Generator().manual_seed(15))[0])
    for name, edges, bidirectional, symmetry in [("scalegmn", "per-edge", False, "auto"),
                                                 ("scalegmn-b", "per-edge", True, "auto"),
                                                 ("gmn", "per-edge", False, "permutation"),
                                                 ("scalegmn-fast", "factorized", False, "auto"),
                                                 ("scalegmn-b-fast", "factorized", True, "auto"),
                                                 ("gmn-fast", "factorized", False, "permutation")]:
        cfg = build_model(name, g, 1, hidden=8, layers=1).config
        assert (cfg.edges, cfg.bidirectional, cfg.symmetry) == (edges, bidirectional, symmetry), name


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_dropout_acts_while_training_only_and_keeps_evaluation_invariant(name):
    gen = torch.Generator().manual_seed(16)
    nets = _nets("tanh-mlp", gen)
    graphs = [to_graph(n) for n in nets]
    model = build_model(name, graphs[0], 3, hidden=32, layers=3, dropout=0.2).double()
    model.eval()
    y = model(collate(graphs))
    expected = (lambda n: random_symmetry(n, gen)) if name.startswith("scalegmn") else \
        (lambda n: random_symmetry(n, gen, scale=False))
    assert _rel(y, model(collate([to_graph(expected(n)) for n in nets]))) < 1e-6
    model.train()
    assert _rel(y, model(collate(graphs))) > 1e-4
    with pytest.raises(ValueError, match="dropout must be in"):
        build_model(name, graphs[0], 3, dropout=1.0)


@pytest.mark.parametrize("layer_norm", [True, False])
def test_symmetrized_sign_gates_start_flat_without_layer_norm_only(layer_norm):
    """``ρ(z) + ρ(-z)`` of a canonicalized projection changes only by about ``z²`` without a LayerNorm: its
    spread over random inputs at initialisation is a few percent of a plain row's; with it, comparable."""
    from scalegmn.nn.invariant import ScaleInv
    from scalegmn.nn.modes import PLAIN, SIGN

    torch.manual_seed(0)
    inv = ScaleInv(32, 32, 64, 1, layer_norm=layer_norm).double()
    h = torch.randn(512, 32, dtype=torch.float64)
    with torch.no_grad():
        spread = {m: float(inv(h, torch.full((512,), m)).std(0).mean()) for m in (SIGN, PLAIN)}
    assert (spread[SIGN] > 0.3 * spread[PLAIN]) == layer_norm


@pytest.mark.parametrize("name", ["scalegmn-fast", "scalegmn-b-fast"])
def test_fast_layers_normalise_their_invariant_gates_like_the_per_edge_layer(name):
    from scalegmn.nn.norms import SafeLayerNorm

    model = build_model(name, to_graph(_nets("sine-siren", torch.Generator().manual_seed(0))[0]), 3, hidden=8)
    for layer in model.layers:
        assert isinstance(layer.gates.inv.head.norm, SafeLayerNorm)
        assert isinstance(layer.update.eq.inv.norm, SafeLayerNorm)


@pytest.mark.parametrize("name", SCALE_MODELS)
@pytest.mark.parametrize("kind", ["relu-mlp", "sine-siren", "mixed-relu-tanh-cnn", "mixed-architectures"])
def test_input_scales_keep_scalegmn_invariant_to_random_permutations_and_scalings(name, kind):
    gen = torch.Generator().manual_seed(18)
    nets = _nets(kind, gen)
    model = _fitted(name, nets, 3)
    assert not torch.equal(model.input_scale.weight_rms, torch.ones_like(model.input_scale.weight_rms))
    y = model(collate([to_graph(n) for n in nets]))
    for _ in range(2):
        assert _rel(y, model(collate([to_graph(random_symmetry(n, gen)) for n in nets]))) < 1e-6


@pytest.mark.parametrize("name", ["gmn", "gmn-fast"])
def test_input_scales_keep_gmn_permutation_invariant(name):
    gen = torch.Generator().manual_seed(19)
    nets = _nets("sine-siren", gen)
    model = _fitted(name, nets, 3)
    y = model(collate([to_graph(n) for n in nets]))
    assert _rel(y, model(collate([to_graph(random_symmetry(n, gen, scale=False)) for n in nets]))) < 1e-10


def test_input_scales_give_every_layer_of_the_training_networks_unit_rms():
    nets = _nets("sine-siren", torch.Generator().manual_seed(21))
    scale = _fitted("gmn-fast", nets, 1).input_scale
    batch = collate([to_graph(n) for n in nets])
    attr, x = scale(batch.edge_attr, batch.x, batch)
    for layer in range(len(nets[0].weights)):
        assert float(attr[batch.edge_layer == layer].square().mean().sqrt()) == pytest.approx(1.0)
        assert float(x[batch.node_layer == layer + 1].square().mean().sqrt()) == pytest.approx(1.0)
    assert torch.equal(x[batch.node_layer == 0], batch.x[batch.node_layer == 0])  # inputs have no bias: kept


def test_input_scales_are_the_identity_until_fitted_and_refuse_no_networks():
    g = to_graph(_nets("relu-mlp", torch.Generator().manual_seed(22))[0])
    plain = build_model("scalegmn", g, 2, hidden=8, layers=1).double()
    scaled = build_model("scalegmn", g, 2, hidden=8, layers=1, normalize=True).double()
    scaled.load_state_dict(plain.state_dict(), strict=False)
    assert torch.equal(plain(collate([g])), scaled(collate([g])))
    plain.fit_inputs([])  # without normalize: nothing to fit
    with pytest.raises(ValueError, match="no training networks"):
        scaled.fit_inputs([])
