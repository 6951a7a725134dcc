"""DWS and NFN CIFAR-10 INR zoos: fixtures in the exact public layouts, each read SIREN checked against the
SIREN computed directly from the raw state dict (DWS: +0.5 output offset)."""

import json

import numpy as np
import pytest
import torch

from scalegmn.core.weights import forward
from scalegmn.zoo import detect_format, load_networks, read_dws_inrs, read_nfn_cifar_inrs, zoo_info


def state_dict(keys, out_features, generator, label=None):
    shapes = [(32, 2), (32, 32), (out_features, 32)]
    state = {}
    for key, shape in zip(keys, shapes):
        state[f"{key}.weight"] = (torch.rand(shape, generator=generator) * 2 - 1) / shape[1]
        state[f"{key}.bias"] = (torch.rand(shape[0], generator=generator) * 2 - 1) * 0.1
    if label is not None:
        state["label"] = label
    return state


def siren_from_raw(state, keys, coords, offset):
    h = coords.double()
    for i, key in enumerate(keys):
        h = h @ state[f"{key}.weight"].double().T + state[f"{key}.bias"].double()
        if i < len(keys) - 1:
            h = torch.sin(30.0 * h)
    return h + offset


def grid(size):
    lin = torch.linspace(-1, 1, size)
    return torch.stack(torch.meshgrid(lin, lin, indexing="ij"), dim=-1).reshape(-1, 2)


DWS_KEYS = ["seq.0", "seq.1", "seq.2"]


def write_mnist_inrs(root):
    g = torch.Generator().manual_seed(0)
    states = {}
    for split, label, idx in [("training", 3, 11), ("training", 7, 12), ("training", 1, 13), ("training", 0, 14),
                              ("testing", 5, 1), ("testing", 9, 2)]:
        directory = root / f"mnist_png_{split}_{label}_{idx}" / "checkpoints"
        directory.mkdir(parents=True)
        states[f"mnist_png_{split}_{label}_{idx}/checkpoints/model_final.pth"] = state = state_dict(DWS_KEYS, 1, g)
        torch.save(state, directory / "model_final.pth")
    return states


def test_dws_mnist_inrs_match_raw_siren_with_half_offset(tmp_path):
    states = write_mnist_inrs(tmp_path / "mnist-inrs")
    nets = list(read_dws_inrs(tmp_path / "mnist-inrs", val_fraction=0.25))
    coords = grid(28)
    assert len(nets) == 6
    for net in nets:
        raw = states[net.meta["id"]]
        np.testing.assert_allclose(forward(net, coords).double(), siren_from_raw(raw, DWS_KEYS, coords, 0.5),
                                   rtol=1e-4, atol=1e-5)
        assert net.meta["label"] == int(net.meta["id"].split("/")[0].split("_")[-2])
    splits = sorted(n.meta["split"] for n in nets)
    assert splits == ["test", "test", "train", "train", "train", "val"]
    assert detect_format(tmp_path / "mnist-inrs") == "dws-inr"


def test_dws_fmnist_labels_from_state_dict_and_splits_json(tmp_path):
    root = tmp_path / "fmnist_inrs"
    g = torch.Generator().manual_seed(1)
    entries = {"train": [], "val": [], "test": []}
    for k, split in enumerate(["train", "train", "val", "test"]):
        folder = "test" if split == "test" else "train"
        (root / folder).mkdir(parents=True, exist_ok=True)
        torch.save(state_dict(DWS_KEYS, 1, g, label=torch.tensor(k + 2)), root / folder / f"model_{k}.pth")
        entries[split].append(f"/original/machine/fmnist_inrs/{folder}/model_{k}.pth")
    (root / "splits.json").write_text(json.dumps(entries))
    nets = {n.meta["id"]: n for n in load_networks(root)}
    assert {k: (n.meta["label"], n.meta["split"]) for k, n in nets.items()} == {
        "train/model_0.pth": (2, "train"), "train/model_1.pth": (3, "train"), "train/model_2.pth": (4, "val"),
        "test/model_3.pth": (5, "test")}
    assert all(n.output_offset == 0.5 and n.w0 == 30.0 for n in nets.values())


NFN_KEYS = ["net.0.linear", "net.1.linear", "net.2"]


def test_nfn_cifar_inrs_layout_splits_and_augmented_copies(tmp_path):
    root = tmp_path / "siren_cifar_wts"
    g = torch.Generator().manual_seed(2)
    raw = {}
    for directory, idx in [("randinit_smaller_3s", 7), ("randinit_smaller_4s", 45001), ("randinit_smaller_3s", 50002),
                           ("randinit_smaller_aug0_3s", 7)]:
        (root / directory).mkdir(parents=True, exist_ok=True)
        raw[(directory, idx)] = state = state_dict(NFN_KEYS, 3, g)
        torch.save(state, root / directory / f"net{idx}.pth")
    assert detect_format(tmp_path) == "nfn-cifar-inr"
    base = list(load_networks(tmp_path))
    assert [(n.meta["index"], n.meta["label"], n.meta["split"]) for n in base] == [
        (7, 3, "train"), (45001, 4, "val"), (50002, 3, "test")]
    coords = grid(32)
    for net, key in zip(base, [("randinit_smaller_3s", 7), ("randinit_smaller_4s", 45001), ("randinit_smaller_3s", 50002)]):
        assert net.output_offset == 0.0 and net.layer_sizes == [2, 32, 32, 3]
        np.testing.assert_allclose(forward(net, coords).double(), siren_from_raw(raw[key], NFN_KEYS, coords, 0.0),
                                   rtol=1e-4, atol=1e-5)
    with_aug = list(read_nfn_cifar_inrs(tmp_path, augmented=True))
    aug = with_aug[-1]
    assert aug.meta["source_id"] == "cifar10-inr-00007" and aug.meta["aug_seed"] == 0 and aug.meta["split"] == "train"
    assert zoo_info(tmp_path)["split"] == {"train": 1, "val": 1, "test": 1}


def test_corrupt_or_incomplete_state_dicts_are_named(tmp_path):
    write_mnist_inrs(tmp_path / "z")
    bad = tmp_path / "z" / "mnist_png_testing_5_1" / "checkpoints" / "model_final.pth"
    bad.write_bytes(bad.read_bytes()[:50])
    with pytest.raises(ValueError, match="mnist_png_testing_5_1/checkpoints/model_final.pth: unreadable"):
        list(read_dws_inrs(tmp_path / "z"))
    state = state_dict(DWS_KEYS, 1, torch.Generator().manual_seed(0))
    state["seq.1.weight"][0, 0] = float("nan")
    torch.save(state, bad)
    with pytest.raises(ValueError, match="model_final.pth: layer 1: weight contains non-finite"):
        list(read_dws_inrs(tmp_path / "z"))
    del state["seq.2.bias"]
    torch.save(state, bad)
    with pytest.raises(ValueError, match="model_final.pth: layer 'seq.2' needs a 2-D weight and a bias"):
        list(read_dws_inrs(tmp_path / "z"))


def test_a_state_dict_with_a_missing_middle_layer_is_refused_naming_the_file(tmp_path):
    write_mnist_inrs(tmp_path / "z")
    bad = tmp_path / "z" / "mnist_png_testing_5_1" / "checkpoints" / "model_final.pth"
    state = state_dict(["seq.0", "seq.1", "seq.2"], 1, torch.Generator().manual_seed(0))
    for kind in ("weight", "bias"):  # 2 -> 32 -> (32 -> 32 removed) -> 1 is still a valid SIREN
        del state[f"seq.1.{kind}"]
    torch.save(state, bad)
    with pytest.raises(ValueError, match=r"model_final.pth: layer indices \[0, 2\] are not consecutive from 0 "
                                         r"\(layer 1 missing\)"):
        list(read_dws_inrs(tmp_path / "z"))


def write_bad_state(root, keys, shapes=((32, 2), (32, 32), (1, 32))):
    """A DWS MNIST zoo whose testing_5_1 INR has layers ``keys`` of weight ``shapes``; returns its path."""
    write_mnist_inrs(root)
    bad = root / "mnist_png_testing_5_1" / "checkpoints" / "model_final.pth"
    state = {}
    for key, shape in zip(keys, shapes):
        state[f"{key}.weight"], state[f"{key}.bias"] = torch.zeros(shape), torch.zeros(shape[0])
    torch.save(state, bad)
    return bad


def test_a_state_dict_without_its_first_layer_is_refused_naming_the_file(tmp_path):
    write_bad_state(tmp_path / "z", ["seq.1", "seq.2"], [(32, 32), (1, 32)])  # a valid SIREN on 32 inputs
    with pytest.raises(ValueError, match=r"model_final.pth: layer indices \[1, 2\] are not consecutive from 0 "
                                         r"\(layer 0 missing\)"):
        list(read_dws_inrs(tmp_path / "z"))


def test_a_state_dict_with_two_unindexed_layers_is_refused_naming_the_file(tmp_path):
    write_bad_state(tmp_path / "z", ["seq.0", "a_hidden", "b_out"])  # alphabetical order would happen to fit
    with pytest.raises(ValueError, match=r"model_final.pth: layers \['a_hidden', 'b_out'\] have no index"):
        list(read_dws_inrs(tmp_path / "z"))


def test_a_layer_whose_inputs_differ_from_the_previous_outputs_is_refused_naming_both(tmp_path):
    write_bad_state(tmp_path / "z", DWS_KEYS, [(32, 2), (32, 16), (1, 32)])
    with pytest.raises(ValueError, match=r"model_final.pth: layer 'seq.1' takes 16 inputs but layer 'seq.0' has "
                                         r"32 outputs"):
        list(read_dws_inrs(tmp_path / "z"))


@pytest.mark.parametrize("label", ["seven", 7.5, torch.tensor([1, 2]), -1, torch.tensor(-3), torch.tensor(True)])
def test_a_label_that_is_not_an_integer_class_is_refused_naming_the_file(tmp_path, label):
    write_mnist_inrs(tmp_path / "z")
    bad = tmp_path / "z" / "mnist_png_testing_5_1" / "checkpoints" / "model_final.pth"
    torch.save(state_dict(DWS_KEYS, 1, torch.Generator().manual_seed(0), label=label), bad)
    with pytest.raises(ValueError, match="model_final.pth: label .* is not an integer class"):
        list(read_dws_inrs(tmp_path / "z"))


def test_directory_that_is_no_zoo_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty: not a zoo"):
        list(load_networks(tmp_path / "empty"))
