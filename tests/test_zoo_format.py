"""Our zoo format: exact round trip, streaming parts, incomplete or corrupt zoos rejected."""

import json
import shutil

import pytest
import torch

from scalegmn.core.random_networks import random_cnn, random_siren
from scalegmn.core.weights import forward
from scalegmn.zoo import iter_zoo, merge_zoos, read_info, save_zoo


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


def as_version_1(zoo):
    """Rewrite a zoo's info.json as format version 1 (no part list), as zoos were written before."""
    info = json.loads((zoo / "info.json").read_text())
    info.pop("parts")
    info["format_version"] = 1
    (zoo / "info.json").write_text(json.dumps(info))


def test_truncated_part_is_named(tmp_path):
    save_zoo(tmp_path / "z", nets(3), {"name": "t"}, part_size=2)
    part = tmp_path / "z" / "part-00001.pt"
    part.write_bytes(part.read_bytes()[:20])
    with pytest.raises(ValueError, match=r"part-00001.pt: 20 bytes but info.json says \d+ \(truncated or modified"):
        list(iter_zoo(tmp_path / "z"))
    as_version_1(tmp_path / "z")
    with pytest.raises(ValueError, match="part-00001.pt: unreadable zoo part"):
        list(iter_zoo(tmp_path / "z"))


def test_a_zoo_part_with_a_flipped_byte_is_refused_naming_the_part(tmp_path):
    original = nets(3)
    save_zoo(tmp_path / "z", original, {"name": "t"}, part_size=2)
    part = tmp_path / "z" / "part-00000.pt"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside a weight tensor
    part.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="part-00000.pt: SHA-256 does not match info.json"):
        list(iter_zoo(tmp_path / "z"))
    as_version_1(tmp_path / "z")  # without the checksum the part reads back with a weight silently changed
    assert not all(a.equals(b) for a, b in zip(original, iter_zoo(tmp_path / "z")))


def test_a_version_1_zoo_is_still_read(tmp_path):
    original = nets(3)
    save_zoo(tmp_path / "z", original, {"name": "t"}, part_size=2)
    as_version_1(tmp_path / "z")
    assert all(a.equals(b) for a, b in zip(original, iter_zoo(tmp_path / "z")))


def test_missing_or_unlisted_parts_are_named(tmp_path):
    save_zoo(tmp_path / "z", nets(3), {"name": "t"}, part_size=2)
    moved = tmp_path / "z" / "part-00001.pt"
    moved.rename(tmp_path / "kept.pt")
    with pytest.raises(ValueError, match="part-00001.pt: zoo part listed in .*info.json is missing"):
        list(iter_zoo(tmp_path / "z"))
    (tmp_path / "kept.pt").rename(moved)
    shutil.copyfile(moved, tmp_path / "z" / "part-00002.pt")
    with pytest.raises(ValueError, match="part-00002.pt: zoo part not listed in"):
        list(iter_zoo(tmp_path / "z"))


def edit_info(zoo, edit):
    """Apply ``edit`` to a zoo's info.json in place."""
    info = json.loads((zoo / "info.json").read_text())
    edit(info)
    (zoo / "info.json").write_text(json.dumps(info))


@pytest.mark.parametrize("edit, problem", [
    (lambda i: i.pop("parts"), "format version 2 needs a 'parts' list"),
    (lambda i: i["parts"][1].pop("sha256"), r"parts\[1\] is not a \{file, networks, bytes, sha256\} record"),
    (lambda i: i["parts"].append(i["parts"][0]), r"parts \['part-00000.pt'\] are listed more than once"),
])
def test_a_version_2_info_without_a_valid_part_list_is_refused_not_read_unverified(tmp_path, edit, problem):
    save_zoo(tmp_path / "z", nets(3), {"name": "t"}, part_size=2)
    edit_info(tmp_path / "z", edit)
    with pytest.raises(ValueError, match="info.json: " + problem):
        list(iter_zoo(tmp_path / "z"))


def test_a_part_holding_other_than_its_listed_network_count_is_named(tmp_path):
    save_zoo(tmp_path / "z", nets(3), {"name": "t"}, part_size=2)
    edit_info(tmp_path / "z", lambda i: [i["parts"][0].update(networks=1), i["parts"][1].update(networks=2)])
    with pytest.raises(ValueError, match="part-00000.pt: holds 2 networks but info.json says 1"):
        list(iter_zoo(tmp_path / "z"))


def test_merged_zoo_lists_verified_parts_and_refuses_a_corrupt_piece(tmp_path):
    save_zoo(tmp_path / "a", nets(3), {"name": "t"}, part_size=2)
    later = nets(5)[3:]
    save_zoo(tmp_path / "b", later, {"name": "t"}, part_size=2)
    assert merge_zoos([tmp_path / "a", tmp_path / "b"], tmp_path / "m") == 5
    info = read_info(tmp_path / "m")
    assert [p["file"] for p in info["parts"]] == ["part-00000.pt", "part-00001.pt", "part-00002.pt"]
    assert [p["networks"] for p in info["parts"]] == [2, 1, 2] and info["size"] == 5
    assert [n.meta["id"] for n in iter_zoo(tmp_path / "m")] == ["n0", "n1", "n2", "n3", "n4"]
    part = tmp_path / "b" / "part-00000.pt"
    data = part.read_bytes()
    part.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(ValueError, match="b/part-00000.pt: SHA-256 does not match"):
        merge_zoos([tmp_path / "a", tmp_path / "b"], tmp_path / "m")
