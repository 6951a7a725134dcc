"""Baselines: StatNN features, the flat MLP's parameter vector, NFN through the nfn package."""

import pytest
import torch

from scalegmn.baselines import NFN, FlatMLP, StatNN
from scalegmn.baselines.statnn import statistics
from scalegmn.core.random_networks import random_cnn, random_mlp
from scalegmn.core.graph import collate, to_graph
from scalegmn.core.symmetry import random_symmetry
from scalegmn.core.weight_batch import WeightBatch


pytestmark = pytest.mark.usefixtures("seeded_single_thread")


def _mixed(gen):
    return [random_mlp((2, 8, 3), "relu", generator=gen), random_mlp((2, 6, 5, 3), "tanh", generator=gen),
            random_mlp((2, 8, 3), "tanh", generator=gen)]


def test_weight_batch_groups_a_mixed_batch_by_architecture_exactly():
    nets = _mixed(torch.Generator().manual_seed(1))
    groups = WeightBatch.from_graphs(collate([to_graph(n) for n in nets]))
    assert sorted(int(i) for indices, _ in groups for i in indices) == [0, 1, 2]
    for indices, group in groups:
        for row, i in enumerate(indices.tolist()):
            for w, w_ref in zip(group.weights, nets[i].weights):
                assert torch.equal(w[row], w_ref)
            for b, b_ref in zip(group.biases, nets[i].biases):
                assert torch.equal(b[row], b_ref)


def test_statistics_are_mean_std_and_quantiles():
    t = torch.arange(5.0).reshape(1, 5)
    assert torch.allclose(statistics(t), torch.tensor([[2.0, 2.0**0.5, 0.0, 1.0, 2.0, 3.0, 4.0]]))


def test_statnn_features_per_layer_with_zeros_for_missing_layers():
    nets = _mixed(torch.Generator().manual_seed(2))
    example = to_graph(nets[1])
    model = StatNN(example, 2).double()
    feats = model.features(collate([to_graph(n) for n in nets]))
    assert feats.shape == (3, 14 * 3)
    first = torch.cat([statistics(nets[0].weights[0].reshape(1, -1)), statistics(nets[0].biases[0].reshape(1, -1))], 1)
    assert torch.allclose(feats[0, :14], first[0])
    assert torch.equal(feats[0, 28:], torch.zeros(14, dtype=feats.dtype))
    assert bool((feats[1, 28:] != 0).any())


def test_flat_mlp_input_is_the_concatenated_parameters():
    net = random_cnn((1, 3, 4), 5, "relu", generator=torch.Generator().manual_seed(3))
    g = to_graph(net)
    model = FlatMLP(g, 1).double()
    expected = torch.cat([t.reshape(-1) for pair in zip(net.weights, net.biases) for t in pair])
    assert model.input_dim == net.num_parameters
    assert torch.equal(model.flatten(collate([g]))[0], expected)
    bigger = to_graph(random_cnn((1, 3, 8), 5, "relu", generator=torch.Generator().manual_seed(4)))
    with pytest.raises(ValueError, match="parameters"):
        model(collate([bigger]))


def _divided_by_layer_rms(nets):
    """``nets`` with every layer's weights and biases divided by their RMS over all of ``nets``."""
    def rms(tensors):
        return torch.cat([t.reshape(-1) for t in tensors]).square().mean().sqrt()
    layers = range(len(nets[0].weights))
    w_rms = [rms([n.weights[l] for n in nets]) for l in layers]
    b_rms = [rms([n.biases[l] for n in nets]) for l in layers]
    return [n.replace_params([w / s for w, s in zip(n.weights, w_rms)], [b / s for b, s in zip(n.biases, b_rms)])
            for n in nets]


@pytest.mark.parametrize("model_type", [StatNN, FlatMLP])
def test_normalized_baselines_see_each_layer_divided_by_its_rms_over_the_training_networks(model_type):
    nets = [random_mlp((2, 8, 6, 3), "tanh", generator=torch.Generator().manual_seed(s)) for s in range(4)]
    graphs = [to_graph(n) for n in nets]
    model = model_type(graphs[0], 2, normalize=True).double()
    model.fit_inputs([collate(graphs[:2]), collate(graphs[2:])])
    features = model.features if model_type is StatNN else model.flatten
    plain = model_type(graphs[0], 2).double()
    plain_features = plain.features if model_type is StatNN else plain.flatten
    expected = plain_features(collate([to_graph(n) for n in _divided_by_layer_rms(nets)]))
    assert torch.allclose(features(collate(graphs)), expected, atol=1e-12)
    assert not torch.allclose(plain_features(collate(graphs)), expected)


def _networks(kind: str, count: int, gen: torch.Generator) -> list:
    """``count`` random ReLU networks of one architecture: an MLP, a CNN with global pooling, or with a flatten."""
    make = {
        "mlp": lambda: random_mlp((2, 8, 6, 3), "relu", generator=gen),
        "cnn": lambda: random_cnn((1, 4, 5), 3, "relu", generator=gen),
        "flatten-cnn": lambda: random_cnn((1, 3, 4), 3, "relu", pooling="flatten", flatten_size=4, generator=gen),
    }[kind]
    return [make() for _ in range(count)]


@pytest.mark.parametrize("options", [{"hidden": 8, "layers": 2}, {"hidden": 8, "channels": [4, 4, 2]}])
@pytest.mark.parametrize("variant", ["np", "hnp"])
@pytest.mark.parametrize("kind", ["mlp", "cnn", "flatten-cnn"])
def test_nfn_is_permutation_invariant(variant, kind, options):
    gen = torch.Generator().manual_seed(5)
    nets = _networks(kind, 3, gen)
    model = NFN(to_graph(nets[0]), 2, variant=variant, **options).double()
    y = model(collate([to_graph(n) for n in nets]))
    y2 = model(collate([to_graph(random_symmetry(n, gen, scale=False)) for n in nets]))
    assert y.shape == (3, 2)
    assert torch.allclose(y, y2, atol=1e-10)


def test_nfn_rejects_other_architectures_and_variants():
    gen = torch.Generator().manual_seed(6)
    g = to_graph(random_mlp((2, 8, 3), "relu", generator=gen))
    with pytest.raises(ValueError, match="variant"):
        NFN(g, 1, variant="xyz")
    with pytest.raises(ValueError, match="at least one layer"):
        NFN(g, 1, channels=[])
    model = NFN(g, 1, hidden=4, layers=1)
    for other in ((2, 8, 8, 3), (3, 8, 3), (2, 8, 4)):  # another depth, input or output count
        with pytest.raises(ValueError, match="architecture"):
            model(collate([to_graph(random_mlp(other, "relu", generator=gen))]))


@pytest.mark.parametrize("variant", ["np", "hnp"])
def test_nfn_takes_a_batch_of_mixed_hidden_widths_network_by_network_and_stays_invariant(variant):
    """A mixed-width CNN zoo (widths 4, 8, 16 in one batch): each network's output is the one it gets alone,
    and hidden-neuron permutations of every network leave the outputs unchanged (float64)."""
    gen = torch.Generator().manual_seed(12)
    nets = [random_cnn((1, w, w), 3, "relu", generator=gen) for w in (8, 4, 16, 4, 8)]
    model = NFN(to_graph(nets[0]), 2, variant=variant, channels=[4, 2], pool="hnp", io_embed=variant == "np",
                normalize=True).double()
    model.fit_inputs([collate([to_graph(n) for n in nets])])
    y = model(collate([to_graph(n) for n in nets]))
    alone = torch.cat([model(collate([to_graph(n)])) for n in nets])
    permuted = model(collate([to_graph(random_symmetry(n, gen, scale=False)) for n in nets]))
    assert torch.allclose(y, alone, atol=1e-12)
    assert torch.allclose(y, permuted, atol=1e-10)


def test_nfn_layers_have_the_given_channels():
    """``channels`` sets each equivariant layer's output channels (the NFN paper's [16, 16, 5]); the head reads
    the last layer's pooled channels."""
    g = to_graph(random_mlp((2, 8, 3), "relu", generator=torch.Generator().manual_seed(7)))
    model = NFN(g, 1, hidden=8, channels=[6, 4, 2])
    assert [m.c_out for m in model.layers if hasattr(m, "c_out")] == [6, 4, 2]
    assert model.head[0].in_features == 2 * model.pool.get_num_outs(model.spec)


def _fitted_paper_np(nets):
    """The NFN paper's NP model (NP-PosEmb layers, HNP pooling, standardized inputs, ReLU head), fitted."""
    model = NFN(to_graph(nets[0]), 2, variant="np", channels=[4, 4, 2], pool="hnp", io_embed=True, normalize=True,
                head_hidden=16, head_layers=3, head_activation="relu").double()
    model.fit_inputs([collate([to_graph(n) for n in nets[:3]]), collate([to_graph(n) for n in nets[3:]])])
    return model


@pytest.mark.parametrize("kind", ["mlp", "cnn", "flatten-cnn"])
def test_nfn_paper_np_model_is_hidden_permutation_invariant_after_fitting_its_standardization(kind):
    gen = torch.Generator().manual_seed(8)
    nets = _networks(kind, 5, gen)
    model = _fitted_paper_np(nets)
    assert not torch.equal(model.standardize.weight_std_0, torch.ones_like(model.standardize.weight_std_0))
    y = model(collate([to_graph(n) for n in nets]))
    y2 = model(collate([to_graph(random_symmetry(n, gen, scale=False)) for n in nets]))
    assert torch.allclose(y, y2, atol=1e-10)


def test_nfn_standardization_gives_zero_mean_unit_std_over_batch_and_hidden_neurons():
    """Statistics pooled over the networks and each hidden-neuron axis, kept per input/output neuron."""
    gen = torch.Generator().manual_seed(9)
    nets = [random_mlp((2, 8, 6, 3), "relu", generator=gen) for _ in range(6)]
    model = _fitted_paper_np(nets)
    [(_, raw)] = model._features(collate([to_graph(n) for n in nets]))
    feats = model.standardize(raw)
    first, middle, last = feats.weights  # (B, 1, out, in): first layer keeps inputs, last keeps outputs
    assert model.standardize.weight_mean_0.shape == (1, 1, 1, 2)
    assert model.standardize.weight_mean_2.shape == (1, 1, 3, 1) and model.standardize.bias_mean_2.shape == (1, 1, 3)
    for x, axes in ((first, (0, 2)), (middle, (0, 2, 3)), (last, (0, 3)), (feats.biases[0], (0, 2))):
        assert torch.allclose(x.mean(axes), torch.zeros(()).double(), atol=1e-10)
        assert torch.allclose(x.std(axes, unbiased=False), torch.ones(()).double(), atol=1e-10)


def test_nfn_position_embeddings_tell_input_neurons_apart():
    """Plain NP layers are invariant to permuting the input neurons too; NP-PosEmb (io_embed) is not."""
    gen = torch.Generator().manual_seed(10)
    net = random_mlp((3, 6, 2), "relu", generator=gen)
    swapped = random_mlp((3, 6, 2), "relu", generator=gen)
    swapped.weights[0].copy_(net.weights[0][:, [1, 2, 0]])
    swapped.weights[1].copy_(net.weights[1])
    for b, b2 in zip(net.biases, swapped.biases):
        b2.copy_(b)
    pair = collate([to_graph(net), to_graph(swapped)])
    plain = NFN(to_graph(net), 1, hidden=4, layers=2).double()
    embedded = NFN(to_graph(net), 1, hidden=4, layers=2, io_embed=True).double()
    assert torch.allclose(plain(pair)[0], plain(pair)[1], atol=1e-12)
    assert not torch.allclose(embedded(pair)[0], embedded(pair)[1], atol=1e-6)


def test_nfn_refuses_unknown_pools_and_embeddings_on_hnp_layers():
    g = to_graph(random_mlp((2, 8, 3), "relu", generator=torch.Generator().manual_seed(11)))
    with pytest.raises(ValueError, match="pool"):
        NFN(g, 1, pool="max")
    with pytest.raises(ValueError, match="io_embed"):
        NFN(g, 1, variant="hnp", io_embed=True)
    with pytest.raises(ValueError, match="head_activation"):
        NFN(g, 1, head_activation="gelu")
    model = NFN(g, 1, hidden=4, layers=1, normalize=True)
    with pytest.raises(ValueError, match="no training networks"):
        model.fit_inputs([])
