"""Shared fixtures (no __init__.py here: tests run in importlib mode)."""

import os

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def private_cache_dir(tmp_path_factory):
    """The record of verified files (scalegmn.data.verified) lives in a temporary folder, not in ~/.cache."""
    os.environ["SCALEGMN_CACHE_DIR"] = str(tmp_path_factory.mktemp("scalegmn-cache"))


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    """The Hugging Face libraries offline, with a private home and no token (nothing can reach the Hub)."""
    import datasets
    import huggingface_hub.constants

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
        monkeypatch.setattr(datasets.config, name, True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_DATASETS_CACHE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture
def seeded_single_thread():
    """Seeded, and single-threaded: these tensors are tiny, and idle OpenMP threads spin on shared cores."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def float64_single_thread():
    """Float64 by default, seeded, single-threaded (symmetry checks of single blocks)."""
    old, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(old)
    torch.set_num_threads(threads)
