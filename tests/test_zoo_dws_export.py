"""The DWS export of a graph dataset of SIRENs: read back by our DWS reader with the same function, labels and
splits; the layout the official ScaleGMN loader opens; clear errors for what the format cannot hold."""

import json

import pytest
import torch
from typer.testing import CliRunner

from scalegmn.cli import app
from scalegmn.core.random_networks import random_mlp, random_siren
from scalegmn.core.siren import coordinate_grid
from scalegmn.core.weights import forward
from scalegmn.data import InMemoryGraphDataset, open_dataset, write_dataset
from scalegmn.data.synthetic import synthetic_inr_zoo
from scalegmn.io import OutputError
from scalegmn.zoo import read_dws_inrs
from scalegmn.zoo.dws_export import export_dws_inrs

SPLIT_CYCLE = ["train", "train", "val", "test"]


def graph_dataset(tmp_path, nets):
    write_dataset(tmp_path / "graphs", ((n, SPLIT_CYCLE[i % 4]) for i, n in enumerate(nets)),
                  source={"info": {"name": "digits-inr"}}, params={})
    return tmp_path / "graphs"


def test_exported_inrs_read_back_with_the_same_function_labels_and_splits(tmp_path):
    nets = list(synthetic_inr_zoo(12))
    done = export_dws_inrs(graph_dataset(tmp_path, nets), tmp_path / "data" / "dws")
    assert done.split_sizes == {"train": 6, "val": 3, "test": 3} and done.layer_layout == (2, 32, 32, 1)
    back = {int(n.meta["id"].split("/")[0].rsplit("_", 1)[1]): n for n in read_dws_inrs(tmp_path / "data" / "dws")}
    assert sorted(back) == list(range(12))
    coords = coordinate_grid(28)
    for row, net in enumerate(nets):
        assert torch.equal(forward(back[row], coords), forward(net, coords))
        assert back[row].meta["label"] == net.meta["label"] and back[row].meta["split"] == SPLIT_CYCLE[row % 4]
        word = "testing" if SPLIT_CYCLE[row % 4] == "test" else "training"
        assert back[row].meta["id"] == f"digits-inr_png_{word}_{row % 10}_{row}/checkpoints/model_final.pth"


def test_splits_json_is_the_official_format_opened_from_the_official_working_directory(tmp_path):
    nets = list(synthetic_inr_zoo(8))
    export_dws_inrs(graph_dataset(tmp_path, nets), tmp_path / "data" / "dws")
    splits = json.loads((tmp_path / "data" / "dws" / "digits-inr_splits.json").read_text())
    assert set(splits) == {"train", "val", "test"} and all(set(e) == {"path", "label"} for e in splits.values())
    assert splits["val"]["label"] == ["2", "6"] and splits["val"]["path"][0] == (
        "data/dws/digits-inr_png_training_2_2/checkpoints/model_final.pth")
    for entry in splits.values():  # the official loader: torch.load(path) from its root, weights in dict order
        for path in entry["path"]:
            state = torch.load(tmp_path / path, weights_only=True)
            assert list(state) == [f"seq.{l}.{kind}" for l in range(3) for kind in ("weight", "bias")]
            assert state["seq.0.weight"].shape == (32, 2) and state["seq.2.weight"].shape == (1, 32)


def test_any_depth_from_an_in_memory_dataset_with_an_absolute_prefix(tmp_path):
    g = torch.Generator().manual_seed(0)
    nets = [random_siren((2, 8, 8, 8, 1), generator=g, dtype=torch.float32, output_offset=0.5) for _ in range(3)]
    for i, net in enumerate(nets):
        net.meta = {"id": f"deep-{i}", "label": i}
    dataset = InMemoryGraphDataset(nets, {"train": [0], "val": [1], "test": [2]})
    done = export_dws_inrs(dataset, tmp_path / "deep", name="deep", path_prefix=str(tmp_path / "deep"))
    assert done.layer_layout == (2, 8, 8, 8, 1)
    splits = json.loads(done.splits_file.read_text())
    assert torch.load(splits["test"]["path"][0], weights_only=True)["seq.3.weight"].shape == (1, 8)
    back = sorted(read_dws_inrs(tmp_path / "deep"), key=lambda n: n.meta["label"])
    coords = coordinate_grid(28)
    assert [n.meta["split"] for n in back] == ["train", "val", "test"]
    assert all(torch.equal(forward(b, coords), forward(n, coords)) for b, n in zip(back, nets))


def in_memory(net):
    net.meta = {"id": "x", "label": 1}
    return InMemoryGraphDataset([net], {"train": [0]})


def test_what_the_format_cannot_hold_is_refused_naming_the_row(tmp_path):
    g = torch.Generator().manual_seed(0)
    relu = random_mlp((2, 4, 1), "relu", generator=g, dtype=torch.float32)
    with pytest.raises(ValueError, match=r"row 0 \(id x\): activation 'relu'; DWS INRs are SIRENs"):
        export_dws_inrs(in_memory(relu), tmp_path / "a")
    no_offset = random_siren((2, 4, 1), generator=g, dtype=torch.float32, output_offset=0.0)
    with pytest.raises(ValueError, match=r"row 0 \(id x\): output offset 0; the DWS format implies \+0.5"):
        export_dws_inrs(in_memory(no_offset), tmp_path / "b")
    unlabelled = random_siren((2, 4, 1), generator=g, dtype=torch.float32, output_offset=0.5)
    dataset = in_memory(unlabelled)
    dataset.nets[0].meta = {"id": "x"}
    with pytest.raises(ValueError, match="no label"):
        export_dws_inrs(InMemoryGraphDataset(dataset.nets, {"train": [0]}), tmp_path / "c")
    mixed = [random_siren(sizes, generator=g, dtype=torch.float32, output_offset=0.5)
             for sizes in ((2, 4, 1), (2, 8, 1))]
    for i, net in enumerate(mixed):
        net.meta = {"id": f"m{i}", "label": 0}
    with pytest.raises(ValueError, match=r"row 1 \(id m1\): layer layout \[2, 8, 1\], but row 0 has \[2, 4, 1\]"):
        export_dws_inrs(InMemoryGraphDataset(mixed, {"train": [0, 1]}), tmp_path / "d")
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_an_existing_folder_is_kept_without_overwrite(tmp_path):
    graphs = graph_dataset(tmp_path, list(synthetic_inr_zoo(4)))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="out: folder exists and holds files that scalegmn did not write"):
        export_dws_inrs(graphs, tmp_path / "out")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert export_dws_inrs(graphs, tmp_path / "out", overwrite=True).count == 4
    assert not (tmp_path / "out" / "notes.txt").exists()
    with pytest.raises(OutputError, match="inside the input"):
        export_dws_inrs(graphs, graphs / "dws")


def test_cli_prints_the_summary_and_names_errors(tmp_path):
    graphs = graph_dataset(tmp_path, list(synthetic_inr_zoo(4)))
    result = CliRunner().invoke(app, ["zoo", "export-dws", str(graphs), str(tmp_path / "dws")])
    assert result.exit_code == 0, result.output
    assert "exported 4 INRs (train 2, val 1, test 1; layer_layout [2, 32, 32, 1])" in result.output
    assert " s; splits: " in result.output and (tmp_path / "dws" / "digits-inr_splits.json").is_file()
    result = CliRunner().invoke(app, ["zoo", "export-dws", str(tmp_path / "missing"), str(tmp_path / "x")])
    assert result.exit_code == 1 and "error:" in result.output and "missing" in result.output
