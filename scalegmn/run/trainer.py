"""Training loop for every (task, metanetwork) pair: AdamW, warm-up, gradient clipping, model selection on
validation, test at the best validation epoch, AMP / ``torch.compile`` options, checkpoints with exact
resume, and DistributedDataParallel under ``torchrun``.

Determinism: the training order of epoch ``e`` is a permutation seeded by ``(seed, e)``, so a run resumed
from its checkpoint (model, optimizer, scheduler, scaler, RNG states, best state, history) ends with exactly
the result of an uninterrupted run and the same per-epoch history in ``dvclive/`` (:mod:`scalegmn.run.history`,
rewritten from the checkpoint's rows whenever a run starts). Under DDP every global batch of ``batch_size`` rows
is split across the ranks (rank ``r`` takes rows ``r, r+W, ...``) and the loss is normalised by the global batch
size, so the averaged gradient equals the single-process one.
"""

from __future__ import annotations

import copy
import gc
import json
import math
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch_geometric.data import Data
from tqdm.auto import tqdm

from scalegmn.io import atomic_file, exclusive_lock, write_json
from scalegmn.runtime import retain_freed_memory
from scalegmn.data import GraphDatasetBase, open_dataset
from scalegmn.data.loader import GraphLoader
from scalegmn.data.transforms import Compose, PhaseCanonicalize
from scalegmn.run.checkpoint import CHECKPOINT, load_checkpoint, rng_state, seed_everything, set_rng_state
from scalegmn.run.config import SCHEDULES, TrainConfig
from scalegmn.run.history import HistoryLog
from scalegmn.run.distributed import (Distributed, choose_device, describe_device, distributed_from_env, gather,
                                      init_process_group)
from scalegmn.tasks import TASKS, NotApplicableError, Objective, Task, get_task
from scalegmn.tasks.metrics import is_better

ModelFactory = Callable[..., nn.Module]
LOCK_FILE = ".scalegmn-run.lock"  # held by the process training into a run directory (removed when it ends)


class NonFiniteError(ValueError):
    """Training or evaluation produced a non-finite loss, gradient or metric (the run is recorded failed;
    ``result`` is that record once :func:`train` has written it)."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


# ----------------------------------------------------------------------------- models
def build_metanetwork(model: str | ModelFactory, example: Data, out_dim: int, equivariant: bool,
                      options: dict[str, Any]) -> nn.Module:
    """The metanetwork: a registered name or import path (``scalegmn.registry.build_model``) or a factory
    called as ``factory(example=..., out_dim=..., **options)``. Equivariant tasks add ``equivariant=True``
    and raise :class:`NotApplicableError` for a model whose class does not declare that it can be equivariant
    (``supports_equivariant`` / ``equivariant`` class attribute, :func:`scalegmn.registry.supports_equivariant`;
    a factory function is asked of the module it builds)."""
    from scalegmn.registry import build_model, equivariant_models, model_class, supports_equivariant

    options = dict(options)
    if equivariant:
        options["equivariant"] = True

    def refuse() -> NotApplicableError:
        return NotApplicableError(f"model {model_name(model)!r} is invariant only; weight editing needs an "
                                  f"equivariant model ({', '.join(equivariant_models())})")

    is_class = isinstance(model_class(model), type) if callable(model) else True
    if equivariant and is_class and not supports_equivariant(model):
        raise refuse()
    if callable(model):
        built = model(example=example, out_dim=out_dim, **options)
        if equivariant and getattr(built, "equivariant", None) is not True:
            raise refuse()
        return built
    return build_model(model, example, out_dim, **options)


def largest_network_position(dataset: GraphDatasetBase, frame: pd.DataFrame, positions: Tensor) -> int:
    """The first of ``positions`` whose architecture has the most parameters: the example a model is built from
    (a flat MLP sizes its input to it). On a one-architecture zoo it is ``positions[0]``."""
    keys = frame["arch_key"].to_numpy()[positions.numpy()]
    firsts = sorted(np.unique(keys, return_index=True)[1].tolist())
    return max((int(positions[i]) for i in firsts), key=lambda p: dataset.network(p).num_parameters)


def model_name(model: str | ModelFactory) -> str:
    if isinstance(model, str):
        return model
    return f"{model.__module__}:{getattr(model, '__qualname__', type(model).__name__)}"


def warmup_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int | None = None,
                    decay: str = "constant") -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up from ``lr / warmup_steps`` to ``lr`` over ``warmup_steps`` steps, then ``decay``:
    ``"constant"`` holds ``lr``; ``"cosine"`` anneals it to 0 at step ``total_steps`` (half a cosine)."""
    steps = max(1, warmup_steps)
    if decay not in SCHEDULES:
        raise ValueError(f"unknown schedule {decay!r}; expected one of {', '.join(SCHEDULES)}")
    if decay == "cosine" and total_steps is None:
        raise ValueError("a cosine schedule needs total_steps")

    def factor(step: int) -> float:
        if step + 1 < steps or decay == "constant":
            return min(1.0, (step + 1) / steps)
        span = max(1, total_steps - steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step + 1 - steps) / span)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# ----------------------------------------------------------------------------- one run
@dataclass
class Evaluation:
    """Predictions and targets of one split (rows in ascending order) and its metrics."""

    rows: Tensor
    prediction: Tensor
    target: Tensor
    metrics: dict[str, float]


class Trainer:
    """One training run; see :func:`train`."""

    def __init__(self, task: Task, model: str | ModelFactory, dataset: GraphDatasetBase, seed: int, out_dir: Path,
                 config: TrainConfig, method: str, ctx: Distributed, device: torch.device,
                 fingerprint: dict[str, Any]) -> None:
        self.task = task
        self.seed = seed
        self.out_dir = Path(out_dir)
        self.config = config
        self.method = method
        self.ctx = ctx
        self.device = device
        self.dataset = dataset
        frame = self.dataset.frame()
        self.splits = task.rows(frame)
        for split, rows in self.splits.items():
            if len(rows) == 0:
                raise ValueError(f"task {task.name}: the {split} split of the dataset has no usable rows "
                                 f"({task.selection_rule})")
        self.options = task.options(config.task_options)
        task.check_options(self.options)
        self.objective: Objective = task.objective(frame, self.splits["train"], self.options)
        self.loaders = self._loaders(seed)
        seed_everything(seed)
        example = self.dataset[largest_network_position(self.dataset, frame, self.splits["train"])]
        metanet = build_metanetwork(model, example, self.objective.out_dim, task.requires_equivariant, config.model)
        fit_inputs = getattr(metanet, "fit_inputs", None)
        if callable(fit_inputs):  # input statistics of the training networks as they are (every rank: all rows)
            fit_inputs(self.loaders["train"].networks(config.eval_batch_size))
        holds = getattr(metanet, "holds_features", None)
        if callable(holds):  # batches of rows whose features the model holds come without graphs
            for loader in self.loaders.values():
                loader.features_held = holds
        self.raw = self.objective.wrap(metanet).to(self.device)
        self.num_params = sum(p.numel() for p in self.raw.parameters())
        self.eval_model: nn.Module = torch.compile(self.raw, dynamic=True) if config.compile else self.raw
        self.train_model: nn.Module = self.eval_model
        if self.ctx.enabled:
            self.train_model = nn.parallel.DistributedDataParallel(
                self.eval_model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=config.find_unused_parameters)
        if config.batch_size % self.ctx.world_size:
            raise ValueError(f"batch_size {config.batch_size} is not divisible by the {self.ctx.world_size} processes")
        # the fused kernel updates every parameter in one call (the per-tensor loop cost 20 % of an NFN step on CPU)
        self.optimizer = torch.optim.AdamW(self.raw.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                           fused=self.device.type in ("cpu", "cuda"))
        steps = len(self.loaders["train"])
        warmup = config.warmup_steps if config.warmup_steps is not None else round(config.warmup_epochs * steps)
        self.scheduler = warmup_schedule(self.optimizer, warmup, steps * config.epochs, config.schedule)
        self.amp_dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}[config.amp_dtype]
        self.scaler = torch.amp.GradScaler(self.device.type,
                                           enabled=config.amp and self.amp_dtype == torch.float16)
        self.fingerprint = fingerprint  # run_fingerprint of this run

    def _loaders(self, seed: int) -> dict[str, GraphLoader]:
        """The training loader (seeded order, DDP-sharded, symmetry copies) and one per evaluation split
        (this rank's rows); all share the dataset, canonicalized when asked."""
        cfg, ctx = self.config, self.ctx
        data = self.dataset
        if cfg.canonicalize != "none":
            canonical = PhaseCanonicalize(cfg.canonicalize)
            data = copy.copy(data)
            data.transform = canonical if data.transform is None else Compose([data.transform, canonical])
        augment = cfg.augment.transform(seed, cfg.canonicalize)
        loaders = {"train": GraphLoader(data, self.splits["train"], cfg.batch_size, shuffle=True, seed=seed,
                                        copies=cfg.augment.copies, augment=augment, world_size=ctx.world_size,
                                        rank=ctx.rank, cache=cfg.cache_graphs,
                                        originals=cfg.augment.keep_originals)}
        for split in ("val", "test"):
            loaders[split] = GraphLoader(data, self.splits[split][ctx.rank :: ctx.world_size], cfg.eval_batch_size,
                                         cache=cfg.cache_graphs)
        return loaders

    # -- one step / one pass
    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.config.amp)

    def train_epoch(self, epoch: int, bar: tqdm | None) -> tuple[float, int, float]:
        """One pass over the training rows; returns (mean loss, graphs, seconds) over all ranks."""
        self.train_model.train()
        loss_sum, count, seconds = 0.0, 0, 0.0
        loader = self.loaders["train"]
        loader.set_epoch(epoch)
        start = time.perf_counter()
        for batch in loader:
            local = batch.dataset_row
            batch = batch.to(self.device, non_blocking=True)
            target = self.objective.target(batch)
            with self._autocast():
                output = self.train_model(batch)
            losses = self.objective.loss(self.objective.prediction(output), target)
            loss = losses.sum() * (1 / len(local))  # the global batch's mean: every rank holds len(local) rows
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(self.raw.parameters(), self.config.grad_clip)
            self._check_step(epoch, local, losses, grad_norm)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            loss_sum += float(losses.detach().sum())
            count += len(local)
            seconds += time.perf_counter() - start
            if bar is not None:
                bar.update(len(local) * self.ctx.world_size)
            start = time.perf_counter()
        totals = gather((loss_sum, count, seconds), self.ctx)
        loss_sum, count = sum(t[0] for t in totals), sum(t[1] for t in totals)
        return loss_sum / max(count, 1), count, max(t[2] for t in totals)

    def _network_ids(self, dataset_rows: Tensor) -> list[str]:
        return self.dataset.network_ids(dataset_rows)

    def _check_step(self, epoch: int, rows: Tensor, losses: Tensor, grad_norm: Tensor) -> None:
        """``NonFiniteError`` naming the batch's networks at a non-finite loss or gradient (with a float16
        ``GradScaler`` an infinite gradient is the scaler's signal to skip the step, not an error). Under DDP
        the ranks agree (one small all-reduce per step) and every rank raises naming the same networks."""
        bad_loss = ~torch.isfinite(losses.detach()).cpu()
        bad_grad = not bool(torch.isfinite(grad_norm)) and not self.scaler.is_enabled()
        level = 2 if bad_loss.any() else int(bad_grad)  # 2: loss, 1: gradient only, 0: fine
        if self.ctx.enabled:
            flag = torch.tensor([level], device=self.device if self.device.type == "cuda" else "cpu")
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            if int(flag) == 0:
                return
        elif level == 0:
            return
        per_row = bad_loss.numel() > 0 and bad_loss.numel() % len(rows) == 0
        culprits = bad_loss.reshape(len(rows), -1).any(1) if per_row and level == 2 else slice(None)
        reports = gather((level, self._network_ids(rows[culprits]) if level else []), self.ctx)
        worst = max(r[0] for r in reports)
        ids = [i for r in reports if r[0] == worst for i in r[1]]
        what = "loss" if worst == 2 else "gradient"
        shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        raise NonFiniteError(f"epoch {epoch + 1}: non-finite {what} on the training batch of networks {shown}; "
                             "check these networks' weights (e.g. `scalegmn shard` refuses absurd weights) "
                             "or lower lr / grad_clip")

    @torch.no_grad()
    def evaluate(self, split: str) -> Evaluation:
        """Predictions for ``split`` (rows sharded across ranks, gathered on every rank) and metrics."""
        self.eval_model.eval()
        mine = self.splits[split][self.ctx.rank :: self.ctx.world_size]
        preds, targets = [], []
        for batch in self.loaders[split]:
            batch = batch.to(self.device, non_blocking=True)
            targets.append(self.objective.target(batch).cpu())
            with self._autocast():
                preds.append(self.objective.prediction(self.eval_model(batch)).cpu())
        parts = gather((mine, preds, targets), self.ctx)
        order = torch.cat([p[0] for p in parts])
        prediction = torch.cat([t for p in parts for t in p[1]])
        target = torch.cat([t for p in parts for t in p[2]])
        perm = torch.argsort(order)
        prediction, target = prediction[perm], target[perm]
        rows = order[perm]
        finite = torch.isfinite(prediction.float().reshape(len(prediction), -1)).all(1)
        if not finite.all():
            bad = self._network_ids(torch.from_numpy(self.dataset.rows(rows[~finite])))
            raise NonFiniteError(f"non-finite {split} predictions for {len(bad)} networks "
                                 f"({', '.join(bad[:8])}{', ...' if len(bad) > 8 else ''})")
        metrics = {"loss": float(self.objective.loss(prediction, target).mean()),
                   **self.objective.metrics(prediction, target)}
        return Evaluation(rows, prediction, target, metrics)

    # -- checkpoints
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        if self.ctx.is_main:
            with atomic_file(self.out_dir / CHECKPOINT) as tmp:
                torch.save(state, tmp)

    def patience_spent(self, state: dict[str, Any]) -> bool:
        """Whether early stopping ends the run after ``state["epoch"]`` epochs (``TrainConfig.patience``; a
        function of the state alone, so every DDP rank and a resumed run decide alike)."""
        cfg = self.config
        return (cfg.patience is not None and state["epoch"] >= cfg.min_epochs
                and state["epoch"] - state["best_epoch"] >= cfg.patience)

    def run(self, resume: bool, stop_after_epoch: int | None) -> dict[str, Any] | None:
        cfg = self.config
        objective = self.objective
        selection = objective.selection_metric
        ckpt_path = self.out_dir / CHECKPOINT
        state: dict[str, Any] = {"epoch": 0, "history": [], "best_epoch": 0, "best_val": None, "best_state": None,
                                 "train_seconds": 0.0, "train_graphs": 0, "wall_seconds": 0.0}
        if resume and ckpt_path.is_file():
            saved = load_checkpoint(ckpt_path, self.fingerprint)
            self.raw.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
            self.scheduler.load_state_dict(saved["scheduler"])
            self.scaler.load_state_dict(saved["scaler"])
            set_rng_state(saved["rng"])
            state = {k: saved[k] for k in state}
        log = HistoryLog(self.out_dir, state["history"]) if self.ctx.is_main else None
        session_start = time.perf_counter()
        wall_before = state["wall_seconds"]
        total = len(self.splits["train"]) * cfg.epochs
        show = cfg.progress and self.ctx.is_main
        bar = tqdm(total=total, initial=len(self.splits["train"]) * state["epoch"], unit="graph", disable=not show,
                   desc=f"{self.task.name}/{self.method}/seed{self.seed}", leave=False)
        for epoch in range(state["epoch"], cfg.epochs):
            if self.patience_spent(state):  # checked first: a run resumed after its last epoch stops here too
                break
            train_loss, graphs, seconds = self.train_epoch(epoch, bar)
            val = self.evaluate("val")
            state["train_seconds"] += seconds
            state["train_graphs"] += graphs
            if state["best_val"] is None or is_better(val.metrics[selection], state["best_val"][selection],
                                                      objective.maximize):
                state["best_epoch"] = epoch + 1
                state["best_val"] = val.metrics
                state["best_state"] = {k: v.detach().cpu().clone() for k, v in self.raw.state_dict().items()}
            row = {"epoch": epoch + 1, "train_loss": train_loss, "lr": self.scheduler.get_last_lr()[0],
                   **{f"val_{k}": v for k, v in val.metrics.items()}}
            state["history"].append(row)
            state["epoch"] = epoch + 1
            state["wall_seconds"] = wall_before + time.perf_counter() - session_start
            bar.set_postfix(loss=f"{train_loss:.4g}", **{selection: f"{val.metrics[selection]:.4g}"})
            self.save_checkpoint({**state, "fingerprint": self.fingerprint, "model": self.raw.state_dict(),
                                  "optimizer": self.optimizer.state_dict(),
                                  "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                                  "rng": rng_state()})
            if log is not None:  # after the checkpoint: a kill in between is repaired when the run resumes
                log.log_epoch(row)
            if (stop_after_epoch is not None and epoch + 1 >= stop_after_epoch and epoch + 1 < cfg.epochs
                    and not self.patience_spent(state)):
                bar.close()
                return None
        bar.close()
        self.raw.load_state_dict(state["best_state"])
        test = self.evaluate("test")
        undefined = {f"{split} {k}": v for split, m in (("val", state["best_val"]), ("test", test.metrics))
                     for k, v in m.items() if not math.isfinite(v)}
        if undefined:
            raise NonFiniteError(f"metrics {undefined} are undefined (constant targets in a split?); "
                                 "no result is reported")
        wall = wall_before + time.perf_counter() - session_start
        result = {
            "task": self.task.name,
            "method": self.method,
            "seed": self.seed,
            "status": "ok",
            "test": test.metrics,
            "val": state["best_val"],
            "best_epoch": state["best_epoch"],
            "epochs": cfg.epochs,
            "stopped_epoch": state["epoch"],
            "wall_seconds": wall,
            "num_params": self.num_params,
            "train_graphs_per_s": state["train_graphs"] / max(state["train_seconds"], 1e-9),
            "device": describe_device(self.device),
            "world_size": self.ctx.world_size,
            "split_sizes": {k: len(v) for k, v in self.splits.items()},
            "config": asdict(cfg),
            "fingerprint": self.fingerprint,
        }
        if log is not None:
            log.finish(test.metrics, state["best_epoch"])
            ids = self._network_ids(torch.from_numpy(self.dataset.rows(test.rows)))
            objective.save_outputs(self.out_dir, ids, test.prediction, test.target)
            write_json(self.out_dir / "result.json", result)
            print(summary_line(result, selection))
        return result


def summary_line(result: dict[str, Any], selection: str) -> str:
    """One line: run, epochs, best epoch, val/test selection metric, seconds, graphs/s."""
    stopped = result.get("stopped_epoch", result["epochs"])
    trained = f"{result['epochs']} epochs" if stopped == result["epochs"] else \
        f"{stopped} of {result['epochs']} epochs (early stop)"
    return (f"train {result['task']}/{result['method']}/seed{result['seed']}: {trained} "
            f"(best {result['best_epoch']}), val {selection} {result['val'][selection]:.4f}, "
            f"test {selection} {result['test'][selection]:.4f}; {result['wall_seconds']:.1f} s, "
            f"{result['train_graphs_per_s']:.0f} graphs/s on {result['device']}, {result['num_params']} params")


def result_without_metrics(task: str, method: str, seed: int, status: str, reason: str,
                           config: TrainConfig | None = None, fingerprint: dict[str, Any] | None = None
                           ) -> dict[str, Any]:
    """The result record of a run without results: ``not_applicable`` (the model cannot do the task, e.g.
    editing with an invariant model) or ``failed`` (``reason``: the error)."""
    return {"task": task, "method": method, "seed": seed, "status": status, "reason": reason,
            "test": {}, "val": {}, "best_epoch": None, "epochs": 0, "stopped_epoch": 0, "wall_seconds": 0.0,
            "num_params": None, "train_graphs_per_s": None, "device": None, "config": None if config is None else asdict(config),
            "fingerprint": fingerprint}


def _open(dataset: str | os.PathLike | GraphDatasetBase, verify: bool | None = None) -> GraphDatasetBase:
    return open_dataset(dataset, verify) if isinstance(dataset, (str, os.PathLike)) else dataset


def run_fingerprint(task: str, method: str, seed: int, dataset: str | os.PathLike | GraphDatasetBase,
                    config: TrainConfig, metanetwork: str | None = None) -> dict[str, Any]:
    """What a run's result depends on: task, method (and the ``metanetwork`` it trains when that is not the
    method's own name), seed, the dataset's content fingerprint, the number of
    processes (the last batch of an epoch is cut to a multiple of it), every option of
    :meth:`TrainConfig.fingerprint` and every option of the task (its options dataclass, defaults filled in).
    A checkpoint resumes, and a finished result is reused, only when it records an equal fingerprint."""
    content = _open(dataset, verify=False).content_fingerprint()
    model = {} if metanetwork in (None, method) else {"metanetwork": metanetwork}
    return {"task": task, "method": method, **model, "seed": seed, "dataset": content,
            "world_size": distributed_from_env().world_size, **config.fingerprint(),
            **config.for_task(get_task(task)).task_options}


def train(task: str, model: str | ModelFactory, dataset: str | os.PathLike | GraphDatasetBase, *, seed: int, out_dir: str | Path,
          config: TrainConfig | None = None, method: str | None = None, resume: bool = True,
          stop_after_epoch: int | None = None, verify: bool | None = None) -> dict[str, Any] | None:
    """Train ``model`` on ``task`` and write ``out_dir/{result.json, dvclive/, checkpoint.pt, ...}``
    (``dvclive/``: the per-epoch history, :mod:`scalegmn.run.history`).

    Args:
        task: a task name (:data:`scalegmn.tasks.TASKS`).
        model: a built-in metanetwork name, an entry point of ``scalegmn.metanetworks``, an import path
            ``pkg.module:Class`` (:func:`scalegmn.registry.resolve`), or a factory.
        dataset: a graph dataset directory (``scalegmn.data.open_dataset``) or a dataset object.
        resume: continue from ``out_dir/checkpoint.pt`` when it exists (same task/method/seed/config).
        stop_after_epoch: end this call after that many epochs, as if interrupted (returns ``None``).
        verify: check the dataset's shard checksums (``None``: once per file version; see ``open_dataset``).
    Returns:
        The result dict (also ``result.json``); a ``not_applicable`` record when the model cannot do the
        task. Under ``torchrun`` every rank returns it and rank 0 writes the files.
    Raises:
        NonFiniteError: a non-finite loss, gradient or metric (``result.json`` records ``status: failed``).
        ValueError: bad input, a checkpoint of another run, or ``out_dir`` in use by another process.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder (the run directory)")
    main = distributed_from_env().is_main
    with exclusive_lock(out / LOCK_FILE, f"run directory {out}") if main else nullcontext():
        if main and not resume:  # a run started over never leaves the previous run's result beside its files
            (out / "result.json").unlink(missing_ok=True)
        return _train(task, model, dataset, seed, out, config, method, resume, stop_after_epoch, verify)


def _train(task: str, model: str | ModelFactory, dataset: str | os.PathLike | GraphDatasetBase, seed: int,
           out_dir: Path, config: TrainConfig | None, method: str | None, resume: bool,
           stop_after_epoch: int | None, verify: bool | None) -> dict[str, Any] | None:
    cfg = config or TrainConfig()
    retain_freed_memory()
    name = method or model_name(model)
    ctx = distributed_from_env()
    threads = torch.get_num_threads()
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    device = choose_device(cfg.device, ctx)
    owns_group = init_process_group(ctx, device)
    trainer: Trainer | None = None
    try:
        spec = get_task(task)
        cfg = cfg.for_task(spec)
        data = _open(dataset, verify)
        fingerprint = run_fingerprint(task, name, seed, data, cfg, model_name(model))
        try:
            trainer = Trainer(spec, model, data, seed, out_dir, cfg, name, ctx, device, fingerprint)
        except NotApplicableError as err:
            result = result_without_metrics(task, name, seed, "not_applicable", str(err), cfg, fingerprint)
            if ctx.is_main:
                write_json(Path(out_dir) / "result.json", result)
                print(f"train {task}/{name}/seed{seed}: not applicable ({err})")
            return result
        try:
            result = trainer.run(resume, stop_after_epoch)
        except NonFiniteError as err:
            failed = result_without_metrics(task, name, seed, "failed", str(err), cfg, fingerprint)
            if ctx.is_main:
                write_json(Path(out_dir) / "result.json", failed)
            raise NonFiniteError(f"train {task}/{name}/seed{seed} failed: {err}", failed) from None
        if ctx.enabled:
            dist.barrier()
        return result
    finally:
        # free the DDP reducer while its process group is alive: a gloo group destroyed under a live
        # reducer joins a worker thread that never returns (observed as a rank hanging at exit)
        trainer = None
        gc.collect()
        torch.set_num_threads(threads)
        if owns_group:
            dist.destroy_process_group()


def read_result(out_dir: str | Path) -> dict[str, Any]:
    """The ``result.json`` of a run directory; ``ValueError`` naming the file if missing or invalid."""
    path = Path(out_dir) / "result.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: cannot read the run result ({err})") from None

