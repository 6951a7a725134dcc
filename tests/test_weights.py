"""NetworkWeights: functional forward pass, nn.Sequential round trips, validation."""

import pytest
import torch
from torch import nn

from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren
from scalegmn.core.activations import Sine
from scalegmn.core.weights import NetworkWeights, forward


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "act_module, name",
    [(nn.ReLU(), "relu"), (nn.LeakyReLU(0.2), "leaky_relu"), (nn.Tanh(), "tanh"), (nn.Sigmoid(), "sigmoid"),
     (nn.GELU(), "gelu"), (Sine(30.0), "sine")],
)
def test_from_module_forward_matches_sequential(act_module, name):
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 8), act_module, nn.Linear(8, 5), act_module, nn.Linear(5, 2)).double()
    net = NetworkWeights.from_module(seq)
    assert net.activation == name
    x = torch.randn(7, 3, dtype=torch.float64)
    torch.testing.assert_close(forward(net, x), seq(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("pool", ["avg", "flatten"])
def test_cnn_forward_matches_sequential(pool):
    torch.manual_seed(0)
    head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 10)] if pool == "avg" else [nn.Flatten(), nn.Linear(6 * 4, 10)]
    seq = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 6, 3, 2, 1), nn.ReLU(), *head).double()
    net = NetworkWeights.from_module(seq)
    assert net.pooling == pool and net.strides[:2] == [2, 2] and net.paddings[:2] == [1, 1]
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(forward(net, x), seq(x), rtol=0, atol=1e-12)


def test_output_offset_and_w0_survive_module_round_trip():
    net = random_siren(w0=30.0, generator=gen(), output_offset=0.5)
    back = NetworkWeights.from_module(net.to_module())
    assert back.equals(net)
    x = torch.rand(11, 2, dtype=torch.float64) * 2 - 1
    torch.testing.assert_close(net.to_module()(x), forward(net, x), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: random_mlp([4, 8, 8, 3], "tanh", generator=gen()),
        lambda: random_siren(generator=gen()),
        lambda: random_cnn(generator=gen()),
        lambda: random_cnn((3, 5, 7), 4, "leaky_relu", pooling="flatten", flatten_size=4, generator=gen()),
    ],
)
def test_from_module_of_to_module_is_exact(make):
    net = make()
    back = NetworkWeights.from_module(net.to_module())
    assert back.equals(net)


def test_mismatched_layer_shapes_name_the_layer():
    g = gen()
    with pytest.raises(ValueError, match=r"layer 2: expects 5 inputs but layer 1 has 6 outputs"):
        NetworkWeights(
            [torch.randn(4, 3, generator=g), torch.randn(6, 4, generator=g), torch.randn(2, 5, generator=g)],
            [torch.randn(4), torch.randn(6), torch.randn(2)],
            "relu",
        )


def test_bias_shape_mismatch_names_the_layer():
    with pytest.raises(ValueError, match=r"layer 1: bias shape \(3,\) does not match 2 output units"):
        NetworkWeights([torch.randn(4, 3), torch.randn(2, 4)], [torch.randn(4), torch.randn(3)], "relu")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_values_name_the_layer(bad):
    w = [torch.randn(4, 3), torch.randn(2, 4)]
    w[1][0, 0] = bad
    with pytest.raises(ValueError, match=r"layer 1: weight contains non-finite values"):
        NetworkWeights(w, [torch.randn(4), torch.randn(2)], "relu")
    b = [torch.randn(4), torch.randn(2)]
    b[0][1] = bad
    with pytest.raises(ValueError, match=r"layer 0: bias contains non-finite values"):
        NetworkWeights([torch.randn(4, 3), torch.randn(2, 4)], b, "relu")


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'"):
        NetworkWeights([torch.randn(2, 3)], [torch.randn(2)], "swish")
    with pytest.raises(ValueError, match=r"module 1 \(Softplus\): unsupported module"):
        NetworkWeights.from_module(nn.Sequential(nn.Linear(3, 4), nn.Softplus(), nn.Linear(4, 1)))


def test_flatten_width_must_be_a_multiple_of_channels():
    with pytest.raises(ValueError, match=r"layer 1: 10 inputs are not a multiple of the 4 channels"):
        NetworkWeights(
            [torch.randn(4, 1, 3, 3), torch.randn(2, 10)], [torch.randn(4), torch.randn(2)], "relu",
            pooling="flatten",
        )
