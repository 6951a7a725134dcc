"""digits-cnn and digits-inr generators: the batched training model is the network's forward pass, the
per-member optimizers are Adam/RMSprop/SGD, results are deterministic and pieces equal the whole zoo."""

import pytest
import torch
from typer.testing import CliRunner

from scalegmn.cli import app
from scalegmn.core.random_networks import random_cnn
from scalegmn.core.weights import forward
from scalegmn.zoo import iter_zoo, load_networks, merge_zoos, read_info
from scalegmn.zoo.cnn_zoo import CnnZooConfig, MemberwiseOptimizer, StackedCnn, generate_cnn_zoo
from scalegmn.zoo.digits import load_digits_images
from scalegmn.zoo.generate import write_cnn_zoo
from scalegmn.core.siren import coordinate_grid
from scalegmn.zoo.inr_zoo import InrZooConfig, fitting_targets, generate_inr_zoo, init_siren

TINY = dict(size=6, epochs=1, batch_size=128, block_size=3, widths=(3, 4))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_stacked_training_model_is_the_network_forward_pass(activation):
    g = torch.Generator().manual_seed(0)
    nets = [random_cnn((1, 5, 5, 5), activation=activation, generator=g, dtype=torch.float32) for _ in range(4)]
    stacked = StackedCnn.from_networks(nets)
    x = torch.rand(7, 1, 8, 8) * 2 - 1
    logits = stacked.logits(x)
    for m, net in enumerate(nets):
        torch.testing.assert_close(logits[m], forward(net, x), rtol=1e-5, atol=1e-5)
        assert stacked.network(m).equals(net)


def test_memberwise_optimizer_equals_torch_adam_rmsprop_sgd():
    torch.manual_seed(0)
    kinds, lrs = ["adam", "rmsprop", "sgd"], [0.01, 0.02, 0.03]
    stacked = torch.randn(3, 4, 5)
    refs = [p.clone().requires_grad_(True) for p in stacked]
    torch_opts = [torch.optim.Adam([refs[0]], lr=0.01, eps=1e-7), torch.optim.RMSprop([refs[1]], lr=0.02, alpha=0.9, eps=1e-7),
                  torch.optim.SGD([refs[2]], lr=0.03)]
    ours = MemberwiseOptimizer([stacked], kinds, torch.tensor(lrs), torch.zeros(3), decay=[True])
    for _ in range(5):
        grads = torch.randn(3, 4, 5)
        ours.step([grads])
        for ref, opt, grad in zip(refs, torch_opts, grads):
            ref.grad = grad.clone()
            opt.step()
    for m in range(3):
        torch.testing.assert_close(stacked[m], refs[m].detach(), rtol=1e-5, atol=1e-6)


def test_member_with_non_finite_update_is_frozen():
    params = torch.ones(2, 3)
    opt = MemberwiseOptimizer([params], ["sgd", "sgd"], torch.tensor([0.1, 0.1]), torch.zeros(2), decay=[False])
    opt.step([torch.tensor([[float("nan"), 1.0, 1.0], [1.0, 1.0, 1.0]])])
    opt.step([torch.ones(2, 3)])
    assert torch.equal(params[0], torch.ones(3)) and torch.allclose(params[1], torch.full((3,), 0.8))
    assert opt.active.tolist() == [False, True]


def test_cnn_zoo_members_carry_hyperparameters_and_test_accuracy():
    nets = generate_cnn_zoo(CnnZooConfig(**TINY), progress=False)
    assert [n.meta["id"] for n in nets] == [f"digits-cnn-{i:06d}" for i in range(6)]
    for net in nets:
        hp = net.meta["hparams"]
        assert net.dtype == torch.float32 and net.layer_sizes == [1, hp["width"], hp["width"], hp["width"], 10]
        assert net.strides == [2, 2, 2, 1] and net.paddings == [1, 1, 1, 0] and net.pooling == "avg"
        assert net.activation == hp["activation"] and 0.0 <= net.meta["score"] <= 1.0
        assert net.meta["source"] == "digits-cnn" and hp["train_fraction"] in (0.1, 0.25, 0.5, 1.0)
        assert {"optimizer", "learning_rate", "init", "init_std", "l2reg", "dropout", "epochs"} <= set(hp)


def test_cnn_zoo_is_deterministic_and_block_aligned_pieces_equal_the_whole():
    config = CnnZooConfig(**TINY)
    whole = generate_cnn_zoo(config, progress=False)
    pieces = generate_cnn_zoo(config, 3, 3, progress=False) + generate_cnn_zoo(config, 0, 3, progress=False)
    assert all(a.equals(b) for a, b in zip(whole, pieces[3:] + pieces[:3]))
    with pytest.raises(ValueError, match="start = 1 must be a multiple of block_size = 3"):
        generate_cnn_zoo(config, 1, 2, progress=False)


@pytest.mark.slow
def test_worker_processes_give_identical_members():
    config = CnnZooConfig(size=4, epochs=1, batch_size=128, block_size=2, widths=(3,))
    one = generate_cnn_zoo(config, workers=1, progress=False)
    two = generate_cnn_zoo(config, workers=2, progress=False)
    assert all(a.equals(b) for a, b in zip(one, two))


def test_merged_pieces_equal_the_whole_zoo(tmp_path):
    config = CnnZooConfig(**TINY)
    write_cnn_zoo(config, tmp_path / "a", start=0, count=3, progress=False)
    write_cnn_zoo(config, tmp_path / "b", start=3, count=3, progress=False)
    assert merge_zoos([tmp_path / "a", tmp_path / "b"], tmp_path / "all") == 6
    whole = generate_cnn_zoo(config, progress=False)
    assert all(a.equals(b) for a, b in zip(iter_zoo(tmp_path / "all"), whole))
    with pytest.raises(ValueError, match="already in an earlier piece"):
        merge_zoos([tmp_path / "a", tmp_path / "a"], tmp_path / "dup")


def test_inr_zoo_renders_its_digit_and_records_psnr_and_label():
    config = InrZooConfig(steps=40)
    nets = generate_inr_zoo(config, start=10, count=4, progress=False)
    images, labels = load_digits_images()
    for net in nets:
        i = net.meta["digit_index"]
        rendered = forward(net, coordinate_grid(8)).view(8, 8)
        mse = (rendered - images[i] / 16).pow(2).mean()
        assert net.meta["psnr"] == pytest.approx(float(10 * torch.log10(1 / mse)), abs=1e-3)
        assert net.meta["label"] == int(labels[i]) and net.activation == "sine" and net.w0 == 30.0
        assert net.meta["psnr"] > 15.0
    halves = generate_inr_zoo(config, 10, 2, progress=False) + generate_inr_zoo(config, 12, 2, progress=False)
    for a, b in zip(nets, halves):
        for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
            torch.testing.assert_close(wa, wb, rtol=1e-5, atol=1e-6)


def test_siren_init_is_the_public_zoos_zero_biases_and_uniform_weights():
    weights, biases = init_siren([2, 32, 32, 1], 30.0, torch.Generator().manual_seed(0))
    assert all(torch.equal(b, torch.zeros_like(b)) for b in biases)
    assert [tuple(w.shape) for w in weights] == [(32, 2), (32, 32), (1, 32)]
    assert 0.4 < float(weights[0].abs().max()) * 2 <= 1.0  # U(±1/n_in), n_in = 2
    bound = (6 / 32) ** 0.5 / 30
    for w in weights[1:]:
        assert 0.8 * bound < float(w.abs().max()) <= bound


def test_inr_zoo_adds_the_dws_output_offset_and_keeps_first_layer_phases_unwrapped():
    config = InrZooConfig(steps=60, resolution=28, coords_per_step=196)
    nets = generate_inr_zoo(config, start=0, count=3, progress=False)
    for net in nets:
        assert net.output_offset == 0.5
        plain = forward(net, coordinate_grid(28))
        net.output_offset = 0.0
        torch.testing.assert_close(forward(net, coordinate_grid(28)), plain - 0.5)
        assert float((net.w0 * net.biases[0]).abs().max()) < torch.pi / 2


def test_inr_zoo_fits_jittered_upsampled_copies_of_each_digit_and_pieces_equal_the_whole():
    config = InrZooConfig(steps=30, resolution=28, fits_per_digit=3, max_rotation=10.0, max_shift=1.0,
                          coords_per_step=196)
    nets = generate_inr_zoo(config, start=5, count=2, progress=False)
    images, labels = load_digits_images()
    assert [(n.meta["digit_index"], n.meta["fit"]) for n in nets] == [(5, 0), (5, 1), (5, 2), (6, 0), (6, 1), (6, 2)]
    assert len({n.meta["id"] for n in nets}) == 6
    assert {n.meta["split_group"] for n in nets} == {"digit-000005", "digit-000006"}
    assert len({n.meta["rotation"] for n in nets}) == 6
    for net in nets:
        i = net.meta["digit_index"]
        assert abs(net.meta["rotation"]) <= 10.0 and max(map(abs, net.meta["shift"])) <= 1.0
        target = fitting_targets(images[i:i + 1] / 16, 28, torch.tensor([net.meta["rotation"]]),
                                 torch.tensor([net.meta["shift"]]))[0]
        mse = (forward(net, coordinate_grid(28)).view(-1) - target).pow(2).mean()
        assert net.meta["psnr"] == pytest.approx(float(10 * torch.log10(1 / mse)), abs=1e-3)
        assert net.meta["label"] == int(labels[i])
    pieces = generate_inr_zoo(config, 5, 1, progress=False) + generate_inr_zoo(config, 6, 1, progress=False)
    for a, b in zip(nets, pieces):
        for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
            torch.testing.assert_close(wa, wb, rtol=1e-5, atol=1e-6)


def test_fitting_targets_upsample_rotate_and_shift_the_digit():
    image = torch.rand(1, 8, 8)
    still = torch.zeros(1), torch.zeros(1, 2)
    torch.testing.assert_close(fitting_targets(image, 8, *still).view(8, 8), image[0])
    upsampled = torch.nn.functional.interpolate(image[:, None], size=(28, 28), mode="bilinear", align_corners=True)
    torch.testing.assert_close(fitting_targets(image, 28, *still).view(28, 28), upsampled[0, 0])
    down = fitting_targets(image, 8, torch.zeros(1), torch.tensor([[1.0, 0.0]])).view(8, 8)
    torch.testing.assert_close(down[1:], image[0, :-1])  # one row down, zeros enter at the top
    assert float(down[0].abs().max()) < 1e-6
    quarter = fitting_targets(image, 8, torch.tensor([90.0]), still[1]).view(8, 8)  # counter-clockwise
    torch.testing.assert_close(quarter, torch.rot90(image[0], k=1), atol=1e-5, rtol=0)


def test_inr_zoo_config_refuses_bad_fitting_settings():
    with pytest.raises(ValueError, match="coords_per_step must be in 1..64"):
        InrZooConfig(coords_per_step=65)
    with pytest.raises(ValueError, match="fits_per_digit >= 1"):
        InrZooConfig(fits_per_digit=0)


def test_cli_generates_exports_and_summarises(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["zoo", "generate", "cnn", "--out", str(tmp_path / "cnn"), "--size", "4", "--epochs", "1",
                                 "--batch-size", "128", "--block-size", "2", "--widths", "3", "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "members/s" in result.output and "min/q25/median/q75/max" in " ".join(result.output.split())
    info = read_info(tmp_path / "cnn")
    assert info["size"] == 4 and info["kind"] == "cnn" and set(info["test_accuracy"]) >= {"min", "q25", "median", "max"}
    result = runner.invoke(app, ["zoo", "export", str(tmp_path / "cnn"), str(tmp_path / "exported")])
    assert result.exit_code == 0, result.output
    x = torch.rand(3, 1, 8, 8)
    for a, b in zip(iter_zoo(tmp_path / "cnn"), load_networks(tmp_path / "exported")):
        assert torch.equal(forward(a, x), forward(b, x)) and a.meta["score"] == pytest.approx(b.meta["score"])
    result = runner.invoke(app, ["zoo", "generate", "inr", "--out", str(tmp_path / "inr"), "--count", "3",
                                 "--steps", "5", "--workers", "1", "--no-progress"])
    assert result.exit_code == 0 and "PSNR mean" in " ".join(result.output.split())
    assert read_info(tmp_path / "inr")["psnr"]["count"] == 3
    bad = runner.invoke(app, ["zoo", "generate", "cnn", "--out", str(tmp_path / "x"), "--activations", "sine"])
    assert bad.exit_code == 1 and "activations must be" in " ".join(bad.output.split())


def test_inr_zoo_size_fits_the_first_digits():
    nets = generate_inr_zoo(InrZooConfig(size=3, steps=2), progress=False)
    assert [n.meta["digit_index"] for n in nets] == [0, 1, 2]
    with pytest.raises(ValueError, match="not inside the first 2000 of the 1797 digits"):
        generate_inr_zoo(InrZooConfig(size=2000), progress=False)


def test_config_accepts_params_yaml_values_and_rejects_bad_ranges():
    import yaml

    config = CnnZooConfig(**yaml.safe_load("l2reg: [1e-8, 1e-2]\nwidths: [4, 8]\ntrain_fractions: [0.5, 1]"))
    assert config.l2reg == (1e-8, 1e-2) and config.widths == (4, 8) and config.train_fractions == (0.5, 1.0)
    with pytest.raises(ValueError, match="learning_rate must be 0 < low <= high"):
        CnnZooConfig(learning_rate=[0.1, 0.01])
    with pytest.raises(ValueError, match="dropout are \\[low, high\\] ranges"):
        CnnZooConfig(dropout=[0.5])
