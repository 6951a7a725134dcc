"""Typed settings: unknown keys refused with a did-you-mean, values checked against the field types, every
error naming where the value came from."""

import pytest

from scalegmn.config import ConfigError, from_mapping, read_section, split_mapping
from scalegmn.data.transforms import AugmentConfig
from scalegmn.data.shards import ShardConfig
from scalegmn.data.splits import SplitConfig
from scalegmn.run.config import TrainConfig
from scalegmn.zoo.cnn_zoo import CnnZooConfig
from scalegmn.zoo.inr_zoo import InrZooConfig


def test_lists_become_tuples_and_yaml_exponent_strings_numbers():
    config = from_mapping(CnnZooConfig, {"widths": [4, 8], "l2reg": ["1e-8", 1e-2]}, "params.yaml: zoo.x")
    assert config.widths == (4, 8) and config.l2reg == (1e-8, 1e-2)


@pytest.mark.parametrize("cls, values, message", [
    (AugmentConfig, {"copiez": 3}, "where: unknown option 'copiez' (did you mean 'copies'?)"),
    (AugmentConfig, {"copies": 1.5}, "where: copies: expected an integer, got 1.5"),
    (AugmentConfig, {"permute": "yes"}, "where: permute: expected true or false, got 'yes'"),
    (AugmentConfig, {"copies": True}, "where: copies: expected an integer, got True"),
    (AugmentConfig, {"copies": -1}, "where: copies must be >= 0, got -1"),
    (AugmentConfig, {"keep_originals": False}, "where: keep_originals: false needs copies >= 1"),
    (CnnZooConfig, {"widths": [4, "wide"]}, "where: widths[1]: expected an integer, got 'wide'"),
    (CnnZooConfig, {"dropout": [0.1]}, "where: dropout: expected 2 values, got 1: [0.1]"),
    (InrZooConfig, {"size": "all"}, "where: size: expected int | None, got 'all'"),
    (SplitConfig, ["train"], "where: expected a mapping of SplitConfig options, got ['train']"),
    (TrainConfig, {"canonicalize": True}, "where: canonicalize: expected a string, got True"),
    (TrainConfig, {"canonicalize": "signs"}, "where: canonicalize must be one of none, phase, full, got 'signs'"),
    (TrainConfig, {"patience": 0}, "where: patience must be >= 1 or null, got 0"),
    (TrainConfig, {"min_epochs": -1}, "where: min_epochs must be >= 0, got -1"),
])
def test_bad_values_are_refused_naming_where_and_the_key(cls, values, message):
    with pytest.raises(ConfigError) as err:
        from_mapping(cls, values, "where")
    assert str(err.value).startswith(message)


def test_none_is_accepted_where_the_type_allows_it():
    assert from_mapping(InrZooConfig, {"size": None}, "where").size is None


def test_a_section_shared_by_two_configs_is_split_and_checked():
    split, shard = split_mapping({"train": 0.5, "val": 0.25, "test": 0.25, "rows_per_shard": 9},
                                 (SplitConfig, ShardConfig), "params.yaml: shard")
    assert split == {"train": 0.5, "val": 0.25, "test": 0.25} and shard == {"rows_per_shard": 9}
    with pytest.raises(ConfigError, match=r"params.yaml: shard: unknown option 'trian' \(did you mean 'train'\?\)"):
        split_mapping({"trian": 0.5}, (SplitConfig, ShardConfig), "params.yaml: shard")


def test_a_missing_section_or_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("shards: {}\n")
    with pytest.raises(ConfigError, match=r"params.yaml: no section 'shard' \(did you mean 'shards'\?\)"):
        read_section(path, "shard")
    path.write_text("shard: [unclosed\n")
    with pytest.raises(ConfigError, match="params.yaml: not valid YAML"):
        read_section(path, "shard")
    with pytest.raises(ConfigError, match="missing.yaml: cannot read"):
        read_section(tmp_path / "missing.yaml", "shard")


def test_nested_settings_are_typed_and_dotted_overrides_reach_them():
    from scalegmn.run.config import TrainConfig

    config = TrainConfig.from_dict({"augment": {"copies": 2}}).with_overrides(["augment.scale=false",
                                                                              "model.hidden=8"])
    assert config.augment == AugmentConfig(copies=2, scale=False) and config.model == {"hidden": 8}
    with pytest.raises(ConfigError, match=r"--config: augment: unknown option 'copiez' \(did you mean 'copies'\?\)"):
        config.with_overrides(["augment.copiez=1"])
    with pytest.raises(ConfigError, match="params.yaml: train: augment: copies must be >= 0"):
        TrainConfig.from_dict({"augment": {"copies": -1}}, "params.yaml: train")
