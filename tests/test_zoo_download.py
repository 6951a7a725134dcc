"""Zoo downloads without the internet: a local HTTP server (with Range support) for resuming, an
unreachable local port for the offline error, and fixture archives placed with --from-file."""

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from dataclasses import replace

import pytest
import torch
from typer.testing import CliRunner

from scalegmn.cli import app
from scalegmn.core.random_networks import random_cnn
from scalegmn.core.weights import forward
from scalegmn.zoo import export_small_cnn_zoo, load_networks
from scalegmn.zoo.download import REGISTRY, DownloadError, acquire_zoo, download


def small_cnn_zoo_archive(tmp_path, name="mnist", drop=None):
    """A tar.xz holding ``<name>/weights.npy, metrics.csv.gz, layout.csv`` like the public archives."""
    g = torch.Generator().manual_seed(0)
    nets = [random_cnn((1, 4, 4, 4), generator=g, dtype=torch.float32) for _ in range(3)]
    for i, net in enumerate(nets):
        net.meta = {"id": f"n{i}", "score": 0.5}
    export_small_cnn_zoo(nets, tmp_path / "build" / name)
    if drop:
        (tmp_path / "build" / name / drop).unlink()
    archive = tmp_path / f"{name}.tar.xz"
    with tarfile.open(archive, "w:xz") as tar:
        tar.add(tmp_path / "build" / name, arcname=name)
    return archive, nets


def source_for(archive, **changes):
    return replace(REGISTRY["mnist-gs"], archive=archive.name, **changes)


def test_from_file_archive_is_verified_extracted_and_readable(tmp_path):
    archive, nets = small_cnn_zoo_archive(tmp_path)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    out = acquire_zoo(source_for(archive, sha256=digest, size=archive.stat().st_size), tmp_path / "datasets",
                      from_file=archive, progress=False)
    assert out == tmp_path / "datasets" / "mnist-gs"
    back = list(load_networks(out))
    x = torch.rand(2, 1, 8, 8)
    assert [torch.equal(forward(a, x), forward(b, x)) for a, b in zip(nets, back)] == [True] * 3
    assert (out / "SOURCE.json").is_file()


def test_wrong_checksum_truncated_archive_and_missing_member_are_named(tmp_path):
    archive, _ = small_cnn_zoo_archive(tmp_path)
    with pytest.raises(ValueError, match=r"mnist.tar.xz: SHA-256 .* does not match"):
        acquire_zoo(source_for(archive, sha256="0" * 64), tmp_path / "d", from_file=archive)
    truncated = tmp_path / "cut" / "mnist.tar.xz"
    truncated.parent.mkdir()
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ValueError, match="cut/mnist.tar.xz: corrupt or truncated archive"):
        acquire_zoo(source_for(truncated), tmp_path / "d", from_file=truncated)
    with pytest.raises(ValueError, match="mnist.tar.xz: .* bytes, expected"):
        acquire_zoo(source_for(truncated, size=archive.stat().st_size), tmp_path / "d", from_file=truncated)
    incomplete, _ = small_cnn_zoo_archive(tmp_path / "other", drop="layout.csv")
    with pytest.raises(ValueError, match="mnist.tar.xz: missing layout.csv inside the archive"):
        acquire_zoo(source_for(incomplete), tmp_path / "d", from_file=incomplete)
    assert not (tmp_path / "d" / "mnist-gs").exists()
    assert archive.exists() and truncated.exists()  # placed files are never deleted


def test_offline_error_names_url_and_from_file(tmp_path):
    source = replace(REGISTRY["mnist-gs"], url="http://127.0.0.1:9/smallcnnzoo/mnist.tar.xz")
    with pytest.raises(DownloadError, match=r"http://127.0.0.1:9/smallcnnzoo/mnist.tar.xz.*--from-file"):
        acquire_zoo(source, tmp_path, progress=False)
    assert list((tmp_path / "downloads").glob("*")) == []


class RangeHandler(http.server.BaseHTTPRequestHandler):
    payload = b""
    ranges: list = []
    cut = None  # send only this many bytes of the body (a dropped connection)

    def do_GET(self):  # noqa: N802 (http.server API)
        start = 0
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        if header:
            start = int(header.split("=")[1].rstrip("-"))
        body = self.payload[start:]
        self.send_response(206 if header else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: self.cut])

    def log_message(self, *args):
        pass


def test_download_resumes_a_partial_file_with_http_range(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("mnist-inrs/mnist_png_training_3_1/checkpoints/model_final.pth", b"x" * 5000)
    RangeHandler.payload, RangeHandler.ranges = buffer.getvalue(), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/mnist-inrs.zip"
        source = replace(REGISTRY["mnist-inr"], url=url, sha256=hashlib.sha256(RangeHandler.payload).hexdigest())
        archive = tmp_path / "downloads" / "mnist-inrs.zip"
        archive.parent.mkdir()
        (tmp_path / "downloads" / "mnist-inrs.zip.part").write_bytes(RangeHandler.payload[:1000])
        download(source, archive, progress=False)
        assert RangeHandler.ranges == ["bytes=1000-"]
        assert archive.read_bytes() == RangeHandler.payload
        out = acquire_zoo(source, tmp_path, progress=False)
        assert (out / "mnist-inrs/mnist_png_training_3_1/checkpoints/model_final.pth").is_file()
    finally:
        server.shutdown()


def test_failed_downloads_leave_no_file_that_looks_complete(tmp_path):
    RangeHandler.payload, RangeHandler.ranges, RangeHandler.cut = b"y" * 50000, [], 20000
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        source = replace(REGISTRY["mnist-inr"], url=f"http://127.0.0.1:{server.server_port}/mnist-inrs.zip",
                         sha256="0" * 64)
        with pytest.raises(DownloadError, match="interrupted|incomplete"):
            acquire_zoo(source, tmp_path, progress=False)
        assert not (tmp_path / "downloads" / "mnist-inrs.zip").exists()
        assert (tmp_path / "downloads" / "mnist-inrs.zip.part").stat().st_size == 20000
        RangeHandler.cut = None
        with pytest.raises(ValueError, match="mnist-inrs.zip: SHA-256 .* does not match"):
            acquire_zoo(source, tmp_path, progress=False)
        assert RangeHandler.ranges[-1] == "bytes=20000-"
        assert list((tmp_path / "downloads").iterdir()) == [] and not (tmp_path / "mnist-inr").exists()
    finally:
        RangeHandler.cut = None
        server.shutdown()


def test_cli_download_from_file(tmp_path):
    archive, _ = small_cnn_zoo_archive(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["zoo", "download", "mnist-gs", "--dest", str(tmp_path / "ds"), "--from-file",
                                 str(archive), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "no published checksum" in " ".join(result.output.split())
    info = runner.invoke(app, ["zoo", "info", str(tmp_path / "ds" / "mnist-gs")])
    assert info.exit_code == 0 and '"size": 3' in info.output
    bad = runner.invoke(app, ["zoo", "download", "nope"])
    assert bad.exit_code == 1 and "unknown zoo 'nope'" in " ".join(bad.output.split())
