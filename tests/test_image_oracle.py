"""The image oracle: a classifier on the rendered INRs reads the digits the INRs encode."""

import json

import pytest
import torch

from scalegmn.data.dataset import InMemoryGraphDataset
from scalegmn.tasks.image_oracle import ImageOracleConfig, image_oracle, read_image_oracle, rendered_pixels
from scalegmn.zoo.digits import load_digits_images
from scalegmn.zoo.inr_zoo import InrZooConfig, generate_inr_zoo


@pytest.fixture(scope="module")
def fitted_digits():
    nets = generate_inr_zoo(InrZooConfig(size=150, steps=150), progress=False)
    return InMemoryGraphDataset(nets, {"train": list(range(100)), "test": list(range(100, 150))})


def test_rendered_pixels_are_the_fitted_digits(fitted_digits):
    images, _ = load_digits_images()
    pixels = torch.from_numpy(rendered_pixels(fitted_digits, torch.arange(5), 8))
    assert (pixels - images[:5].reshape(5, -1).double() / 16).abs().max() < 0.05


def test_oracle_classifies_well_fitted_inrs_far_above_chance(fitted_digits):
    oracle = image_oracle(fitted_digits, ImageOracleConfig(resolution=8))
    assert (oracle.train, oracle.test, oracle.resolution) == (100, 50, 8)
    assert oracle.accuracy >= 0.8  # chance is 0.1


def test_oracle_refuses_a_dataset_without_test_networks(fitted_digits):
    only_train = InMemoryGraphDataset([fitted_digits.network(i) for i in range(10)], {"train": list(range(10))})
    with pytest.raises(ValueError, match="both the train and the test split"):
        image_oracle(only_train)


def test_oracle_record_round_trips_through_json(fitted_digits, tmp_path):
    oracle = image_oracle(fitted_digits, ImageOracleConfig(resolution=8, svm_c=3.0))
    path = tmp_path / "oracle.json"
    path.write_text(json.dumps(oracle.to_dict()))
    assert read_image_oracle(path) == oracle
    assert "C=3" in oracle.classifier


def test_oracle_record_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(ValueError, match="missing.json: image oracle file not found"):
        read_image_oracle(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"accuracy": 0.9}')
    with pytest.raises(ValueError, match="bad.json: image oracle record lacks 'train'"):
        read_image_oracle(bad)


def test_oracle_config_refuses_impossible_settings():
    with pytest.raises(ValueError, match="resolution must be >= 1 and svm_c > 0"):
        ImageOracleConfig(resolution=0)
    with pytest.raises(ValueError, match="resolution must be >= 1 and svm_c > 0"):
        ImageOracleConfig(svm_c=0.0)
