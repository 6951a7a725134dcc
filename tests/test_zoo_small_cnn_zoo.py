"""Small CNN Zoo format: fixtures written in the exact public layout (TF HWIO kernels, bias before kernel,
metrics.csv.gz, layout.csv, NFN split.csv with its header line), checked against an independent
TensorFlow-style NHWC/HWIO convolution in numpy; export round trip."""

import math
import random

import numpy as np
import pandas as pd
import pytest
import torch

from scalegmn.core.random_networks import random_cnn
from scalegmn.core.weights import forward
from scalegmn.zoo import export_small_cnn_zoo, load_networks, read_small_cnn_zoo, zoo_info
from scalegmn.zoo.small_cnn_zoo import read_layout

METRIC_COLUMNS = [
    "config.activation", "config.b_init", "config.dataset", "config.dnn_architecture", "config.dropout",
    "config.epochs", "config.epochs_between_checkpoints", "config.init_std", "config.l2reg",
    "config.learning_rate", "config.num_layers", "config.num_units", "config.optimizer", "config.random_seed",
    "config.train_fraction", "config.w_init", "modeldir", "step", "test_accuracy", "test_loss",
    "train_accuracy", "train_loss"]


def tf_layers(width):
    return [("sequential/conv2d", (3, 3, 1, width)), ("sequential/conv2d_1", (3, 3, width, width)),
            ("sequential/conv2d_2", (3, 3, width, width)), ("sequential/dense", (width, 10))]


def layout_rows(width):
    rows, offset = [], 0
    for name, kernel_shape in tf_layers(width):
        for kind, shape in (("bias", (kernel_shape[-1],)), ("kernel", kernel_shape)):
            rows.append({"varname": f"{name}/{kind}:0", "start_idx": offset, "end_idx": offset + math.prod(shape),
                         "shape": str(shape)})
            offset += math.prod(shape)
    return rows


def write_fixture(path, width=4, steps=(0, 86, 0, 86, 86, 86, 0, 86, 86, 86),
                  acts=("relu", "relu", "tanh", "tanh", "relu", "tanh", "relu", "relu", "tanh", "relu"), nan_row=None):
    path.mkdir(parents=True, exist_ok=True)
    layout = layout_rows(width)
    rng = np.random.default_rng(0)
    weights = (rng.normal(size=(len(steps), layout[-1]["end_idx"])) * 0.4).astype(np.float32)
    if nan_row is not None:
        weights[nan_row, 5] = np.nan
    np.save(path / "weights.npy", weights)
    pd.DataFrame(layout).to_csv(path / "layout.csv", index=False)
    metrics = {c: [0.0] * len(steps) for c in METRIC_COLUMNS}
    metrics.update({"config.activation": list(acts), "config.optimizer": ["adam"] * len(steps),
                    "config.w_init": ["he_normal"] * len(steps), "modeldir": [f"m{i // 2}" for i in range(len(steps))],
                    "step": list(steps), "test_accuracy": [0.1 + 0.05 * i for i in range(len(steps))],
                    "train_accuracy": [0.2] * len(steps), "config.learning_rate": [1e-3] * len(steps)})
    pd.DataFrame(metrics).to_csv(path / "metrics.csv.gz", index=False, compression="gzip")
    return weights


def tf_forward(row, width, x_nhwc, activation, padding=0):
    """TensorFlow convention: NHWC input, HWIO kernels, stride 2, 'valid' (or symmetric zero) padding,
    global average pooling, dense (in, out)."""
    act = np.maximum if activation == "relu" else None
    h = x_nhwc.astype(np.float64)
    layout = {r["varname"]: r for r in layout_rows(width)}
    for name, kernel_shape in tf_layers(width):
        k = layout[f"{name}/kernel:0"]
        b = layout[f"{name}/bias:0"]
        kernel = row[k["start_idx"]:k["end_idx"]].astype(np.float64).reshape(kernel_shape)
        bias = row[b["start_idx"]:b["end_idx"]].astype(np.float64)
        if len(kernel_shape) == 2:
            return h.mean(axis=(1, 2)) @ kernel + bias
        h = np.pad(h, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        size = (h.shape[1] - 3) // 2 + 1
        out = np.zeros((h.shape[0], size, size, kernel_shape[3]))
        for i in range(size):
            for j in range(size):
                out[:, i, j, :] = np.einsum("nhwc,hwco->no", h[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :], kernel) + bias
        h = act(out, 0.0) if act is not None else np.tanh(out)
    raise AssertionError("no dense layer")


def test_layout_of_the_real_zoo_has_bias_before_kernel_offsets(tmp_path):
    pd.DataFrame(layout_rows(16)).to_csv(tmp_path / "layout.csv", index=False)
    layers = read_layout(tmp_path / "layout.csv")
    assert [(l.bias, l.kernel) for l in layers] == [
        ((0, 16), (16, 160)), ((160, 176), (176, 2480)), ((2480, 2496), (2496, 4800)), ((4800, 4810), (4810, 4970))]


def test_reader_matches_tensorflow_hwio_valid_convolution(tmp_path):
    weights = write_fixture(tmp_path / "mnist")
    nets = list(read_small_cnn_zoo(tmp_path / "mnist"))
    x = np.random.default_rng(1).uniform(-1, 1, size=(3, 28, 28, 1)).astype(np.float32)
    assert len(nets) == 7  # step == 86 rows
    for net in nets:
        assert net.paddings[:3] == [0, 0, 0] and net.strides[:3] == [2, 2, 2]
        row = net.meta["row"]
        expected = tf_forward(weights[row], 4, x, net.activation)
        got = forward(net, torch.from_numpy(x).permute(0, 3, 1, 2))
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=1e-5)
        assert net.meta["score"] == pytest.approx(0.1 + 0.05 * row)
        assert net.meta["hparams"]["optimizer"] == "adam" and net.meta["source"] == "mnist"


def test_step_activation_filters_and_nonfinite_rows(tmp_path):
    write_fixture(tmp_path / "z", nan_row=3)
    with pytest.warns(UserWarning, match="weights.npy: dropped 1 rows"):
        rows = [n.meta["row"] for n in read_small_cnn_zoo(tmp_path / "z")]
    assert rows == [1, 4, 5, 7, 8, 9]
    relu = [n.meta["row"] for n in read_small_cnn_zoo(tmp_path / "z", activations=["relu"])]
    assert relu == [1, 4, 7, 9]
    with pytest.warns(UserWarning, match="dropped 1 rows"):
        assert len(list(read_small_cnn_zoo(tmp_path / "z", step=None))) == 9
    with pytest.raises(ValueError, match="weights.npy: row 3 has non-finite weights"):
        list(read_small_cnn_zoo(tmp_path / "z", nonfinite="error"))


def test_nfn_split_file_with_its_header_line(tmp_path):
    write_fixture(tmp_path / "z")
    perm = [7, 2, 9, 0, 5, 1, 8, 3, 6, 4]
    (tmp_path / "z" / "split.csv").write_text("0\n" + "\n".join(map(str, perm)) + "\n")
    steps = [0, 86, 0, 86, 86, 86, 0, 86, 86, 86]
    final = [r for r in perm if steps[r] == 86]  # [7, 9, 5, 1, 8, 3, 4]
    trainval = list(range(3))
    random.Random(0).shuffle(trainval)
    expected = {final[i]: "test" for i in range(3, 7)}
    expected.update({final[i]: "train" for i in trainval[:2]})
    expected.update({final[trainval[2]]: "val"})
    got = {n.meta["row"]: n.meta["split"] for n in load_networks(tmp_path / "z")}
    assert got == expected
    (tmp_path / "z" / "split.csv").write_text("\n".join(map(str, perm)) + "\n")
    with pytest.raises(ValueError, match="split.csv: expected a header line and a permutation"):
        list(read_small_cnn_zoo(tmp_path / "z"))


def test_bad_files_are_named(tmp_path):
    weights = write_fixture(tmp_path / "z")
    np.save(tmp_path / "z" / "weights.npy", np.concatenate([weights, weights[:, :1]], axis=1))
    with pytest.raises(ValueError, match="weights.npy: shape .* but .*layout.csv describes rows of"):
        list(read_small_cnn_zoo(tmp_path / "z"))
    write_fixture(tmp_path / "y")
    (tmp_path / "y" / "layout.csv").unlink()
    with pytest.raises(ValueError, match="layout.csv: missing"):
        list(read_small_cnn_zoo(tmp_path / "y"))
    write_fixture(tmp_path / "t")
    data = (tmp_path / "t" / "weights.npy").read_bytes()
    (tmp_path / "t" / "weights.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="weights.npy: unreadable"):
        list(read_small_cnn_zoo(tmp_path / "t"))


def edit_layout(path, edit):
    """Apply ``edit`` to layout.csv (in place, or returning the new table)."""
    layout = pd.read_csv(path / "layout.csv")
    edited = edit(layout)
    (layout if edited is None else edited).to_csv(path / "layout.csv", index=False)


def shift_first_kernel_into_its_bias(layout):
    """conv2d/kernel starts at 2, inside conv2d/bias [0, 4), with its size unchanged: overlapping ranges
    that each hold their shape, so only the tiling check can see the wrong bytes."""
    layout.loc[1, ["start_idx", "end_idx"]] = [2, 2 + layout.loc[1, "end_idx"] - layout.loc[1, "start_idx"]]


@pytest.mark.parametrize("edit, problem", [
    (shift_first_kernel_into_its_bias, r"sequential/conv2d/kernel:0 \[2, 38\) overlaps sequential/conv2d/bias:0"),
    (lambda t: t.loc.__setitem__((0, "start_idx"), -4), r"sequential/conv2d/bias:0: start_idx: -4 is not a non-negative"),
    (lambda t: t.loc.__setitem__((0, "end_idx"), float("nan")), r"sequential/conv2d/bias:0: end_idx: nan is not"),
    (lambda t: t.drop(index=0), r"layer sequential/conv2d needs both a bias and a kernel"),
    (lambda t: t.__setitem__("start_idx", t["start_idx"] + 3) or t.__setitem__("end_idx", t["end_idx"] + 3),
     r"entries \[0, 3\) between the start of the row and sequential/conv2d/bias:0 belong to no variable"),
])
def test_a_layout_that_does_not_tile_the_row_is_refused_naming_the_file(tmp_path, edit, problem):
    write_fixture(tmp_path / "z")
    edit_layout(tmp_path / "z", edit)
    with pytest.raises(ValueError, match=r"layout.csv: .*" + problem):
        list(read_small_cnn_zoo(tmp_path / "z"))


@pytest.mark.parametrize("value, problem", [(float("nan"), "nan is not"), (1.5, "1.5 is not"), (-1, "-1 is not")])
def test_a_bad_padding_names_metrics_csv_row_and_column(tmp_path, value, problem):
    write_fixture(tmp_path / "z")
    metrics = pd.read_csv(tmp_path / "z" / "metrics.csv.gz")
    metrics["config.padding"] = [0] * 3 + [value] + [0] * (len(metrics) - 4)
    metrics.to_csv(tmp_path / "z" / "metrics.csv.gz", index=False, compression="gzip")
    with pytest.raises(ValueError, match=rf"metrics.csv.gz: row 3: config.padding: {problem} a non-negative integer"):
        list(read_small_cnn_zoo(tmp_path / "z"))


@pytest.mark.parametrize("column, value, problem", [
    ("step", float("nan"), "nan is not a non-negative integer"),
    ("step", "late", "'late' is not a number"),
    ("config.padding", "wide", "'wide' is not a number"),
    ("config.activation", float("nan"), "nan is not one of"),
    ("config.activation", "swish", "'swish' is not one of"),
    ("test_accuracy", "unknown", "'unknown' is not a number"),
])
def test_a_bad_step_activation_or_accuracy_names_metrics_csv_row_and_column(tmp_path, column, value, problem):
    write_fixture(tmp_path / "z")
    metrics = pd.read_csv(tmp_path / "z" / "metrics.csv.gz")
    metrics[column] = metrics.get(column, pd.Series([0] * len(metrics))).astype(object)
    metrics.loc[4, column] = value
    metrics.to_csv(tmp_path / "z" / "metrics.csv.gz", index=False, compression="gzip")
    with pytest.raises(ValueError, match=rf"metrics.csv.gz: row 4: {column}: {problem}"):
        list(read_small_cnn_zoo(tmp_path / "z"))


def test_a_layout_with_the_last_bias_after_its_kernel_is_checked_against_the_full_row_width(tmp_path):
    weights = write_fixture(tmp_path / "z")
    width = weights.shape[1]

    def bias_last(layout):  # dense: kernel [start, width - 10), bias [width - 10, width)
        start = layout.loc[6, "start_idx"]
        layout.loc[7, ["start_idx", "end_idx"]] = [start, width - 10]
        layout.loc[6, ["start_idx", "end_idx"]] = [width - 10, width]

    edit_layout(tmp_path / "z", bias_last)
    nets = list(read_small_cnn_zoo(tmp_path / "z"))
    assert all(torch.equal(n.biases[-1], torch.from_numpy(weights[n.meta["row"], -10:])) for n in nets)


def test_zoo_in_a_subdirectory_is_found_and_summarised(tmp_path):
    write_fixture(tmp_path / "archive" / "mnist")
    info = zoo_info(tmp_path / "archive")
    assert info["name"] == "mnist" and info["kind"] == "cnn" and info["size"] == 7
    assert info["format"] == "small-cnn-zoo" and info["activation"] == {"relu": 4, "tanh": 3}


def test_export_round_trip_preserves_forward_and_writes_true_hwio(tmp_path):
    g = torch.Generator().manual_seed(0)
    nets = [random_cnn((1, 4, 4, 4), activation=act, generator=g, dtype=torch.float32) for act in ("relu", "tanh", "relu")]
    for i, net in enumerate(nets):
        net.meta = {"id": f"n{i}", "score": 0.3 + 0.1 * i, "hparams": {"optimizer": "sgd", "learning_rate": 0.01}}
    export_small_cnn_zoo(nets, tmp_path / "exported")
    back = list(read_small_cnn_zoo(tmp_path / "exported"))
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    rows = np.load(tmp_path / "exported" / "weights.npy")
    for original, read, row in zip(nets, back, rows):
        assert torch.equal(forward(read, x), forward(original, x))
        assert read.activation == original.activation and read.meta["score"] == pytest.approx(original.meta["score"])
        assert read.meta["hparams"]["optimizer"] == "sgd"
        expected = tf_forward(row, 4, x.permute(0, 2, 3, 1).numpy(), original.activation, padding=1)
        np.testing.assert_allclose(forward(original, x).numpy(), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="architecture"):
        export_small_cnn_zoo(nets + [random_cnn((1, 8, 8, 8), generator=g, dtype=torch.float32)], tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
