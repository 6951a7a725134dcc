"""Publishing: the dry-run folder loads offline with `datasets` and matches the dataset; no token or
offline gives a clear error and publishes nothing. Nothing here contacts the network."""

import fnmatch
from pathlib import Path

import datasets
import huggingface_hub
import huggingface_hub.constants
import pytest
import yaml
from typer.testing import CliRunner

from scalegmn.cli import app
from scalegmn.io import OUTPUT_MARKER
from scalegmn.data import ShardConfig, open_dataset, write_dataset
from scalegmn.data.publish import PublishError, export_hub_folder, publish
from scalegmn.data.rows import COLUMNS, network_from_row
from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo


pytestmark = pytest.mark.usefixtures("offline_hub")


def make_dataset(path, nets):
    splits = ("train", "train", "val", "test", "train")
    write_dataset(path, ((n, splits[i % 5]) for i, n in enumerate(nets)),
                  source={"info": {"name": "digits-inr", "kind": "inr"}}, params={"k": 1},
                  config=ShardConfig(rows_per_shard=4))
    return open_dataset(path)


def front_matter(readme):
    return yaml.safe_load(readme.split("---\n")[1])


def test_dry_run_folder_loads_offline_and_matches(tmp_path):
    ds = make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(11)))
    runner = CliRunner()
    result = runner.invoke(app, ["publish", str(tmp_path / "ds"), "--repo-id", "me/digits-inr",
                                 "--dry-run", str(tmp_path / "hub"), "--rows-per-file", "3"])
    assert result.exit_code == 0, result.output
    assert "nothing was pushed" in result.output
    files = sorted(p.relative_to(tmp_path / "hub").as_posix() for p in (tmp_path / "hub").rglob("*") if p.is_file())
    assert files == [OUTPUT_MARKER, "README.md", "data/test-00000-of-00001.parquet",
                     "data/train-00000-of-00003.parquet", "data/train-00001-of-00003.parquet", "data/train-00002-of-00003.parquet",
                     "data/validation-00000-of-00001.parquet", "metadata.json"]
    loaded = datasets.load_dataset(str(tmp_path / "hub"), cache_dir=str(tmp_path / "cache"))
    assert {s: loaded[s].num_rows for s in loaded} == {"train": 7, "validation": 2, "test": 2}
    assert ds.metadata["split_sizes"] == {"train": 7, "val": 2, "test": 2}
    frame = ds.frame().set_index("id")
    for split in loaded:
        for row in loaded[split]:
            assert row["split"] == split
            assert network_from_row(row).equals(ds.network(int(frame.loc[row["id"], "row"])))


def test_dataset_card_describes_the_dataset(tmp_path):
    make_dataset(tmp_path / "ds", list(synthetic_cnn_zoo(5, channels=(1, 2))))
    export = export_hub_folder(tmp_path / "ds", tmp_path / "hub", repo_id="me/x", source="small-cnn-zoo")
    readme = (tmp_path / "hub" / "README.md").read_text()
    meta = front_matter(readme)
    assert meta["license"] == "cc-by-4.0" and meta["pretty_name"] and "graph-ml" in meta["task_categories"]
    splits = ("train", "validation", "test")
    assert meta["configs"][0]["data_files"] == [{"split": s, "path": f"data/{s}-*"} for s in splits]
    assert "Predicting Neural Network Accuracy from Weights" in readme and "Unterthiner" in readme
    assert all(f"`{name}`" in readme for name in COLUMNS)
    assert "| train | 3 |" in readme and export.files["validation"] == ["data/validation-00000-of-00001.parquet"]
    inr = export_hub_folder(tmp_path / "ds", tmp_path / "hub2", repo_id="me/x")
    assert "scikit-learn" in (inr.folder / "README.md").read_text()


def test_no_token_is_a_clear_error_and_nothing_is_published(tmp_path):
    make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(3)))
    with pytest.raises(PublishError, match="no Hugging Face token.*nothing was published"):
        publish(tmp_path / "ds", repo_id="me/x")
    result = CliRunner().invoke(app, ["publish", str(tmp_path / "ds"), "--repo-id", "me/x"])
    assert result.exit_code == 1 and "no Hugging Face token" in result.output and "pushed to" not in result.output


def test_offline_is_a_clear_error(tmp_path):
    make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(3)))
    with pytest.raises(PublishError, match="offline.*nothing was published"):
        publish(tmp_path / "ds", repo_id="me/x", token="hf_dummy")


def test_bad_repo_id_and_source_are_refused(tmp_path):
    make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(3)))
    with pytest.raises(ValueError, match="not of the form ORG/NAME"):
        export_hub_folder(tmp_path / "ds", tmp_path / "hub", repo_id="no-slash")
    with pytest.raises(ValueError, match="unknown source zoo"):
        export_hub_folder(tmp_path / "ds", tmp_path / "hub", repo_id="me/x", source="imagenet")
    assert not (tmp_path / "hub").exists()


class FakeHub:
    """Stands in for huggingface_hub.HfApi: records what would be pushed, or fails like the Hub."""

    calls: list = []
    fail = False

    def __init__(self, token):
        self.token = token

    def create_repo(self, repo_id, **kwargs):
        FakeHub.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, folder_path, repo_id, ignore_patterns=(), **kwargs):
        if FakeHub.fail:
            raise ConnectionError("Hub unreachable")
        files = sorted(p.relative_to(folder_path).as_posix() for p in Path(folder_path).rglob("*")
                       if p.is_file() and not any(fnmatch.fnmatch(p.name, pat) for pat in ignore_patterns))
        FakeHub.calls.append(("upload_folder", repo_id, files))
        return type("Commit", (), {"commit_url": f"https://hub.test/{repo_id}/commit/1"})()


def test_push_uploads_the_exported_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    FakeHub.calls, FakeHub.fail = [], False
    make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(6)))
    url = publish(tmp_path / "ds", repo_id="me/x", token="hf_dummy")
    assert url == "https://hub.test/me/x/commit/1"
    assert FakeHub.calls[0] == ("create_repo", "me/x", {"repo_type": "dataset", "private": False, "exist_ok": True})
    assert FakeHub.calls[1][2] == ["README.md", "data/test-00000-of-00001.parquet",
                                   "data/train-00000-of-00001.parquet", "data/validation-00000-of-00001.parquet",
                                   "metadata.json"]
    FakeHub.fail = True
    with pytest.raises(PublishError, match="publishing to me/x failed.*Hub unreachable.*no data was uploaded"):
        publish(tmp_path / "ds", repo_id="me/x", token="hf_dummy")


def test_dry_run_into_a_folder_of_other_files_refuses_and_keeps_them(tmp_path):
    make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(5)))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    result = CliRunner().invoke(app, ["publish", str(tmp_path / "ds"), "--repo-id", "me/x",
                                      "--dry-run", str(tmp_path / "mine")])
    assert result.exit_code == 1
    assert "mine" in result.output and "--overwrite" in result.output
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_dry_run_replaces_its_own_earlier_folder(tmp_path):
    make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(5)))
    for _ in range(2):
        export_hub_folder(tmp_path / "ds", tmp_path / "hub", repo_id="me/x")
    assert (tmp_path / "hub" / "README.md").is_file()


@pytest.mark.parametrize("where", [".", "sub"])
def test_dry_run_at_or_inside_the_dataset_refuses_and_keeps_the_dataset(tmp_path, where):
    ds = make_dataset(tmp_path / "ds", list(synthetic_inr_zoo(5)))
    before = sorted(p.name for p in (tmp_path / "ds").iterdir())
    result = CliRunner().invoke(app, ["publish", str(tmp_path / "ds"), "--repo-id", "me/x",
                                      "--dry-run", str(tmp_path / "ds" / where), "--overwrite"])
    assert result.exit_code == 1 and "the input" in result.output
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == before
    assert len(open_dataset(tmp_path / "ds", verify=True)) == len(ds)
