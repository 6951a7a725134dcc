"""The stable public API: every documented name is importable from ``scalegmn`` and is the real object."""

import pytest
import torch

import scalegmn


def test_every_public_name_resolves_to_the_implementation():
    from scalegmn.core.graph import to_graph
    from scalegmn.data.transforms import RandomSymmetry
    from scalegmn.core.weights import NetworkWeights

    for name in scalegmn.__all__:
        assert getattr(scalegmn, name) is not None
    assert scalegmn.to_graph is to_graph and scalegmn.RandomSymmetry is RandomSymmetry
    assert scalegmn.NetworkWeights is NetworkWeights
    assert set(scalegmn.__all__) >= {"NetworkWeights", "forward", "random_symmetry", "phase_canonicalize", "to_graph",
                                     "from_graph", "collate", "WeightBatch", "RandomSymmetry", "open_dataset",
                                     "build_model", "read_small_cnn_zoo", "read_dws_inrs", "load_networks"}


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        scalegmn.nope  # noqa: B018


def test_readme_example_runs_with_the_public_names():
    from scalegmn import collate, forward, from_graph, random_symmetry, to_graph
    from scalegmn.core.random_networks import random_mlp

    net = random_mlp((2, 8, 3), "relu", generator=torch.Generator().manual_seed(0))
    x = torch.randn(4, 2, dtype=net.dtype)
    aug = random_symmetry(net, torch.Generator().manual_seed(0))
    torch.testing.assert_close(forward(aug, x), forward(net, x))
    assert from_graph(to_graph(net)).equals(net) and collate([to_graph(net), to_graph(aug)]).num_graphs == 2


def test_cli_prints_the_installed_package_version():
    from importlib.metadata import version

    from typer.testing import CliRunner

    from scalegmn.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"scalegmn {version('scalegmn')}"
