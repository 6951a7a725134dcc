"""Publishing a graph dataset to the Hugging Face Hub: Parquet files under ``data/`` (one set per split,
named ``train``, ``validation`` and ``test``) in the ``datasets`` features of :mod:`scalegmn.data.hub`,
the dataset card (with ``dataset_info``) and the dataset's ``metadata.json`` (with a ``hub`` entry).
:func:`export_hub_folder` writes exactly the folder that :func:`publish` pushes; ``datasets.load_dataset(folder)``
loads it offline and :func:`scalegmn.data.reader.open_dataset` opens it as a graph dataset."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scalegmn.io import OUTPUT_MARKER, atomic_dir, check_output_dir, write_json
from scalegmn.data.card import SOURCE_ZOOS, SourceZoo, guess_source_zoo, render_card
from scalegmn.data.hub import HUB_ID as REPO_ID
from scalegmn.data.hub import HUB_SPLITS, dataset_info_yaml, hub_batch, hub_features, layer_shapes
from scalegmn.data.metadata import METADATA_FILE
from scalegmn.data.reader import open_dataset
from scalegmn.data.rows import SPLITS

DEFAULT_LICENSE = "cc-by-4.0"
HUB_FOLDER_KIND = "hub-folder"  # the output kind of an exported Hub folder (scalegmn.io.atomic_dir)


class PublishError(RuntimeError):
    """Publishing did not happen (no token, offline, or the Hub refused); nothing was published."""


@dataclass(frozen=True)
class HubExport:
    """The exported folder and its Parquet files per published split (paths relative to the folder)."""

    folder: Path
    files: dict[str, list[str]]


def check_repo_id(repo_id: str) -> str:
    if not REPO_ID.match(repo_id):
        raise ValueError(f"repository id {repo_id!r} is not of the form ORG/NAME")
    return repo_id


def resolve_source(name_or_key: str | None, zoo_name: str) -> SourceZoo | None:
    """The explicitly named source zoo (``ValueError`` if unknown), else a guess from the zoo's name."""
    if name_or_key is None:
        return guess_source_zoo(zoo_name)
    if name_or_key not in SOURCE_ZOOS:
        raise ValueError(f"unknown source zoo {name_or_key!r}; expected one of {', '.join(SOURCE_ZOOS)}")
    return SOURCE_ZOOS[name_or_key]


def _write_split(table: pa.Table, split: str, size: int, folder: Path, rows_per_file: int,
                 features: Any) -> tuple[list[str], int]:
    """Stream the rows of ``split`` (our name) in the published ``features`` into
    ``data/<published split>-NNNNN-of-MMMMM.parquet`` files; returns the files and the rows' Arrow bytes."""
    if size == 0:
        return [], 0
    count = math.ceil(size / rows_per_file)
    names = [f"data/{HUB_SPLITS[split]}-{i:05d}-of-{count:05d}.parquet" for i in range(count)]
    schema = features.arrow_schema
    writer, index, in_file, nbytes = None, 0, 0, 0
    for batch in table.to_batches():
        part = batch.filter(pc.equal(batch.column("split"), split))
        while part.num_rows:
            if writer is None:
                writer = pq.ParquetWriter(folder / names[index], schema)
            take = min(part.num_rows, rows_per_file - in_file)
            published = hub_batch(part.slice(0, take), split, features)
            writer.write_batch(published)
            nbytes += published.nbytes
            part, in_file = part.slice(take), in_file + take
            if in_file == rows_per_file:
                writer.close()
                writer, index, in_file = None, index + 1, 0
    if writer is not None:
        writer.close()
    return names, nbytes


def export_hub_folder(
    dataset: str | Path,
    out: str | Path,
    *,
    repo_id: str,
    license: str = DEFAULT_LICENSE,
    source: str | None = None,
    pretty_name: str | None = None,
    rows_per_file: int = 50_000,
    overwrite: bool = False,
) -> HubExport:
    """Write the folder that would be pushed for ``dataset``: ``data/*.parquet``, ``README.md`` and
    ``metadata.json`` (atomically;
    ``out`` is never the dataset or inside it, and replaces an unrelated non-empty folder only with ``overwrite``).

    ``source`` names the source zoo for the card's citation (a key of ``card.SOURCE_ZOOS``); by default
    it is guessed from the zoo's name.
    """
    check_repo_id(repo_id)
    if rows_per_file < 1:
        raise ValueError(f"rows_per_file must be >= 1, got {rows_per_file}")
    check_output_dir(out, HUB_FOLDER_KIND, overwrite=overwrite, inputs=[dataset])
    ds = open_dataset(dataset, verify=True)
    zoo = resolve_source(source, str(ds.metadata.get("source", {}).get("info", {}).get("name", "")))
    with atomic_dir(out, HUB_FOLDER_KIND, overwrite=overwrite, inputs=[dataset]) as tmp:
        (tmp / "data").mkdir(parents=True)
        features = hub_features(ds.metadata, ds.table)
        files, sizes = {}, {}
        for split in SPLITS:
            size = ds.metadata["split_sizes"][split]
            files[HUB_SPLITS[split]], nbytes = _write_split(ds.table, split, size, tmp, rows_per_file, features)
            sizes[HUB_SPLITS[split]] = (size, nbytes)
        info = dataset_info_yaml(features, sizes)
        card = render_card(ds.metadata, files, repo_id=repo_id, license=license, source=zoo, pretty_name=pretty_name,
                           dataset_info=info, per_layer=layer_shapes(ds.metadata, ds.table) is not None)
        (tmp / "README.md").write_text(card)
        hub = {"splits": {s: HUB_SPLITS[s] for s in SPLITS}, "files": files,
               "layout": "per-layer" if "bias_0" in features else "flat"}
        write_json(tmp / METADATA_FILE, {**ds.metadata, "hub": hub})
    return HubExport(Path(out), files)


def _offline() -> bool:
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().upper()
    return bool(constants.HF_HUB_OFFLINE) or flag in {"1", "ON", "YES", "TRUE"}


def publish(
    dataset: str | Path,
    *,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    license: str = DEFAULT_LICENSE,
    source: str | None = None,
    pretty_name: str | None = None,
) -> str:
    """Push ``dataset`` to the Hub dataset repository ``repo_id``; returns the commit URL.

    Raises :class:`PublishError` (nothing published) without a token (``token``, ``HF_TOKEN`` or a saved
    login), when offline (``HF_HUB_OFFLINE``), or when the Hub refuses.
    """
    from huggingface_hub import HfApi, get_token

    check_repo_id(repo_id)
    token = token or get_token()
    if not token:
        raise PublishError(
            "no Hugging Face token: pass --token, set HF_TOKEN or run `hf auth login`; nothing was published"
        )
    if _offline():
        raise PublishError("offline (HF_HUB_OFFLINE is set): nothing was published")
    with tempfile.TemporaryDirectory(prefix="scalegmn-publish-") as tmp:
        export = export_hub_folder(dataset, Path(tmp) / "repo", repo_id=repo_id, license=license, source=source,
                                   pretty_name=pretty_name)
        api = HfApi(token=token)
        try:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            commit = api.upload_folder(folder_path=str(export.folder), repo_id=repo_id, repo_type="dataset",
                                       ignore_patterns=[OUTPUT_MARKER],
                                       commit_message="Upload graph dataset with scalegmn publish")
        except Exception as err:  # the Hub client raises HTTP, connection and validation errors of many types
            raise PublishError(
                f"publishing to {repo_id} failed ({type(err).__name__}: {err}); no data was uploaded"
            ) from None
    return str(commit.commit_url)
