"""The DVC pipeline end to end on the smoke profile, profiles, and knob-level invalidation."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scalegmn.profiles import load_params, profile_overrides, resolve_profile

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(cmd: list[str], cwd: Path) -> str:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def project_copy(dest: Path) -> Path:
    """The tracked files of the repository (no data, no lock) in a fresh git repository."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if name == "dvc.lock" or name.startswith(("reports/", "tests/")):
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "fresh clone"], cwd=dest, check=True)
    return dest


@pytest.mark.parametrize("profile", sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml")))
def test_profiles_only_override_known_parameters(profile):
    values = resolve_profile(profile, load_params(ROOT / "params.yaml"), ROOT / "profiles")
    assert values["profile"] == profile
    for section in ("zoos", "zoo", "shard", "train", "report"):
        assert section in values


#: epochs of every (task, method) a profile trains: the official configs' ``train_args.num_epochs`` for the paper
#: profiles (200 on every CIFAR-10-GS / SVHN-GS / INR-classification config, 300 on MNIST editing), the full
#: profile's own 100 / 150; a ``runs`` entry of the default (StatNN's 40 INR epochs) must not carry over.
PROFILE_EPOCHS = {
    "paper": {"genpred-relu": 200, "genpred-tanh": 200, "genpred-mixed": 200, "inr-classification": 200,
              "inr-editing": 300},
    "paper-svhn": {"genpred-relu": 200, "genpred-tanh": 200, "inr-classification": 200, "inr-editing": 300},
    "paper-fmnist": {"genpred-relu": 200, "genpred-tanh": 200, "genpred-mixed": 200, "inr-classification": 200,
                     "inr-editing": 300},
    "paper-cifar-inr": {"genpred-relu": 200, "genpred-tanh": 200, "genpred-mixed": 200,
                        "inr-classification": 200, "inr-editing": 300},
    "full": {"genpred-relu": 100, "genpred-tanh": 100, "genpred-mixed": 100, "inr-classification": 150,
             "inr-editing": 100},
}


#: (profile, task, method) whose official config has epochs of its own
RUN_EPOCHS = {("paper", "genpred-mixed", "scalegmn-b"): 250}  # configs/cifar10/scalegmn_hetero_bidir.yml


@pytest.mark.parametrize("profile", sorted(PROFILE_EPOCHS))
def test_every_method_of_a_profile_trains_each_task_for_the_profiles_epochs(profile):
    """The default profile's own tuning (epochs per task or method, chosen for the 2-core CPU) must not leak into a
    profile through the deep merge: every (task, method) it trains gets the epochs of its config."""
    from scalegmn.run.benchmark import resolve_config

    train = resolve_profile(profile, load_params(ROOT / "params.yaml"), ROOT / "profiles")["train"]
    stages = [(task, train["genpred"]["methods"]) for task in train["genpred"]["tasks"]]
    stages += [("inr-classification", train["inr_classification"]["methods"]),
               ("inr-editing", train["inr_editing"]["methods"])]
    assert {task for task, _ in stages} == set(PROFILE_EPOCHS[profile])
    for task, methods in stages:
        for method in methods:
            expected = RUN_EPOCHS.get((profile, task, method), PROFILE_EPOCHS[profile][task])
            assert resolve_config(train, task, method).epochs == expected, (task, method)


@pytest.mark.parametrize("profile", sorted(PROFILE_EPOCHS))
def test_a_profile_sets_every_optimizer_knob_the_default_tunes_for_a_task(profile):
    """A task-level knob of the default profile (inr-editing's lr 3e-3, tuned for its 8x8 images on the CPU) beats
    a profile's ``defaults`` after the deep merge: the profile must set it for that task itself."""
    default_tasks = load_params(ROOT / "params.yaml")["train"]["tasks"]
    overlay = load_params(ROOT / "profiles" / f"{profile}.yaml")["train"]["tasks"]
    for task in PROFILE_EPOCHS[profile]:
        tuned = {"epochs", "lr", "weight_decay", "batch_size"} & set(default_tasks.get(task) or {})
        missing = tuned - set(overlay.get(task) or {})
        assert not missing, (task, sorted(missing))


def test_profile_overrides_switch_between_profiles_and_refuse_unknown_keys(tmp_path):
    default = {"profile": "default", "shard": {"train": 0.7, "val": 0.1, "test": 0.2}, "train": {"seeds": [0, 1]}}
    (tmp_path / "typo.yaml").write_text("shard: {trian: 0.5}\n")
    with pytest.raises(ValueError, match=r"typo.yaml: unknown parameter shard.trian"):
        profile_overrides("typo", default, default, tmp_path)
    (tmp_path / "small.yaml").write_text("shard: {train: 0.5, test: 0.4}\ntrain: {seeds: [0]}\n")
    assert profile_overrides("small", default, default, tmp_path) == [
        "++profile=small", "++shard.train=0.5", "++shard.test=0.4", "++train.seeds=[0]"]
    small = resolve_profile("small", default, tmp_path)
    assert profile_overrides("default", small, default, tmp_path) == [
        "++profile=default", "++shard.train=0.7", "++shard.test=0.2", "++train.seeds=[0,1]"]
    with pytest.raises(ValueError, match="hold profile 'small', not the default"):
        profile_overrides("small", default, small, tmp_path)


def test_a_profile_fills_and_empties_an_open_table_without_deleting_what_it_sets(tmp_path):
    default = {"profile": "default", "train": {"runs": {}, "seeds": [0]}}
    (tmp_path / "runs.yaml").write_text("train: {runs: {genpred-tanh: {scalegmn-b: {lr: 0.0005}}}}\n")
    assert profile_overrides("runs", default, default, tmp_path) == [
        "++profile=runs", "++train.runs.genpred-tanh.scalegmn-b.lr=0.0005"]
    filled = resolve_profile("runs", default, tmp_path)
    # DVC merges `++key={}` into a filled table: the table is removed first
    assert profile_overrides("default", filled, default, tmp_path) == [
        "++profile=default", "~train.runs", "++train.runs={}"]


PROFILES = ["default", *sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml"))]


@pytest.mark.parametrize("start", PROFILES)
def test_dvc_applying_the_overrides_turns_any_profile_into_any_other_exactly(start, tmp_path):
    """What `make repro PROFILE=<name>` does from any profile: DVC's own `-S` application (dvc.utils.hydra) of the
    overrides gives exactly the resolved profile, with nothing of the previous profile left over (the paper
    profile's ScaleGMN-B `runs` entries used to survive a switch back to the default)."""
    from dvc.utils.hydra import apply_overrides

    default = load_params(ROOT / "params.yaml")
    params = tmp_path / "params.yaml"
    for target in PROFILES:
        params.write_text(yaml.safe_dump(resolve_profile(start, default, ROOT / "profiles")))
        apply_overrides(params, profile_overrides(target, load_params(params), default, ROOT / "profiles"))
        assert load_params(params) == resolve_profile(target, default, ROOT / "profiles"), (start, target)


def test_smoke_pipeline_runs_end_to_end_and_reruns_only_what_a_knob_touches(tmp_path, monkeypatch):
    project = project_copy(tmp_path / "project")
    leftovers = {"reports/symmetry/removed-model.json": [{"model": "removed-model", "transform": "scaling",
                                                           "max_rel_change": 1.0, "invariant": False,
                                                           "kind": "invariance"}],
                 "reports/timings/train-removed-task-x-seed0.json": {"stage": "train@removed", "seconds": 5999.0}}
    for name, record in leftovers.items():  # files of an earlier configuration, declared by no stage now
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(json.dumps(record))
    run([str(BIN / "python"), "scripts/repro.py", "smoke"], project)  # what `make repro PROFILE=smoke` runs
    assert (project / "params.yaml").read_text().startswith((ROOT / "params.yaml").read_text().split("\n")[0])
    assert "# generated: small CNNs" in (project / "params.yaml").read_text()  # DVC kept the comments
    assert yaml.safe_load((project / "params.yaml").read_text())["profile"] == "smoke"

    reports = project / "reports"
    html = (reports / "report.html").read_text()
    assert "<img" in html and 'src="http' not in html
    assert "removed-model" not in (reports / "report.md").read_text()
    assert "5999" not in (reports / "report.md").read_text() and "1.7 h" not in (reports / "report.md").read_text()
    results = json.loads((reports / "results.json").read_text())
    assert {(r["task"], r["method"]) for r in results} == {
        ("genpred-relu", "scalegmn"), ("genpred-relu", "statnn"),
        ("inr-classification", "scalegmn"), ("inr-editing", "scalegmn")}
    assert all(r["status"] == "ok" for r in results)
    assert json.loads((reports / "selfcheck.json").read_text())["passed"] > 0
    assert "up to date" in run([str(BIN / "dvc"), "status"], project)
    metrics = run([str(BIN / "dvc"), "metrics", "show"], project)
    assert "reports/headline.json" in metrics and "timings" not in metrics

    ran = run([str(BIN / "dvc"), "exp", "run", "-S", "train.defaults.epochs=3"], project)
    stages = {line.split("'")[1] for line in ran.splitlines() if line.startswith("Running stage")}
    assert stages and all(s.startswith(("train_", "results", "report")) for s in stages), stages
    header, *rows = csv.reader(io.StringIO(run([str(BIN / "dvc"), "exp", "show", "--csv"], project)))
    assert {"relu.scalegmn", "train.defaults.epochs"} <= set(header), header
    epochs = header.index("train.defaults.epochs")
    # the smoke workspace (2) and the experiment (3) are listed; the HEAD row shows the committed default
    assert {"2", "3"} <= {row[epochs] for row in rows}, rows

    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    run([*git, "add", "-A"], project)
    run([*git, "commit", "-q", "-m", "smoke results"], project)
    pushed = run([str(BIN / "dvc"), "push"], project)  # the default remote: ../scalegmn-dvc-remote
    assert (tmp_path / "scalegmn-dvc-remote").is_dir(), pushed
    run(["git", "clone", "-q", str(project), str(tmp_path / "second")], tmp_path)
    run([str(BIN / "dvc"), "pull"], tmp_path / "second")
    for output in ("datasets/graphs/digits-cnn/metadata.json", "reports/runs/genpred-relu/scalegmn/seed0/result.json"):
        assert (tmp_path / "second" / output).read_bytes() == (project / output).read_bytes()

    run([str(BIN / "python"), "scripts/offline_plots_template.py"], project)  # what `make setup` does
    run([str(BIN / "dvc"), "plots", "show", "-o", "dvc_plots"], project)
    page = (project / "dvc_plots" / "index.html").read_text()
    assert "vegaEmbed" in page and "<script src=" not in page and "learning-curves" in page
    if shutil.which("chromium"):
        from scalegmn.report.browser_check import check_html
        assert check_html(reports / "report.html").ok

    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["methods"]["statnn"] = {"lr": 0.002}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = json.loads(run([str(BIN / "dvc"), "status", "--json"], project))
    assert status and all("statnn" in stage for stage in status), status
    run(["git", "checkout", "params.yaml"], project)
    edited_params(project, lambda p: p["train"]["runs"]["inr-editing"].update(scalegmn={"lr": 0.002}))
    status = json.loads(run([str(BIN / "dvc"), "status", "--json"], project))
    assert list(status) == ["train_inr_editing@scalegmn"], status  # one task's runs entry: that task's stages
    run(["git", "checkout", "params.yaml"], project)

    def add_plugin(p):  # a plug-in method, named by import path: only its own stages (and the summaries) run
        p["train"]["methods"]["layer-norms"] = {"metanetwork": "scalegmn_layer_norms:LayerNorms",
                                                "model": {"hidden": 8}}
        p["train"]["genpred"]["methods"].append("layer-norms")
        p["symmetry"]["models"].append("layer-norms")
    edited_params(project, add_plugin)
    monkeypatch.setenv("PYTHONPATH", str(project / "examples" / "scalegmn-layer-norms"))  # the plug-in, not installed
    ran = run([str(BIN / "dvc"), "repro"], project)
    stages = sorted(line.split("'")[1] for line in ran.splitlines() if line.startswith("Running stage"))
    assert stages == ["report", "results", "symmetry@layer-norms", "train_genpred@genpred-relu-layer-norms"], ran
    assert "| layer-norms |" in (project / "reports" / "report.md").read_text()
    assert json.loads((project / "reports" / "headline.json").read_text())["relu"]["layer-norms"] is not None


def edited_params(project: Path, edit) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    edit(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.parametrize("stage, edit, message", [
    ("train.py", lambda p: p["train"]["defaults"]["augment"].update(copiez=3),
     "params.yaml: train (genpred-relu/mlp): augment: unknown option 'copiez' (did you mean 'copies'?)"),
    ("train.py", lambda p: p["train"]["defaults"]["augment"].update(copies="three"),
     "params.yaml: train (genpred-relu/mlp): augment: copies: expected an integer, got 'three'"),
    ("shard.py", lambda p: p.pop("shard"), "params.yaml: no section 'shard'"),
    ("shard.py", lambda p: p["shard"].update(train="most"), "params.yaml: shard: train: expected a number, got 'most'"),
    ("shard.py", lambda p: p["shard"].update(bad_weights="ignore"),
     "params.yaml: shard: bad_weights must be one of refuse, drop, keep, got 'ignore'"),
    ("zoo.py", lambda p: p["zoo"]["digits-cnn"].update(epochs="many"),
     "params.yaml: zoo.digits-cnn: epochs: expected an integer, got 'many'"),
    ("train.py", lambda p: p["train"]["defaults"].update(lr="fast"),
     "params.yaml: train (genpred-relu/mlp): lr: expected a number, got 'fast'"),
    ("report.py", lambda p: p["report"].update(histogram_bin=3),
     "params.yaml: report: unknown option 'histogram_bin' (did you mean 'histogram_bins'?)"),
])
def test_a_bad_params_entry_stops_the_stage_with_a_message_naming_it(tmp_path, stage, edit, message):
    project = project_copy(tmp_path / "project")
    edited_params(project, edit)
    args = {"train.py": ["genpred-relu", "mlp", "datasets/graphs/digits-cnn", "runs/genpred-relu/mlp", "timing.json"],
            "shard.py": ["datasets/zoos/digits-cnn", "datasets/graphs/digits-cnn", "timing.json"],
            "zoo.py": ["digits-cnn", "datasets/zoos/digits-cnn", "zoo.json", "timing.json"],
            "report.py": ["results.json", "selfcheck.json", "symmetry", "zoos", "timings", "oracle", "out"]}[stage]
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.run([str(BIN / "python"), f"pipelines/{stage}", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {message}") and proc.stderr.count("\n") == 1, proc.stderr  # no traceback


def test_readme_quotes_the_committed_overview_verdict_and_augmentation_tables_verbatim():
    """The README's results are the regenerated report's own tables (reports/tables/, committed with dvc.lock): a
    rerun that changes a number fails this test until the README quotes the new table."""
    readme = (ROOT / "README.md").read_text()
    for name in ("overview", "verdicts", "augmentation"):
        table = (ROOT / "reports" / "tables" / f"{name}.md").read_text().strip()
        assert table in readme, f"README.md does not quote reports/tables/{name}.md as it is"
