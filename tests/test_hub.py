"""The published dataset is native to `datasets`: ClassLabel labels, train/validation/test splits, per-layer
tensors of fixed shape, `dataset_info` and citations in the card, the shipped metadata.json, a runnable
usage snippet, rows in every format rebuilding the exact network, and `open_dataset` of a published folder
or Hub id. Nothing here contacts the network."""

import json
import re

import datasets
import numpy as np
import pytest
import torch
import yaml
from torch_geometric.data import Data

from scalegmn.core.graph import to_graph
from scalegmn.data import GraphDataset, ShardConfig, open_dataset, write_dataset
from scalegmn.data import hub
from scalegmn.data.card import SCALEGMN_BIBTEX, SOURCE_ZOOS
from scalegmn.data.publish import export_hub_folder
from scalegmn.data.rows import network_from_row
from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo
from scalegmn.core.weights import forward

SPLIT_CYCLE = ("train", "train", "val", "test", "train")


pytestmark = pytest.mark.usefixtures("offline_hub")


def write(path, nets, name="digits-inr", kind="inr", **info):
    write_dataset(path, ((n, SPLIT_CYCLE[i % 5]) for i, n in enumerate(nets)),
                  source={"info": {"name": name, "kind": kind, **info}}, params={"k": 1},
                  config=ShardConfig(rows_per_shard=4))
    return open_dataset(path)


def cnns(size, dtype=torch.float32):
    """CNNs of one architecture with relu and leaky_relu (slope 0.1: not a float32 number)."""
    nets = list(synthetic_cnn_zoo(size, channels=(1, 2, 3), activations=("relu", "leaky_relu"), dtype=dtype))
    for net in nets:
        net.leaky_slope = 0.1
    return nets


def mixed(size):
    """Networks of two architectures (SIRENs and CNNs)."""
    inrs, convs = list(synthetic_inr_zoo(size)), cnns(size)
    return [net for pair in zip(inrs, convs) for net in pair]


def publish_and_load(tmp_path, nets, **kw):
    ds = write(tmp_path / "ds", nets, **kw)
    export_hub_folder(tmp_path / "ds", tmp_path / "hub", repo_id="me/x", rows_per_file=3)
    return ds, datasets.load_dataset(str(tmp_path / "hub"), cache_dir=str(tmp_path / "cache"))


def by_id(ds):
    frame = ds.frame().set_index("id")
    return lambda net_id: ds.network(int(frame.loc[str(net_id), "row"]))


def front_matter(path):
    return yaml.safe_load(path.read_text().split("---\n")[1])


def test_published_labels_are_class_labels(tmp_path):
    _, loaded = publish_and_load(tmp_path, list(synthetic_inr_zoo(6)))
    label = loaded["train"].features["label"]
    assert isinstance(label, datasets.ClassLabel) and label.names == [str(i) for i in range(10)]
    assert [row["label"] for row in loaded["train"]] == [0, 1, 4, 5]
    assert label.int2str(loaded["test"][0]["label"]) == "3"


def test_class_names_come_from_the_zoo_info_and_unlabelled_zoos_keep_integers(tmp_path):
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    _, loaded = publish_and_load(tmp_path / "a", list(synthetic_inr_zoo(5)), class_names=names)
    assert loaded["train"].features["label"].names == names
    _, loaded = publish_and_load(tmp_path / "b", cnns(5), name="small-cnn", kind="cnn")
    assert loaded["train"].features["label"] == datasets.Value("int64")


def test_published_split_names_are_train_validation_test(tmp_path):
    ds, loaded = publish_and_load(tmp_path, list(synthetic_inr_zoo(10)))
    assert list(loaded) == ["train", "validation", "test"]
    assert {s: loaded[s].num_rows for s in loaded} == {"train": 6, "validation": 2, "test": 2}
    assert set(loaded["validation"]["split"]) == {"validation"}
    assert ds.metadata["split_sizes"] == {"train": 6, "val": 2, "test": 2}  # our names stay ours


def test_fixed_architecture_gives_per_layer_tensors_of_the_layer_shape(tmp_path):
    _, loaded = publish_and_load(tmp_path, cnns(5))
    features = loaded["train"].features
    assert isinstance(features["weight_0"], datasets.Array4D) and isinstance(features["weight_2"], datasets.Array2D)
    assert "weights" not in features and "biases" not in features
    row = loaded.with_format("torch")["train"][0]
    assert [tuple(row[f"weight_{l}"].shape) for l in range(3)] == [(2, 1, 3, 3), (3, 2, 3, 3), (10, 3)]
    assert [tuple(row[f"bias_{l}"].shape) for l in range(3)] == [(2,), (3,), (10,)]
    assert all(row[f"weight_{l}"].dtype == torch.float32 for l in range(3))
    batch = loaded.with_format("torch")["train"][:3]
    assert tuple(batch["weight_1"].shape) == (3, 3, 2, 3, 3)


def test_varying_architectures_keep_the_flat_columns(tmp_path):
    _, loaded = publish_and_load(tmp_path, mixed(3))
    features = loaded["train"].features
    assert "weights" in features and "biases" in features and "weight_0" not in features


@pytest.mark.parametrize("fmt", ["python", "numpy", "torch"])
@pytest.mark.parametrize("make", [cnns, mixed], ids=["one-arch", "mixed-arch"])
def test_network_from_row_accepts_python_numpy_and_torch_rows(tmp_path, fmt, make):
    ds, loaded = publish_and_load(tmp_path, make(5))
    original = by_id(ds)
    rows = [row for split in loaded for row in loaded[split].with_format(None if fmt == "python" else fmt)]
    assert len(rows) == len(ds)
    if make is cnns:
        assert type(rows[0]["weight_0"]) is {"python": list, "numpy": np.ndarray, "torch": torch.Tensor}[fmt]
    for row in rows:
        assert network_from_row(row).equals(original(row["id"]))


def test_hub_round_trip_through_load_dataset_is_bit_exact(tmp_path):
    ds, loaded = publish_and_load(tmp_path, cnns(6))
    original = by_id(ds)
    x = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    for split in loaded:
        for row in loaded[split].with_format("torch"):
            net, want = network_from_row(row), original(row["id"])
            assert net.equals(want) and net.leaky_slope == 0.1
            assert torch.equal(forward(net, x), forward(want, x))


def test_float16_and_float64_networks_are_exact_or_refused(tmp_path):
    ds, loaded = publish_and_load(tmp_path / "half", cnns(3, dtype=torch.float16))
    for row in loaded["train"].with_format("torch"):
        assert network_from_row(row).equals(by_id(ds)(row["id"]))
    ds, loaded = publish_and_load(tmp_path / "double", cnns(3, dtype=torch.float64))
    for row in loaded["train"]:
        assert network_from_row(row).equals(by_id(ds)(row["id"]))
    with pytest.raises(ValueError, match="float32 but the network is float64.*rounded"):
        network_from_row(loaded["train"].with_format("numpy")[0])
    row = loaded["train"].with_format("torch", dtype=torch.float64)[0]
    assert network_from_row(row).equals(by_id(ds)(row["id"]))


def test_card_has_dataset_info_matching_the_loaded_dataset(tmp_path):
    _, loaded = publish_and_load(tmp_path, list(synthetic_inr_zoo(10)))
    info = front_matter(tmp_path / "hub" / "README.md")["dataset_info"]
    assert datasets.Features._from_yaml_list(info["features"]) == loaded["train"].features
    assert [(s["name"], s["num_examples"]) for s in info["splits"]] == [("train", 6), ("validation", 2), ("test", 2)]
    assert all(s["num_bytes"] > 0 for s in info["splits"]) and info["dataset_size"] > 0


def test_published_folder_ships_the_dataset_metadata(tmp_path):
    ds, _ = publish_and_load(tmp_path, list(synthetic_inr_zoo(5)))
    shipped = json.loads((tmp_path / "hub" / "metadata.json").read_text())
    assert {k: v for k, v in shipped.items() if k != "hub"} == ds.metadata
    assert shipped["hub"]["splits"] == {"train": "train", "val": "validation", "test": "test"}
    assert shipped["hub"]["layout"] == "per-layer"
    assert shipped["hub"]["files"]["validation"] == ["data/validation-00000-of-00001.parquet"]


@pytest.mark.parametrize("key, authors, year, url", [
    ("small-cnn-zoo", "Unterthiner", "2020",
     "https://github.com/google-research/google-research/tree/master/dnn_predict_accuracy"),
    ("dws-inr", "Navon", "2023", "https://github.com/AvivNavon/DWSNets"),
    ("digits", "Alpaydin", "1998", "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits"),
])
def test_card_citation_block_is_complete(tmp_path, key, authors, year, url):
    write(tmp_path / "ds", list(synthetic_inr_zoo(3)))
    export_hub_folder(tmp_path / "ds", tmp_path / "hub", repo_id="me/x", source=key)
    readme = (tmp_path / "hub" / "README.md").read_text()
    citation = readme.split("## Citation")[1]
    assert SOURCE_ZOOS[key].bibtex in citation and SCALEGMN_BIBTEX in citation
    assert authors in citation and year in citation and url in citation
    assert "Kalogeropoulos" in citation and "2024" in citation and "https://github.com/jkalogero/scalegmn" in citation
    if key == "digits":
        assert "scikit-learn" in citation.lower() and "Pedregosa" in citation
    for bib in re.findall(r"@\w+\{.*?\n\}", citation, flags=re.S):
        assert all(field in bib for field in ("author", "year", "url")), bib


def test_card_usage_snippet_runs_offline_against_the_published_folder(tmp_path):
    ds, _ = publish_and_load(tmp_path, list(synthetic_inr_zoo(5)))
    readme = (tmp_path / "hub" / "README.md").read_text()
    snippet = readme.split("```python\n")[1].split("```")[0]
    assert 'load_dataset("me/x")' in snippet and snippet.count("\n") == 7
    namespace = {}
    exec(snippet.replace('"me/x"', repr(str(tmp_path / "hub"))), namespace)
    graph, net = namespace["graph"], namespace["net"]
    assert isinstance(graph, Data) and net.equals(by_id(ds)(namespace["ds"]["train"][0]["id"]))
    want = to_graph(ds.network(0))
    assert torch.equal(graph.edge_index, want.edge_index) and graph.num_nodes == want.num_nodes


def test_open_dataset_opens_a_published_folder_as_a_graph_dataset(tmp_path):
    ds, _ = publish_and_load(tmp_path, mixed(4))
    opened = open_dataset(tmp_path / "hub")
    assert isinstance(opened, GraphDataset) and len(opened) == len(ds)
    assert opened.metadata["split_sizes"] == ds.metadata["split_sizes"]
    assert opened.metadata["params_hash"] == ds.metadata["params_hash"]
    assert opened.metadata["architectures"] == ds.metadata["architectures"]
    original = by_id(ds)
    for i, net_id in enumerate(opened.frame()["id"]):
        assert opened.network(i).equals(original(net_id))
    ours = opened.frame().set_index("id")
    theirs = ds.frame().set_index("id").loc[ours.index]
    assert (ours["split"] == theirs["split"]).all()
    batch = opened.batch(opened.get_idx_split()["val"].tolist())
    assert batch.num_graphs == ds.metadata["split_sizes"]["val"]
    assert open_dataset(str(tmp_path / "hub")).path == opened.path  # converted once, then reused
    assert str(opened.path).startswith(str(tmp_path / "hf-home"))


def test_open_dataset_of_a_published_folder_with_wrong_sizes_is_refused(tmp_path):
    publish_and_load(tmp_path, list(synthetic_inr_zoo(5)))
    meta_path = tmp_path / "hub" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["split_sizes"]["train"] += 1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="split sizes .* differ from its metadata.json"):
        open_dataset(tmp_path / "hub")


def test_open_dataset_detects_published_folders_and_hub_ids(tmp_path, monkeypatch):
    publish_and_load(tmp_path, list(synthetic_inr_zoo(5)))
    assert hub.is_hub_source(tmp_path / "hub") and not hub.is_hub_source(tmp_path / "ds")
    assert hub.is_hub_source("me/some-zoo") and not hub.is_hub_source(tmp_path / "me" / "some-zoo")
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "shard-00000.arrow").write_bytes(b"")
    assert not hub.is_hub_source(tmp_path / "partial")
    with pytest.raises(ValueError, match="missing; .* not a complete graph dataset"):
        open_dataset(tmp_path / "partial")
    calls = []
    real = datasets.load_dataset

    def fake_load_dataset(name, **kwargs):  # stands in for the Hub: the id is served by the local folder
        calls.append(name)
        return real(str(tmp_path / "hub"), **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    opened = open_dataset("me/some-zoo")
    assert calls == ["me/some-zoo"] and isinstance(opened, GraphDataset) and len(opened) == 5
    assert opened.metadata["source"]["published"] == "me/some-zoo"


def test_an_unreachable_hub_id_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="nobody/nothing: cannot be loaded as a published dataset"):
        open_dataset("nobody/nothing")


def test_numpy_rows_of_python_lists_and_tensors_mix(tmp_path):
    ds, loaded = publish_and_load(tmp_path, list(synthetic_inr_zoo(3)))
    row = dict(loaded["train"][0])
    row["weight_0"] = np.asarray(row["weight_0"], dtype=np.float32)
    row["bias_0"] = torch.tensor(row["bias_0"], dtype=torch.float32)
    assert network_from_row(row).equals(by_id(ds)(row["id"]))
