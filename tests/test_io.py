"""Outputs never destroy a user's files: a folder is replaced only when new, empty, an earlier output of the
same command or with --overwrite; never when it is, holds or lies inside an input; temporaries of a killed
writer are removed by the next write."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from typer.testing import CliRunner

from scalegmn.cli import app
from scalegmn.io import OUTPUT_MARKER, OutputError, atomic_dir, atomic_file, output_kind, write_json, write_text
from scalegmn.data import open_dataset
from scalegmn.data.synthetic import synthetic_cnn_zoo
from scalegmn.run.trainer import result_without_metrics
from scalegmn.zoo import iter_zoo, save_zoo

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())  # undo the console's line wrapping


@pytest.fixture
def zoo(tmp_path):
    save_zoo(tmp_path / "zoo", synthetic_cnn_zoo(8, channels=(1, 4, 4)), {"name": "digits-cnn", "kind": "cnn"})
    return tmp_path / "zoo"


@pytest.fixture
def precious(tmp_path):
    """A folder of a user's own files."""
    folder = tmp_path / "mine"
    (folder / "notes").mkdir(parents=True)
    (folder / "thesis.tex").write_text("precious")
    (folder / "notes" / "a.txt").write_text("also precious")
    return folder


def assert_untouched(folder):
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == ["notes", "notes/a.txt",
                                                                                   "thesis.tex"]
    assert (folder / "thesis.tex").read_text() == "precious"


COMMANDS = {
    "shard": lambda zoo, out: ["shard", zoo, out],
    "zoo export": lambda zoo, out: ["zoo", "export", zoo, out],
    "zoo merge": lambda zoo, out: ["zoo", "merge", out, zoo],
    "zoo generate inr": lambda zoo, out: ["zoo", "generate", "inr", "--out", out, "--size", 2, "--steps", 2,
                                          "--workers", 1, "--no-progress"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_into_a_folder_of_other_files_refuses_and_keeps_them(zoo, precious, command):
    code, out = invoke(*COMMANDS[command](zoo, precious))
    assert code == 1, out
    assert "mine" in out and "--overwrite" in out and "nothing was written" in out
    assert_untouched(precious)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_replaces_its_own_earlier_output(tmp_path, zoo, command):
    for _ in range(2):
        code, out = invoke(*COMMANDS[command](zoo, tmp_path / "out"))
        assert code == 0, out
    assert output_kind(tmp_path / "out") is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_overwrite_replaces_a_folder_of_other_files(zoo, precious, command):
    code, out = invoke(*COMMANDS[command](zoo, precious), "--overwrite")
    assert code == 0, out
    assert not (precious / "thesis.tex").exists()


@pytest.mark.parametrize("where", ["same", "inside", "parent"])
@pytest.mark.parametrize("command", ["shard", "zoo export"])
def test_output_at_inside_or_around_the_input_refuses_even_with_overwrite(tmp_path, zoo, command, where):
    out = {"same": zoo, "inside": zoo / "out", "parent": tmp_path}[where]
    before = sorted(p.name for p in zoo.iterdir())
    code, message = invoke(*COMMANDS[command](zoo, out), "--overwrite")
    assert code == 1 and "the input" in message
    assert sorted(p.name for p in zoo.iterdir()) == before
    assert len(list(iter_zoo(zoo))) == 8


def test_shard_into_a_file_refuses(tmp_path, zoo):
    (tmp_path / "file").write_text("x")
    code, out = invoke("shard", zoo, tmp_path / "file")
    assert code == 1 and "not a folder" in out
    assert (tmp_path / "file").read_text() == "x"


def test_shard_into_an_empty_folder_writes_the_dataset(tmp_path, zoo):
    (tmp_path / "empty").mkdir()
    code, out = invoke("shard", zoo, tmp_path / "empty")
    assert code == 0, out
    assert len(open_dataset(tmp_path / "empty", verify=True)) == 8


def test_another_kind_of_our_output_is_not_replaced(tmp_path, zoo):
    assert invoke("shard", zoo, tmp_path / "ds")[0] == 0
    code, out = invoke("zoo", "merge", tmp_path / "ds", zoo)
    assert code == 1 and "graph-dataset output, not a zoo" in out
    assert len(open_dataset(tmp_path / "ds", verify=True)) == 8


def test_report_refuses_to_replace_a_tables_folder_of_other_files(tmp_path):
    write_json(tmp_path / "results.json", [result_without_metrics("inr-editing", "statnn", 0, "not_applicable", "invariant")])
    (tmp_path / "out" / "tables").mkdir(parents=True)
    (tmp_path / "out" / "tables" / "mine.csv").write_text("a,b\n")
    code, out = invoke("report", "--results", tmp_path / "results.json", "--out", tmp_path / "out")
    assert code == 2 and "tables" in out
    assert (tmp_path / "out" / "tables" / "mine.csv").read_text() == "a,b\n"
    assert not (tmp_path / "out" / "report.md").exists()


def test_a_file_never_replaces_a_folder(tmp_path, precious):
    with pytest.raises(OutputError, match="is a folder"):
        write_text(precious, "x")
    assert_untouched(precious)


def test_failed_write_leaves_the_earlier_output_and_no_temporary(tmp_path):
    with atomic_dir(tmp_path / "out", "demo") as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("first")
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "out", "demo") as tmp:
            tmp.mkdir()
            (tmp / "a").write_text("second")
            raise RuntimeError("interrupted")
    assert (tmp_path / "out" / "a").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [OUTPUT_MARKER, "a"]


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from scalegmn.io import atomic_dir, atomic_file
    with atomic_dir(sys.argv[1] + "/ds", "demo") as tmp:
        tmp.mkdir()
        (tmp / "half").write_text("half-written")
        with atomic_file(sys.argv[1] + "/f.json") as f:
            f.write_text("{")
            print("ready", flush=True)
            time.sleep(60)
""")


def test_temporaries_of_a_sigkilled_writer_are_removed_by_the_next_write(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(name.endswith(".tmp") for name in left), left
    with atomic_dir(tmp_path / "ds", "demo") as tmp:
        tmp.mkdir()
    write_text(tmp_path / "f.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "f.json"]


def test_temporaries_of_a_live_writer_are_kept(tmp_path):
    with atomic_file(tmp_path / "f.json") as mine:
        mine.write_text("{")
        write_text(tmp_path / "f.json", "{}")  # a second writer of the same target, in this (live) process
        assert mine.exists()
    assert (tmp_path / "f.json").read_text() == "{"


def test_an_old_temporary_of_an_earlier_version_is_removed(tmp_path):
    old = tmp_path / ".f.json.k2x9_abc.tmp"
    old.write_text("{")
    recent = tmp_path / ".f.json.zz81_qq.tmp"
    recent.write_text("{")
    os.utime(old, (time.time() - 3 * 24 * 3600,) * 2)
    write_text(tmp_path / "f.json", "{}")
    assert not old.exists() and recent.exists()


def test_a_writer_killed_between_the_two_renames_gets_the_previous_output_back(tmp_path):
    with atomic_dir(tmp_path / "out", "demo") as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("first")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owner = f"{socket.gethostname().replace('.', '_').replace('-', '_')}-{dead.stdout.strip()}"
    (tmp_path / "out").rename(tmp_path / f".out.{owner}.x1.old")  # moved aside, then killed
    (tmp_path / f".out.{owner}.x1.tmp").mkdir()
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "out", "demo") as tmp:
            raise RuntimeError("the next write fails too")
    assert (tmp_path / "out" / "a").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_files_that_only_look_like_temporaries_are_kept(tmp_path):
    kept = [tmp_path / ".zoo.backup.old", tmp_path / ".zoo.notes.tmp", tmp_path / ".zoo.old"]
    for path in kept:
        path.mkdir()
        (path / "precious.txt").write_text("x")
        os.utime(path, (time.time() - 3 * 24 * 3600,) * 2)
    with atomic_dir(tmp_path / "zoo", "demo") as tmp:
        tmp.mkdir()
    assert all((path / "precious.txt").exists() for path in kept)


def test_the_current_folder_or_a_symlink_is_not_replaced(tmp_path, zoo, monkeypatch):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    code, out = invoke("shard", zoo, ".")
    assert code == 1 and "is the current folder" in out
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    code, out = invoke("shard", zoo, tmp_path / "link")
    assert code == 1 and "symbolic link" in out
    assert (tmp_path / "link").is_symlink()
