"""Permutation and scaling symmetries preserve the function; SIREN phase canonicalization."""

import math

import pytest
import torch

from scalegmn.core.random_networks import random_cnn, random_mlp, random_siren
from scalegmn.core.symmetry import apply_symmetry, phase_canonicalize, random_symmetry, sample_symmetry, scaling_group
from scalegmn.core.weights import forward


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


NETWORKS = {
    "relu_mlp": lambda: (random_mlp([5, 16, 12, 16, 3], "relu", generator=gen(1)), torch.randn(32, 5, dtype=torch.float64)),
    "leaky_relu_mlp": lambda: (random_mlp([5, 16, 12, 3], "leaky_relu", generator=gen(2)), torch.randn(32, 5, dtype=torch.float64)),
    "tanh_mlp": lambda: (random_mlp([5, 16, 12, 3], "tanh", generator=gen(3)), torch.randn(32, 5, dtype=torch.float64)),
    "sine_mlp": lambda: (random_mlp([2, 16, 16, 1], "sine", generator=gen(4)), torch.rand(64, 2, dtype=torch.float64)),
    "siren_w0_30": lambda: (random_siren(generator=gen(5)), torch.rand(64, 2, dtype=torch.float64) * 2 - 1),
    "sigmoid_mlp": lambda: (random_mlp([5, 16, 3], "sigmoid", generator=gen(6)), torch.randn(32, 5, dtype=torch.float64)),
    "gelu_mlp": lambda: (random_mlp([5, 16, 3], "gelu", generator=gen(7)), torch.randn(32, 5, dtype=torch.float64)),
    "relu_cnn": lambda: (random_cnn(generator=gen(8)), torch.randn(8, 1, 8, 8, dtype=torch.float64)),
    "tanh_cnn_flatten": lambda: (
        random_cnn((3, 6, 5), 4, "tanh", pooling="flatten", flatten_size=4, generator=gen(9)),
        torch.randn(8, 3, 8, 8, dtype=torch.float64),
    ),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_random_symmetry_preserves_forward_and_changes_weights(name):
    net, x = NETWORKS[name]()
    sym = random_symmetry(net, gen(123))
    assert rel_err(forward(sym, x), forward(net, x)) < 1e-9
    changed = [not torch.equal(a, b) for a, b in zip(sym.weights, net.weights)]
    assert all(changed[:-1]) or all(changed[1:])
    assert any(changed)


def test_relu_scaling_preserves_cnn_forward():
    net, x = NETWORKS["relu_cnn"]()
    t = sample_symmetry(net, gen(0), permute=False)
    assert all((q > 0).all() and not torch.allclose(q, torch.ones_like(q)) for q in t.scales)
    sym = apply_symmetry(net, t)
    assert rel_err(forward(sym, x), forward(net, x)) < 1e-9


@pytest.mark.parametrize("activation, expected", [("relu", "positive"), ("leaky_relu", "positive"),
                                                   ("tanh", "sign"), ("sine", "sign"),
                                                   ("sigmoid", "none"), ("gelu", "none")])
def test_scaling_group_of_each_activation(activation, expected):
    assert scaling_group(activation) == expected


@pytest.mark.parametrize("activation", ["sigmoid", "gelu"])
def test_permutation_only_activations_get_no_scaling(activation):
    net = random_mlp([4, 10, 10, 2], activation, generator=gen())
    t = sample_symmetry(net, gen(1))
    assert all(torch.equal(q, torch.ones_like(q)) for q in t.scales)
    assert any(not torch.equal(p, torch.arange(len(p))) for p in t.permutations)


@pytest.mark.parametrize("activation", ["tanh", "sine"])
def test_sign_groups_draw_signs(activation):
    net = random_mlp([4, 64, 2], activation, generator=gen())
    (q,) = sample_symmetry(net, gen(1)).scales
    assert set(q.tolist()) == {-1.0, 1.0}


def test_positive_scales_stay_in_the_requested_range():
    net = random_mlp([4, 500, 2], "relu", generator=gen())
    (q,) = sample_symmetry(net, gen(1), max_log_scale=math.log(3.0)).scales
    assert (q > 0).all() and q.max() <= 3.0 and q.min() >= 1 / 3.0 and q.max() > 2.5


def test_random_symmetry_is_deterministic_for_a_seed():
    net = random_mlp([4, 8, 8, 2], "relu", generator=gen())
    assert random_symmetry(net, gen(7)).equals(random_symmetry(net, gen(7)))
    assert not random_symmetry(net, gen(7)).equals(random_symmetry(net, gen(8)))


def siren_and_grid():
    net = random_siren(generator=gen(11))
    coords = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 16), torch.linspace(-1, 1, 16), indexing="ij"), -1)
    return net, coords.reshape(-1, 2).double()


def test_phase_canonicalize_preserves_forward():
    net, x = siren_and_grid()
    canon = phase_canonicalize(net)
    assert rel_err(forward(canon, x), forward(net, x)) < 1e-9
    for b in canon.biases[:-1]:
        z = canon.w0 * b
        assert (z >= 0).all() and (z <= math.pi / 2 + 1e-12).all()
    assert torch.equal(canon.biases[-1], net.biases[-1])
    assert not canon.equals(net)


def test_phase_canonicalize_is_idempotent():
    net, _ = siren_and_grid()
    once = phase_canonicalize(net)
    assert phase_canonicalize(once).equals(once)


def test_sign_flipped_sirens_canonicalize_to_identical_weights():
    net, x = siren_and_grid()
    a = random_symmetry(net, gen(1), permute=False)
    b = random_symmetry(net, gen(2), permute=False)
    assert not a.equals(b)
    assert phase_canonicalize(a).equals(phase_canonicalize(b))
    assert rel_err(forward(phase_canonicalize(a), x), forward(net, x)) < 1e-9


def test_phase_form_undoes_wraps_keeps_signs_and_preserves_forward():
    net, x = siren_and_grid()
    phase = phase_canonicalize(net, "phase")
    assert rel_err(forward(phase, x), forward(net, x)) < 1e-9
    z = torch.cat([phase.w0 * b for b in phase.biases[:-1]])
    assert (z >= -math.pi / 2).all() and (z < math.pi / 2).all() and (z < 0).any()
    assert phase_canonicalize(phase, "phase").equals(phase)
    assert phase_canonicalize(phase, "full").equals(phase_canonicalize(net, "full"))
    assert phase_canonicalize(net, "none").equals(net)


def test_phase_form_leaves_sign_orbits_apart_and_full_form_merges_them():
    net, x = siren_and_grid()
    flipped = random_symmetry(phase_canonicalize(net, "phase"), gen(3), permute=False)
    assert rel_err(forward(flipped, x), forward(net, x)) < 1e-9
    assert phase_canonicalize(flipped, "phase").equals(flipped)
    assert not flipped.equals(phase_canonicalize(net, "phase"))
    assert phase_canonicalize(flipped, "full").equals(phase_canonicalize(net, "full"))


def test_unknown_canonical_form_is_refused():
    net, _ = siren_and_grid()
    with pytest.raises(ValueError, match="none, phase, full"):
        phase_canonicalize(net, "signs")


def test_phase_canonicalize_rejects_other_activations():
    with pytest.raises(ValueError, match="sine network"):
        phase_canonicalize(random_mlp([2, 4, 1], "tanh", generator=gen()))
