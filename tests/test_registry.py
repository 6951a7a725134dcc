"""The registry: names, import paths, errors, and every model learning a tiny batch."""

import pytest
import torch

from scalegmn.core.random_networks import random_cnn
from scalegmn.core.graph import collate, to_graph
from scalegmn.registry import MODEL_NAMES, build_model

USER_MODULE = """
from torch import nn


class TinyMetanet(nn.Module):
    def __init__(self, example, out_dim, hidden=4):
        super().__init__()
        self.hidden = hidden
        self.lin = nn.Linear(example.edge_attr.shape[1], out_dim)

    def forward(self, batch):
        return self.lin(batch.edge_attr).sum(0, keepdim=True).expand(batch.num_graphs, -1)
"""


pytestmark = pytest.mark.usefixtures("seeded_single_thread")


def _graphs(n: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return [to_graph(random_cnn((1, 4, 4), 3, act, generator=gen, dtype=torch.float32))
            for act in ["relu", "tanh"] * (n // 2)]


def test_registered_names():
    assert set(MODEL_NAMES) == {"scalegmn", "scalegmn-b", "gmn", "scalegmn-fast", "scalegmn-b-fast", "gmn-fast",
                                "statnn", "mlp", "nfn-np", "nfn-hnp"}


def test_models_can_be_named_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "my_metanets.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    g = _graphs(2)
    model = build_model("my_metanets:TinyMetanet", g[0], 3, hidden=2)
    assert type(model).__name__ == "TinyMetanet" and model.hidden == 2
    assert model(collate(g)).shape == (2, 3)


def test_unknown_models_and_unsupported_options_raise():
    g = _graphs(2)[0]
    with pytest.raises(ValueError, match="unknown model"):
        build_model("transformer", g, 1)
    with pytest.raises(ValueError, match="cannot import"):
        build_model("no_such_package.mod:Model", g, 1)
    with pytest.raises(ValueError, match="no class"):
        build_model("scalegmn.registry:Nope", g, 1)
    with pytest.raises(ValueError, match="equivariant"):
        build_model("statnn", g, 1, equivariant=True)


def test_default_scalegmn_matches_the_paper_size_and_accepts_overrides():
    g = _graphs(2)[0]
    model = build_model("scalegmn", g, 1)
    assert model.config.hidden == 128 and model.config.layers == 4
    small = build_model("scalegmn-b", g, 1, hidden=8, layers=2)
    assert small.config.bidirectional and len(small.layers) == 2


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_overfits_a_tiny_batch(name):
    graphs = _graphs(8, seed=1)
    batch = collate(graphs)
    target = torch.randn(8, 1, generator=torch.Generator().manual_seed(2))
    model = build_model(name, graphs[0], 1, hidden=16, layers=2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    first = None
    for _ in range(300):
        opt.zero_grad()
        loss = (model(batch) - target).square().mean()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
        if loss.item() < first / 10:
            break
    assert loss.item() < first / 10, f"{name}: loss {first:.3g} -> {loss.item():.3g}"


def test_models_declare_whether_they_can_be_equivariant_on_their_class():
    from scalegmn.baselines import NFN, FlatMLP, StatNN
    from scalegmn.nn import ScaleGMN
    from scalegmn.registry import equivariant_models, supports_equivariant

    assert StatNN.equivariant is False and FlatMLP.equivariant is False and NFN.equivariant is False
    assert ScaleGMN.supports_equivariant is True
    g = _graphs(2)[0]
    assert build_model("gmn", g, 1, hidden=8, layers=1, equivariant=True).equivariant is True
    assert build_model("scalegmn", g, 1, hidden=8, layers=1).equivariant is False
    assert build_model("statnn", g, 1).equivariant is False
    assert equivariant_models() == tuple(n for n in MODEL_NAMES if n.startswith(("scalegmn", "gmn")))
    assert not supports_equivariant("mlp") and supports_equivariant("scalegmn-b-fast")


def test_plug_in_classes_without_the_attribute_count_as_invariant_only(tmp_path, monkeypatch):
    from scalegmn.registry import supports_equivariant

    (tmp_path / "plugin_metanets.py").write_text(USER_MODULE + "\n\nclass Declared(TinyMetanet):\n"
                                             "    supports_equivariant = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not supports_equivariant("plugin_metanets:TinyMetanet")
    assert supports_equivariant("plugin_metanets:Declared")
    with pytest.raises(ValueError, match="'plugin_metanets:TinyMetanet' has no equivariant variant"):
        build_model("plugin_metanets:TinyMetanet", _graphs(2)[0], 1, equivariant=True)


def test_nfn_reads_checkpoints_that_saved_its_layers_under_the_old_name():
    pytest.importorskip("nfn")
    g = _graphs(2)[0]
    model = build_model("nfn-np", g, 1, hidden=4, layers=1)
    old = {("equivariant." + k[len("layers."):] if k.startswith("layers.") else k): v
           for k, v in model.state_dict().items()}
    assert any(k.startswith("equivariant.") for k in old)
    fresh = build_model("nfn-np", g, 1, hidden=4, layers=1)
    fresh.load_state_dict(old)
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in model.state_dict().items())
