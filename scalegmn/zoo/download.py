"""Public model zoos: a registry of archives, resumable downloads, verification and extraction.

``acquire_zoo`` downloads ``<downloads>/<archive>`` (into ``<archive>.part`` first, resumed with an HTTP
``Range`` request when a ``.part`` exists, renamed only once complete), or takes an archive placed by hand
(``from_file``); checks its size and SHA-256 where the registry knows them; extracts it into
``<dest>/<name>`` atomically (a temporary directory renamed at the end) after checking that the files the
format needs are inside; and writes ``SOURCE.json`` there (URL, size and the archive's SHA-256, with
``verified`` telling whether it matched a known checksum).

Checksums: the upstream hosts publish none, so the registry holds ``None`` until a maintainer records
the SHA-256 that ``SOURCE.json`` reports for a trusted download.
"""

from __future__ import annotations

import http.client
import lzma
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from scalegmn.io import atomic_dir, check_output_dir, file_sha256, write_json

SMALL_CNN_ZOO_URL = "https://storage.googleapis.com/gresearch/smallcnnzoo-dataset/{}.tar.xz"
DWS_URL = "https://www.dropbox.com/sh/56pakaxe58z29mq/{}?dl=1"
SMALL_CNN_ZOO_FILES = ("weights.npy", "metrics.csv.gz", "layout.csv")
CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed (offline, HTTP error); the message names the URL and the manual route."""


@dataclass(frozen=True)
class ZooSource:
    """One public zoo: where its archive is, what format it holds and how to check it.

    ``required``: file names that must occur in the extracted tree. ``size`` (bytes) and ``sha256`` are
    ``None`` where unknown.
    """

    name: str
    url: str
    archive: str
    format: str
    kind: str
    required: tuple[str, ...]
    size: int | None = None
    sha256: str | None = None
    reference: str = ""


def _small_cnn_zoo(name: str, stem: str) -> ZooSource:
    return ZooSource(name, SMALL_CNN_ZOO_URL.format(stem), f"{stem}.tar.xz", "small-cnn-zoo", "cnn",
                     SMALL_CNN_ZOO_FILES, reference="Unterthiner et al. 2020, Predicting Neural Network Accuracy from Weights")


REGISTRY: dict[str, ZooSource] = {
    "cifar10-gs": _small_cnn_zoo("cifar10-gs", "cifar10"),
    "svhn-gs": _small_cnn_zoo("svhn-gs", "svhn_cropped"),
    "mnist-gs": _small_cnn_zoo("mnist-gs", "mnist"),
    "fmnist-gs": _small_cnn_zoo("fmnist-gs", "fashion_mnist"),
    "mnist-inr": ZooSource("mnist-inr", DWS_URL.format("AABrctdu2U65jGYr2WQRzmMna/mnist-inrs.zip"), "mnist-inrs.zip",
                           "dws-inr", "inr", ("model_final.pth",),
                           reference="Navon et al. 2023, Equivariant Architectures for Learning in Deep Weight Spaces"),
    "fmnist-inr": ZooSource("fmnist-inr", DWS_URL.format("AAAssoHq719OmSHSKKTiKKHGa/fmnist_inrs.zip"), "fmnist_inrs.zip",
                            "dws-inr", "inr", ("splits.json",),
                            reference="Navon et al. 2023, Equivariant Architectures for Learning in Deep Weight Spaces"),
    "cifar10-inr": ZooSource("cifar10-inr",
                             "https://drive.google.com/uc?export=download&id=14RUV3eN6-lSOr9XuwyKFQFVcqKl0L2bw",
                             "siren_cifar_wts.tar", "nfn-cifar-inr", "inr", ("net0.pth",),
                             reference="Zhou et al. 2023, Permutation Equivariant Neural Functionals"),
}


def get_source(name: str) -> ZooSource:
    if name not in REGISTRY:
        raise ValueError(f"unknown zoo {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def _manual_hint(source: ZooSource) -> str:
    return (f"download {source.url} by other means (a browser; Dropbox/Drive links may need a confirmation page) "
            f"and run: scalegmn zoo download {source.name} --from-file PATH/{source.archive}")


def download(source: ZooSource, archive: Path, progress: bool = True, timeout: float = 30.0) -> Path:
    """Download ``source.url`` to ``archive``, resuming ``<archive>.part``; the final name appears only
    when the transfer is complete."""
    partial = archive.with_name(archive.name + ".part")
    archive.parent.mkdir(parents=True, exist_ok=True)
    have = partial.stat().st_size if partial.exists() else 0
    headers = {"User-Agent": "scalegmn-zoo-download"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(source.url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # the .part already holds everything
            partial.rename(archive)
            return archive
        raise DownloadError(f"cannot download {source.url}: HTTP {err.code} {err.reason}; {_manual_hint(source)}") from None
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"cannot download {source.url} ({err}); {_manual_hint(source)}") from None
    with response:
        resumed = have > 0 and response.status == 206
        length = response.headers.get("Content-Length")
        total = int(length) + (have if resumed else 0) if length is not None else None
        try:
            with open(partial, "ab" if resumed else "wb") as out, tqdm(
                    total=total, initial=have if resumed else 0, unit="B", unit_scale=True,
                    desc=source.archive, disable=not progress) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(f"download of {source.url} interrupted ({err}); rerun to resume from "
                                f"{partial}, or {_manual_hint(source)}") from None
    if total is not None and partial.stat().st_size != total:
        raise DownloadError(f"download of {source.url} incomplete ({partial.stat().st_size} of {total} bytes); "
                            f"rerun to resume from {partial}")
    partial.rename(archive)
    return archive


def verify(source: ZooSource, archive: Path) -> str:
    """Check size and SHA-256 where known; returns the SHA-256 (error naming the file otherwise)."""
    if not archive.is_file():
        raise ValueError(f"{archive}: no such file")
    size = archive.stat().st_size
    if source.size is not None and size != source.size:
        raise ValueError(f"{archive}: {size} bytes, expected {source.size} for {source.name} (truncated or wrong file)")
    digest = file_sha256(archive)
    if source.sha256 is not None and digest != source.sha256:
        raise ValueError(f"{archive}: SHA-256 {digest} does not match {source.sha256} expected for {source.name}")
    return digest


def extract(source: ZooSource, archive: Path, out: Path, sha256: str, overwrite: bool = False) -> Path:
    """Extract ``archive`` (tar, tar.xz/gz or zip) into ``out`` atomically, checking the required files;
    ``sha256`` (the archive's) goes into ``SOURCE.json``. ``out`` is replaced only when new, empty, an
    earlier extraction of ``source`` or with ``overwrite``."""
    with atomic_dir(out, f"download-{source.name}", overwrite=overwrite, inputs=[archive]) as tmp:
        tmp.mkdir()
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as z:
                    z.extractall(tmp)
            else:
                with tarfile.open(archive, "r:*") as tar:
                    tar.extractall(tmp, filter="data")
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError, OSError) as err:
            raise ValueError(f"{archive}: corrupt or truncated archive ({type(err).__name__}: {err})") from None
        present = {p.name for p in tmp.rglob("*") if p.is_file()}
        missing = [name for name in source.required if name not in present]
        if missing:
            raise ValueError(f"{archive}: missing {', '.join(missing)} inside the archive (not a {source.format} archive?)")
        write_json(tmp / "SOURCE.json", {"name": source.name, "url": source.url, "archive": archive.name,
                                         "format": source.format, "kind": source.kind,
                                         "size": archive.stat().st_size, "sha256": sha256,
                                         "verified": source.sha256 is not None, "reference": source.reference})
    return out


def acquire_zoo(source: ZooSource, dest: str | Path, *, from_file: str | Path | None = None,
                downloads: str | Path | None = None, progress: bool = True, overwrite: bool = False) -> Path:
    """Download (or take ``from_file``), verify and extract ``source`` into ``<dest>/<name>``; returns it.

    A downloaded archive that fails verification is deleted (a placed ``from_file`` is never touched).
    """
    dest = Path(dest)
    check_output_dir(dest / source.name, f"download-{source.name}", overwrite=overwrite)
    if from_file is not None:
        archive = Path(from_file)
        digest = verify(source, archive)
    else:
        archive = Path(downloads or dest / "downloads") / source.archive
        if not archive.is_file():
            download(source, archive, progress)
        try:
            digest = verify(source, archive)
        except ValueError:
            archive.unlink(missing_ok=True)
            raise
    return extract(source, archive, dest / source.name, digest, overwrite)

