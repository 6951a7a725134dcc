"""Arrow shards: exact round trip, memory-mapped reader, fast loader = slow path, bad input named."""

import json
import math
import os

import pytest
import torch

from scalegmn.core.random_networks import random_mlp
from scalegmn.data import GraphDataset, ShardConfig, collate_graphs, open_dataset, write_dataset
from scalegmn.io import file_sha256
from scalegmn.data import verified
from scalegmn.data.metadata import METADATA_FILE
from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo
from scalegmn.core.weights import forward

SPLIT_CYCLE = ("train", "train", "val", "test")


def write(path, nets, **config):
    return write_dataset(path, ((n, SPLIT_CYCLE[i % 4]) for i, n in enumerate(nets)),
                         source={"info": {"name": "t"}}, params={"p": 1}, config=ShardConfig(**config))


def mixed_float64_nets():
    g = torch.Generator().manual_seed(4)
    nets = list(synthetic_cnn_zoo(5, seed=3, dtype=torch.float64))
    for i, act in enumerate(("relu", "gelu", "leaky_relu")):
        net = random_mlp((3, 7, 5, 2), act, generator=g)
        net.meta = {"id": f"mlp-{i}", "label": i, "hparams": {"lr": 0.1 * (i + 1), "tags": ["a", None]}}
        nets.append(net)
    flat = random_mlp((2, 4), "relu", generator=g)
    flat.meta = {"id": "single-layer", "score": 1 / 3}
    return nets + [flat]


def assert_batches_equal(a, b):
    assert sorted(a.keys()) == sorted(b.keys())
    for key in b.keys():
        if isinstance(b[key], torch.Tensor):
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, equal_nan=True, msg=key)
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize("make", [lambda: list(synthetic_cnn_zoo(7)) + list(synthetic_inr_zoo(0)),
                                  lambda: list(synthetic_inr_zoo(6)), mixed_float64_nets])
def test_every_row_reads_back_bit_for_bit(tmp_path, make):
    nets = make()
    meta = write(tmp_path / "ds", nets, rows_per_shard=3, batch_rows=2)
    ds = open_dataset(tmp_path / "ds", verify=True)
    assert len(ds) == len(nets) == meta["num_rows"] and len(meta["shards"]) == math.ceil(len(nets) / 3)
    for i, net in enumerate(nets):
        assert ds.network(i).equals(net), i
    x = torch.randn(4, *((1, 8, 8) if nets[0].is_conv[0] else (nets[0].layer_sizes[0],)), dtype=nets[0].dtype)
    assert torch.equal(forward(ds.network(0), x), forward(nets[0], x))


def test_metadata_split_sizes_and_frame(tmp_path):
    nets = list(synthetic_cnn_zoo(9))
    meta = write(tmp_path / "ds", nets)
    ds = open_dataset(tmp_path / "ds")
    assert ds.metadata == meta == json.loads((tmp_path / "ds" / METADATA_FILE).read_text())
    assert meta["schema_version"] == 1 and meta["dtype"] == "float32" and meta["params_hash"]
    assert meta["node_feature_dim"] == 1 and meta["edge_feature_dim"] == 9
    assert meta["split_sizes"] == {"train": 5, "val": 2, "test": 2}
    assert list(meta["architectures"].values())[0]["layer_sizes"] == [1, 16, 16, 16, 10]
    split = ds.get_idx_split()
    assert split["val"].tolist() == [2, 6] and split["train"].tolist() == [0, 1, 4, 5, 8]
    frame = ds.frame()
    assert frame["id"].tolist() == [f"cnn-{i}" for i in range(9)] and frame["row"].tolist() == list(range(9))
    assert frame["score"].tolist() == [n.meta["score"] for n in nets] and (frame["label"] == -1).all()


def test_fast_loader_gives_the_collate_batch_of_the_items(tmp_path):
    write(tmp_path / "cnn", list(synthetic_cnn_zoo(10)), rows_per_shard=4)
    ds = open_dataset(tmp_path / "cnn")
    rows = [7, 2, 9, 0, 4]
    assert_batches_equal(ds.batch(rows), collate_graphs([ds[i] for i in rows]))
    write(tmp_path / "inr", list(synthetic_inr_zoo(5)), rows_per_shard=2)
    inr = open_dataset(tmp_path / "inr")
    assert_batches_equal(inr.batch([4, 1, 2]), collate_graphs([inr[i] for i in [4, 1, 2]]))
    write(tmp_path / "mixed", mixed_float64_nets())
    mixed = open_dataset(tmp_path / "mixed")
    assert_batches_equal(mixed.batch([0, 6, 8]), collate_graphs([mixed[i] for i in [0, 6, 8]]))
    assert mixed[6].edge_attr.shape[1] == mixed.edge_dim == 9
    batches = list(ds.loader(ds.get_idx_split()["train"], batch_size=2, shuffle=True, seed=1))
    assert sorted(sum((b.dataset_row.tolist() for b in batches), [])) == ds.get_idx_split()["train"].tolist()


def test_items_carry_targets(tmp_path):
    nets = list(synthetic_inr_zoo(3))
    write(tmp_path / "ds", nets)
    g = open_dataset(tmp_path / "ds")[2]
    assert g.label.tolist() == [2] and math.isnan(g.score.item()) and g.dataset_row.tolist() == [2]


def test_interrupted_write_leaves_no_dataset_and_keeps_the_old_one(tmp_path):
    def failing():
        yield from ((n, "train") for n in synthetic_cnn_zoo(5))
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_dataset(tmp_path / "ds", failing(), source={}, params={},
                      config=ShardConfig(rows_per_shard=2, batch_rows=1))
    assert not (tmp_path / "ds").exists() and list(tmp_path.iterdir()) == []
    write(tmp_path / "ds", list(synthetic_cnn_zoo(2)))
    with pytest.raises(RuntimeError):
        write_dataset(tmp_path / "ds", failing(), source={}, params={})
    assert len(open_dataset(tmp_path / "ds")) == 2


def test_dataset_without_metadata_is_refused(tmp_path):
    write(tmp_path / "ds", list(synthetic_cnn_zoo(2)))
    (tmp_path / "ds" / METADATA_FILE).unlink()
    with pytest.raises(ValueError, match="metadata.json: missing.*not a complete graph dataset"):
        open_dataset(tmp_path / "ds")


def test_schema_version_mismatch_is_refused(tmp_path):
    write(tmp_path / "ds", list(synthetic_cnn_zoo(2)))
    path = tmp_path / "ds" / METADATA_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema_version": 99}))
    with pytest.raises(ValueError, match="schema version 99 but this code reads version 1"):
        GraphDataset(tmp_path / "ds")


def test_truncated_shard_is_named(tmp_path):
    write(tmp_path / "ds", list(synthetic_cnn_zoo(5)), rows_per_shard=2)
    shard = tmp_path / "ds" / "shard-00001.arrow"
    shard.write_bytes(shard.read_bytes()[:1000])
    with pytest.raises(ValueError, match="shard-00001.arrow: 1000 bytes but the metadata says"):
        open_dataset(tmp_path / "ds")


def test_corrupt_shard_is_named(tmp_path):
    write(tmp_path / "ds", list(synthetic_cnn_zoo(5)), rows_per_shard=2)
    shard = tmp_path / "ds" / "shard-00002.arrow"
    data = bytearray(shard.read_bytes())
    data[-40:-10] = b"\xff" * 30
    shard.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="shard-00002.arrow: SHA-256 does not match"):
        open_dataset(tmp_path / "ds")
    with pytest.raises(ValueError, match="shard-00002.arrow: unreadable Arrow shard"):
        open_dataset(tmp_path / "ds", verify=False)
    data = bytearray(shard.read_bytes())
    shard.write_bytes(b"garbage!" + bytes(data[8:]))
    with pytest.raises(ValueError, match="shard-00002.arrow"):
        open_dataset(tmp_path / "ds")


def test_flipped_weight_bytes_are_caught_by_verify(tmp_path):
    write(tmp_path / "ds", list(synthetic_cnn_zoo(3)))
    shard = tmp_path / "ds" / "shard-00000.arrow"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="shard-00000.arrow: SHA-256 does not match"):
        open_dataset(tmp_path / "ds", verify=True)


def flip_bytes(path, count=1, keep_mtime=False):
    st = path.stat()
    data = bytearray(path.read_bytes())
    for i in range(count):
        data[len(data) // 2 + i] ^= 0xFF
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("count", [1, 64])
def test_flipped_bytes_are_caught_on_a_plain_open_after_an_earlier_verified_open(tmp_path, count):
    write(tmp_path / "ds", list(synthetic_cnn_zoo(3)))
    assert len(open_dataset(tmp_path / "ds")) == 3  # verified and recorded
    flip_bytes(tmp_path / "ds" / "shard-00000.arrow", count)
    with pytest.raises(ValueError, match="shard-00000.arrow: SHA-256 does not match"):
        open_dataset(tmp_path / "ds")


def test_a_plain_open_hashes_each_shard_version_once(tmp_path, monkeypatch):
    import scalegmn.data.reader as reader

    write(tmp_path / "ds", list(synthetic_cnn_zoo(5)), rows_per_shard=2)
    hashed = []
    monkeypatch.setattr(reader, "file_sha256", lambda p: hashed.append(p.name) or file_sha256(p))
    open_dataset(tmp_path / "ds")
    open_dataset(tmp_path / "ds")
    assert sorted(hashed) == ["shard-00000.arrow", "shard-00001.arrow", "shard-00002.arrow"]
    verified.clear_process_record()  # a new process reads the record file
    open_dataset(tmp_path / "ds")
    assert len(hashed) == 3
    open_dataset(tmp_path / "ds", verify=True)
    assert len(hashed) == 6
    open_dataset(tmp_path / "ds", verify=False)
    assert len(hashed) == 6


def test_a_flip_with_the_mtime_restored_needs_an_explicit_verify(tmp_path):
    write(tmp_path / "ds", list(synthetic_cnn_zoo(3)))
    open_dataset(tmp_path / "ds")
    flip_bytes(tmp_path / "ds" / "shard-00000.arrow", keep_mtime=True)
    open_dataset(tmp_path / "ds")  # the documented limit of the cheap default
    with pytest.raises(ValueError, match="shard-00000.arrow: SHA-256 does not match"):
        open_dataset(tmp_path / "ds", verify=True)


def test_missing_shard_and_bad_rows_are_refused(tmp_path):
    nets = list(synthetic_cnn_zoo(3))
    write(tmp_path / "ds", nets, rows_per_shard=2)
    (tmp_path / "ds" / "shard-00001.arrow").unlink()
    with pytest.raises(ValueError, match="shard-00001.arrow: shard missing"):
        open_dataset(tmp_path / "ds")
    with pytest.raises(ValueError, match="duplicate id"):
        write_dataset(tmp_path / "dup", [(nets[0], "train"), (nets[0], "train")], source={}, params={})
    with pytest.raises(ValueError, match="dtype float64 differs"):
        write_dataset(tmp_path / "mix", [(nets[0], "train"), (mixed_float64_nets()[5], "train")], source={}, params={})
    assert not (tmp_path / "dup").exists() and not (tmp_path / "mix").exists()
