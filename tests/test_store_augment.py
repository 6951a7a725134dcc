"""Augmentation: every copy computes the same function, seeds are derived and recorded, splits respected."""

import math

import pytest
import torch

from scalegmn.examples import random_cnn, random_mlp, random_siren
from scalegmn.store.augment import AugmentConfig, augment_network, augment_stream, copy_seed
from scalegmn.weights import forward


def labelled(net, **meta):
    net.meta = {"id": "n0", "source": "t", **meta}
    return net


def max_rel_error(a, b, x):
    ya, yb = forward(a, x), forward(b, x)
    return ((ya - yb).abs().max() / yb.abs().max()).item()


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu", "gelu"])
def test_cnn_copies_preserve_the_forward_pass(activation):
    g = torch.Generator().manual_seed(0)
    net = labelled(random_cnn((1, 4, 5), 3, activation, generator=g), score=0.7)
    out = augment_network(net, AugmentConfig(copies=3, seed=5))
    assert len(out) == 4 and out[0].equals(net)
    x = torch.randn(6, 1, 8, 8, dtype=torch.float64, generator=g)
    for copy in out[1:]:
        assert max_rel_error(copy, net, x) < 1e-12
        assert not torch.equal(copy.weights[0], net.weights[0])


def test_flatten_mlp_copies_preserve_the_forward_pass():
    g = torch.Generator().manual_seed(1)
    net = labelled(random_cnn((1, 3, 4), 2, "relu", pooling="flatten", flatten_size=4, generator=g))
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64, generator=g)
    for copy in augment_network(net, AugmentConfig(copies=2, max_log_scale=2.0))[1:]:
        assert max_rel_error(copy, net, x) < 1e-12
    mlp = labelled(random_mlp((3, 8, 8, 2), "relu", generator=g))
    for copy in augment_network(mlp, AugmentConfig(copies=2))[1:]:
        assert max_rel_error(copy, mlp, torch.randn(7, 3, dtype=torch.float64)) < 1e-12


def test_copies_record_source_seed_and_metadata():
    g = torch.Generator().manual_seed(2)
    net = labelled(random_mlp((2, 5, 1), "relu", generator=g), score=0.5, hparams={"lr": 0.1})
    out = augment_network(net, AugmentConfig(copies=2, seed=9))
    for k, copy in enumerate(out[1:]):
        assert copy.meta == {"id": f"n0~aug{k}", "source": "t", "score": 0.5, "hparams": {"lr": 0.1},
                             "source_id": "n0", "aug_seed": copy_seed(9, "n0", k)}
    assert net.meta == {"id": "n0", "source": "t", "score": 0.5, "hparams": {"lr": 0.1}}
    again = augment_network(net, AugmentConfig(copies=2, seed=9))
    assert all(a.equals(b) for a, b in zip(out, again))
    other = augment_network(net, AugmentConfig(copies=1, seed=10))[1]
    assert not other.equals(out[1])
    assert 0 <= copy_seed(0, "n0", 0) < 2**63 and copy_seed(0, "n0", 0) != copy_seed(0, "n0", 1)


def test_sine_copies_are_canonicalized_and_preserve_the_forward_pass():
    g = torch.Generator().manual_seed(3)
    net = labelled(random_siren((2, 16, 16, 1), generator=g, output_offset=0.5), label=4)
    out = augment_network(net, AugmentConfig(copies=3, seed=1, canonicalize=True))
    x = torch.rand(50, 2, dtype=torch.float64, generator=g) * 2 - 1
    for n in out:
        assert max_rel_error(n, net, x) < 1e-9
        for b in n.biases[:-1]:
            phase = net.w0 * b
            assert bool(((phase >= 0) & (phase <= math.pi / 2 + 1e-12)).all())
    canonical = out[0]
    for copy in out[1:]:  # canonical copies differ from the canonical original by a permutation only
        assert torch.equal(torch.sort(copy.biases[0]).values, torch.sort(canonical.biases[0]).values)


def test_no_copies_for_eval_networks_copies_or_k_zero():
    g = torch.Generator().manual_seed(4)
    val = labelled(random_mlp((2, 3, 1), "tanh", generator=g), split="val")
    assert len(augment_network(val, AugmentConfig(copies=4))) == 1
    train = labelled(random_mlp((2, 3, 1), "tanh", generator=g), split="train")
    assert len(augment_network(train, AugmentConfig(copies=4))) == 5
    assert len(augment_network(train, AugmentConfig(copies=0))) == 1
    copy = augment_network(train, AugmentConfig(copies=1))[1]
    assert len(augment_network(copy, AugmentConfig(copies=3))) == 1


def test_bad_input_is_named():
    g = torch.Generator().manual_seed(5)
    nets = [labelled(random_mlp((2, 3, 1), "relu", generator=g)), random_mlp((2, 3, 1), "relu", generator=g)]
    with pytest.raises(ValueError, match="network 1: network has no meta\\['id'\\]"):
        list(augment_stream(nets, AugmentConfig(copies=1)))
    with pytest.raises(ValueError, match="copies must be >= 0"):
        AugmentConfig(copies=-1)
