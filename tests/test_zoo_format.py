"""Our zoo format: exact round trip, streaming parts, incomplete or corrupt zoos rejected."""

import pytest
import torch

from scalegmn.examples import random_cnn, random_siren
from scalegmn.weights import forward
from scalegmn.zoo import iter_zoo, read_info, save_zoo


def nets(n):
    g = torch.Generator().manual_seed(0)
    out = [random_cnn(generator=g, dtype=torch.float32) for _ in range(n)]
    for i, net in enumerate(out):
        net.meta = {"id": f"n{i}", "score": 0.5 + i / 100, "hparams": {"lr": 1e-3}}
    return out


def test_zoo_round_trip_is_exact_and_streams_parts(tmp_path):
    original = nets(5) + [random_siren(generator=torch.Generator().manual_seed(1), output_offset=0.5)]
    assert save_zoo(tmp_path / "z", original, {"name": "t", "kind": "cnn"}, part_size=2) == 6
    assert len(list((tmp_path / "z").glob("part-*.pt"))) == 3
    back = list(iter_zoo(tmp_path / "z"))
    assert len(back) == 6 and all(a.equals(b) for a, b in zip(original, back))
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(forward(back[0], x), forward(original[0], x))
    assert read_info(tmp_path / "z")["size"] == 6


def test_zoo_without_info_is_incomplete(tmp_path):
    save_zoo(tmp_path / "z", nets(2), {"name": "t"})
    (tmp_path / "z" / "info.json").unlink()
    with pytest.raises(ValueError, match="info.json: missing"):
        list(iter_zoo(tmp_path / "z"))


def test_corrupt_part_is_named(tmp_path):
    save_zoo(tmp_path / "z", nets(3), {"name": "t"}, part_size=2)
    part = tmp_path / "z" / "part-00001.pt"
    part.write_bytes(part.read_bytes()[:20])
    with pytest.raises(ValueError, match="part-00001.pt: unreadable zoo part"):
        list(iter_zoo(tmp_path / "z"))


def test_missing_part_is_detected(tmp_path):
    save_zoo(tmp_path / "z", nets(3), {"name": "t"}, part_size=2)
    (tmp_path / "z" / "part-00001.pt").unlink()
    with pytest.raises(ValueError, match="says 3 networks but the parts hold 2"):
        list(iter_zoo(tmp_path / "z"))
