"""Tasks: metrics, row selection, objectives and the batched differentiable INR rendering."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scalegmn.core.random_networks import random_siren
from scalegmn.core.graph import collate, to_graph
from scalegmn.data import InMemoryGraphDataset
from scalegmn.data.synthetic import synthetic_cnn_zoo
from scalegmn.core.symmetry import apply_symmetry, random_symmetry, sample_symmetry
from scalegmn.tasks import TASKS, get_task
from scalegmn.core.siren import coordinate_grid
from scalegmn.tasks.inr import dilate, render_batch
from scalegmn.tasks.metrics import accuracy, is_better, kendall_tau, mse, r2, regression_metrics
from scalegmn.tasks.objectives import DilationEditing, ScoreRegression, WeightEditor
from toy_models import ToyMetanet
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import forward


def sirens(n, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [random_siren((2, 16, 16, 1), generator=g, dtype=dtype, output_offset=0.5) for _ in range(n)]


# ----------------------------------------------------------------------------- metrics
def test_kendall_tau_counts_concordant_pairs():
    # pairs of (1,2,3,4) vs (1,3,2,4): 5 concordant, 1 discordant -> (5-1)/6
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_kendall_tau_of_constant_prediction_is_zero_and_of_constant_targets_undefined():
    assert kendall_tau([1, 2, 3], [0.5, 0.5, 0.5]) == 0.0
    assert math.isnan(kendall_tau([2, 2, 2], [0.1, 0.5, 0.3]))


def test_r2_and_mse_match_definitions():
    true, pred = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])
    assert mse(true, pred) == pytest.approx(1 / 3)
    assert r2(true, pred) == pytest.approx(1 - 1 / 2)
    assert r2(true, true) == 1.0
    assert set(regression_metrics(true, pred)) == {"kendall_tau", "r2", "mse"}


def test_accuracy_and_model_selection_order():
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    assert is_better(0.5, None, maximize=True)
    assert is_better(0.5, 0.4, maximize=True) and not is_better(0.5, 0.4, maximize=False)
    assert not is_better(math.nan, 0.4, maximize=True)
    assert is_better(0.1, math.nan, maximize=False)


# ----------------------------------------------------------------------------- rows
def test_genpred_rows_filter_activation_and_keep_only_originals_in_eval_splits():
    nets = list(synthetic_cnn_zoo(12, activations=("relu", "tanh")))
    copy = random_symmetry(nets[8], torch.Generator().manual_seed(1))
    copy.meta = {**nets[8].meta, "id": "cnn-8-aug", "source_id": "cnn-8", "aug_seed": 1}
    nets.append(copy)
    nets[2].meta.pop("score")
    ds = InMemoryGraphDataset(nets, {"train": list(range(8)), "val": [8, 9, 12], "test": [10, 11]})
    rows = TASKS["genpred-relu"].rows(ds.frame())
    assert rows["train"].tolist() == [0, 4, 6]  # relu rows 0,2,4,6; row 2 has no score
    assert rows["val"].tolist() == [8]  # row 12 is an augmented copy
    assert TASKS["genpred-tanh"].rows(ds.frame())["test"].tolist() == [11]
    assert TASKS["genpred-mixed"].rows(ds.frame())["test"].tolist() == [10, 11]


def test_unknown_task_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown task 'genpred'.*genpred-relu"):
        get_task("genpred")


def test_score_regression_normalises_targets_with_train_statistics():
    obj = ScoreRegression(np.array([0.2, 0.4, 0.6]))
    scores = torch.tensor([0.2, 0.4, 0.6])
    z = (scores - obj.mean) / obj.std
    assert float(z.mean()) == pytest.approx(0.0, abs=1e-6) and float(z.std(unbiased=False)) == pytest.approx(1.0)
    metrics = obj.metrics(z, z)
    assert metrics["mse"] == pytest.approx(0.0, abs=1e-12) and metrics["kendall_tau"] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- rendering
def test_batched_rendering_equals_forward_pass_of_each_network():
    nets = sirens(5, dtype=torch.float64)
    images = render_batch(collate([to_graph(n) for n in nets]), 7)
    assert images.shape == (5, 1, 7, 7)
    coords = coordinate_grid(7, dtype=torch.float64)
    for net, image in zip(nets, images):
        expected = forward(net, coords)[:, 0].reshape(7, 7)
        torch.testing.assert_close(image[0], expected, rtol=0, atol=1e-12)


def test_coordinate_grid_is_row_major_over_rows_then_columns():
    grid = coordinate_grid(3)
    assert grid[1].tolist() == [-1.0, 0.0] and grid[3].tolist() == [0.0, -1.0]


def test_rendering_is_differentiable_in_the_graph_features():
    batch = collate([to_graph(n) for n in sirens(3)])
    x = batch.x.clone().requires_grad_()
    e = batch.edge_attr.clone().requires_grad_()
    render_batch(batch, 8, x=x, edge_attr=e).square().sum().backward()
    assert x.grad.abs().sum() > 0 and e.grad.abs().sum() > 0
    # the graph gradient of the rendering equals the gradient through the weight tensors
    net = sirens(1)[0]
    g = to_graph(net)
    x1, e1 = g.x.clone().requires_grad_(), g.edge_attr.clone().requires_grad_()
    render_batch(collate([g]), 8, x=x1, edge_attr=e1).sum().backward()
    params = WeightBatch.from_graphs(g)[0][1]
    weights, biases = [w[0] for w in params.weights], [b[0] for b in params.biases]
    ws = [w.clone().requires_grad_() for w in weights]
    bs = [b.clone().requires_grad_() for b in biases]
    forward(net.replace_params(ws, bs), coordinate_grid(8)).sum().backward()
    grads = WeightBatch.from_graphs(g, x1.grad, e1.grad)[0][1]
    for a, b in zip([w[0] for w in grads.weights + grads.biases], [w.grad for w in ws] + [b.grad for b in bs]):
        torch.testing.assert_close(a, b)


def test_dilation_is_a_3x3_maximum_filter():
    image = torch.zeros(1, 1, 5, 5)
    image[0, 0, 2, 2] = 1.0
    image[0, 0, 0, 4] = 0.5
    out = dilate(image)[0, 0]
    assert out[1:4, 1:4].eq(1.0).all() and out[0, 3:].eq(0.5).all() and out[1, 4] == 0.5
    assert out[4, 0] == 0.0
    noise = torch.randn(2, 1, 6, 6)
    padded = F.pad(noise, (1, 1, 1, 1), value=-math.inf)
    expected = padded.unfold(2, 3, 1).unfold(3, 3, 1).amax(dim=(-1, -2))
    torch.testing.assert_close(dilate(noise), expected)


def test_editing_targets_are_the_original_rendering_and_its_dilation():
    batch = collate([to_graph(n) for n in sirens(2)])
    target = DilationEditing(size=8).target(batch)
    original = render_batch(batch, 8)
    assert target.shape == (2, 2, 1, 8, 8)
    torch.testing.assert_close(target[:, 0], original)
    torch.testing.assert_close(target[:, 1], dilate(original))


def test_weight_editor_with_zero_step_renders_the_original():
    batch = collate([to_graph(n) for n in sirens(3)])
    model = ToyMetanet(to_graph(sirens(1)[0]), 1, hidden=8, equivariant=True)
    editor = WeightEditor(model, size=8, alpha=0.0, learn_alpha=False)
    torch.testing.assert_close(editor(batch), render_batch(batch, 8))


def test_edit_of_a_permuted_siren_renders_the_same_image():
    # a permutation-equivariant editor commutes with hidden-neuron permutations: same edited function
    nets = sirens(2, seed=3)
    g = torch.Generator().manual_seed(0)
    permuted = [apply_symmetry(n, sample_symmetry(n, g, scale=False)) for n in nets]
    torch.manual_seed(0)
    editor = WeightEditor(ToyMetanet(to_graph(nets[0]), 1, hidden=8, equivariant=True), 8, 0.05, True)
    a = editor(collate([to_graph(n) for n in nets]))
    b = editor(collate([to_graph(n) for n in permuted]))
    assert (a - render_batch(collate([to_graph(n) for n in nets]), 8)).abs().max() > 1e-3
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- task facts
def test_the_registry_maps_the_five_task_names_to_instances_of_one_class_per_kind():
    from scalegmn.tasks import GeneralizationPrediction, INRClassification, INREditing, Task

    assert list(TASKS) == ["genpred-relu", "genpred-tanh", "genpred-mixed", "inr-classification", "inr-editing"]
    assert all(isinstance(t, Task) and TASKS[name] is t and t.name == name for name, t in TASKS.items())
    assert [type(t) for t in TASKS.values()] == [GeneralizationPrediction] * 3 + [INRClassification, INREditing]
    assert [t.activations for t in TASKS.values() if isinstance(t, GeneralizationPrediction)] == [
        ("relu",), ("tanh",), None]
    assert get_task("inr-editing") is TASKS["inr-editing"]


def test_every_task_declares_metric_directions_and_title():
    expected = {"regression": {"kendall_tau": ("Kendall τ ↑", True), "r2": ("R² ↑", True),
                               "mse": ("MSE ↓", False)},
                "classification": {"accuracy": ("accuracy ↑", True)},
                "editing": {"mse": ("MSE ↓", False), "identity_mse": ("MSE of the unedited", None)}}
    for task in TASKS.values():
        assert task.title and task.title != task.name and task.zoo in ("cnn", "inr")
        assert {m.name: (m.display(), m.higher_is_better) for m in task.metrics} == expected[task.kind]
        assert task.metrics[0].name == task.selection_metric
        assert task.maximize is task.metric(task.selection_metric).higher_is_better
        assert task.metric("loss").higher_is_better is False and task.metric("psnr") is None
    assert len({t.title for t in TASKS.values()}) == len(TASKS)
    assert [t.requires_equivariant for t in TASKS.values()] == [False] * 4 + [True]
    assert not TASKS["inr-editing"].applies_to(supports_equivariant=False) and TASKS["inr-editing"].applies_to(True)
    assert all(TASKS[t].applies_to(False) for t in ("genpred-relu", "inr-classification"))


def test_chance_levels_are_kendall_tau_zero_and_one_over_the_number_of_classes():
    from scalegmn.data.synthetic import synthetic_inr_zoo

    frame = InMemoryGraphDataset(list(synthetic_inr_zoo(6)), {"train": [0, 1, 2], "val": [3], "test": [4, 5]}).frame()
    classes = int(frame["label"].max()) + 1
    assert all(TASKS[t].chance_levels() == {"kendall_tau": 0.0} for t in ("genpred-relu", "genpred-mixed"))
    assert TASKS["inr-classification"].chance_levels(frame) == {"accuracy": 1.0 / classes}
    assert TASKS["inr-classification"].chance_levels() == {} and TASKS["inr-editing"].chance_levels(frame) == {}


def test_each_task_selects_its_own_rows():
    from scalegmn.data.synthetic import synthetic_inr_zoo

    nets = list(synthetic_inr_zoo(4))
    nets[1].meta["label"] = -1
    frame = InMemoryGraphDataset(nets, {"train": [0, 1], "val": [2], "test": [3]}).frame()
    assert TASKS["inr-classification"].select(frame).tolist() == [True, False, True, True]
    assert TASKS["inr-editing"].select(frame).tolist() == [True] * 4  # sine INRs, labelled or not
    assert "label" in TASKS["inr-classification"].selection_rule


def test_task_options_are_typed_per_task_and_unknown_keys_refused():
    from scalegmn.config import ConfigError
    from scalegmn.tasks import EditingOptions, NoOptions, RegressionOptions

    shared = {"normalize_target": False, "image_size": 8}  # a layer shared by every task
    assert TASKS["genpred-relu"].options(shared) == RegressionOptions(normalize_target=False)
    assert TASKS["inr-editing"].options(shared) == EditingOptions(image_size=8)
    assert TASKS["inr-classification"].options(shared) == NoOptions()
    with pytest.raises(ConfigError, match=r"unknown task option 'image_sze' \(did you mean 'image_size'\?\)"):
        TASKS["inr-editing"].options({"image_sze": 8})
    with pytest.raises(ConfigError, match=r"\(inr-editing\): image_size: expected int \| None, got .big."):
        TASKS["inr-editing"].options({"image_size": "big"})
    with pytest.raises(ConfigError, match=r"num_examples must be >= 0"):
        TASKS["inr-editing"].options({"num_examples": -1})
    with pytest.raises(ValueError, match="needs the image size: set image_size"):
        TASKS["inr-editing"].check_options(EditingOptions())
    obj = TASKS["inr-editing"].objective(None, None, {"image_size": 8, "num_examples": 3})
    assert isinstance(obj, DilationEditing) and (obj.size, obj.num_examples, obj.learn_alpha) == (8, 3, True)
