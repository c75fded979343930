"""Real Hugging Face Trainer and Lightning training runs through the wandb shim.

Opt-in (CPU torch, transformers and lightning are a 5 GiB install):

    TRACKLAB_TEST_INTEGRATIONS=1 bash tests/run-all.sh     # or
    bash tests/integrations.sh

`tests/integrations.sh` builds a virtualenv with those packages, installs
TrackLab and its `wandb` shim there and runs this file. Each test trains a
tiny model from scratch (no download) with the integration's own callback,
then reads the run back with `tracklab.Api()` and checks the rows that real
wandb 0.31 records for the same calls (shared/reference/wandb-integrations.md
section 7), checkpoints logged as artifact versions included; media are issue 9's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Daemon

if os.environ.get("TRACKLAB_TEST_INTEGRATIONS") != "1":
    pytest.skip(
        "real integrations are opt-in: TRACKLAB_TEST_INTEGRATIONS=1 (bash tests/integrations.sh)",
        allow_module_level=True,
    )

import tracklab  # noqa: E402
import wandb  # noqa: E402  # the shim: must be TrackLab, never the real wandb


def tiny_bert() -> Any:
    """A one-layer BERT classifier, seeded: trains in seconds on a CPU."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(
        BertConfig(
            vocab_size=64,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=16,
            num_labels=2,
        )
    )


class Parity:
    """n random token sequences labelled with the parity of their sum."""

    def __init__(self, n: int) -> None:
        import torch

        g = torch.Generator().manual_seed(n)
        self.x = torch.randint(1, 64, (n, 8), generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.x[i], "labels": self.x[i].sum() % 2}


def test_wandb_is_the_shim() -> None:
    assert wandb.init is tracklab.init, f"`import wandb` found {wandb.__file__}"


def rows(run: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in run.scan_history()]


def test_hugging_face_trainer(
    daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import Trainer, TrainingArguments

    monkeypatch.setenv("WANDB_PROJECT", "hf-integration")
    model = tiny_bert()

    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        run_name="hf-tiny",
        num_train_epochs=2,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=16,
        logging_steps=5,
        eval_strategy="epoch",
        save_strategy="no",
        report_to=["wandb"],
        use_cpu=True,
        disable_tqdm=True,
        learning_rate=1e-3,
    )
    trainer = Trainer(model=model, args=args, train_dataset=Parity(256), eval_dataset=Parity(32))
    trainer.train()
    trainer.predict(Parity(32))
    run_id = tracklab.run.id
    tracklab.finish()

    run = tracklab.Api().run(f"hf-integration/{run_id}")
    assert run.state == "finished" and run.name == "hf-tiny"
    history = rows(run)
    train = [r for r in history if "train/loss" in r]
    evals = [r for r in history if "eval/loss" in r]
    tests = [r for r in history if any(k.startswith("test/") for k in r)]
    assert [r["train/global_step"] for r in train] == [5, 10, 15, 20, 25, 30]
    for r in train:
        assert {"train/grad_norm", "train/learning_rate", "train/epoch"} <= r.keys()
    assert [r["train/global_step"] for r in evals] == [16, 32]
    for r in evals:
        assert {"eval/runtime", "eval/samples_per_second", "train/epoch"} <= r.keys()
    # predict() logs no step metric: step_sync fills in the last global step
    assert len(tests) == 1 and tests[0]["train/global_step"] == 32
    # the train-end row holds only the epoch and the step
    assert {"train/epoch": 2.0, "train/global_step": 32} in history
    assert len(history) == 10, history
    summary = dict(run.summary)
    for key in ("train_runtime", "train_samples_per_second", "train_loss", "total_flos"):
        assert isinstance(summary[key], (int, float)), (key, summary.get(key))
    assert summary["eval/loss"] == evals[-1]["eval/loss"]
    config = run.config
    assert config["learning_rate"] == 1e-3 and config["num_train_epochs"] == 2
    assert config["hidden_size"] == 16 and config["model/num_parameters"] > 0
    # the model config's nested int keys arrive as wandb stores them
    assert config["id2label"] == {"0": "LABEL_0", "1": "LABEL_1"}


def test_hugging_face_checkpoints_become_artifact_versions(
    daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WANDB_LOG_MODEL=checkpoint: each checkpoint-N/ directory is logged
    through the shim (Artifact.add_dir + log_artifact with aliases), as real
    wandb records it (shared/reference/wandb-integrations.md, run B)."""
    from transformers import Trainer, TrainingArguments

    monkeypatch.setenv("WANDB_PROJECT", "hf-checkpoints")
    monkeypatch.setenv("WANDB_LOG_MODEL", "checkpoint")
    model = tiny_bert()

    out = tmp_path / "out"
    args = TrainingArguments(
        output_dir=str(out),
        run_name=str(out),
        num_train_epochs=2,
        per_device_train_batch_size=16,
        logging_steps=5,
        save_strategy="epoch",
        report_to=["wandb"],
        use_cpu=True,
        disable_tqdm=True,
    )
    Trainer(model=model, args=args, train_dataset=Parity(256)).train()
    run_id = tracklab.run.id
    tracklab.finish()

    versions = tracklab.Api().artifact_versions("model", f"hf-checkpoints/model-{run_id}")
    aliases = [set(v.aliases) - {"latest"} for v in versions]
    assert {"epoch_1.0", "checkpoint_global_step_16"} in aliases, aliases
    assert {"epoch_2.0", "checkpoint_global_step_32"} in aliases, aliases
    ckpt = next(v for v in versions if "checkpoint_global_step_32" in v.aliases)
    files = {e.path for e in ckpt.files()}
    assert {"config.json", "model.safetensors"} <= files, files
    # The stored bytes are the checkpoint's.
    saved = out / "checkpoint-32" / "model.safetensors"
    got = Path(ckpt.download(tmp_path / "dl")) / "model.safetensors"
    assert got.read_bytes() == saved.read_bytes()
    assert versions[-1].aliases[0] == "latest"


def test_lightning_wandb_logger(daemon: Daemon, tmp_path: Path) -> None:
    import lightning as L
    import torch
    from lightning.pytorch.loggers import WandbLogger

    class Regressor(L.LightningModule):
        def __init__(self, lr: float, hidden: int) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

        def training_step(self, batch: list[torch.Tensor], _: int) -> torch.Tensor:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            self.log("train/loss", loss)
            return loss

        def validation_step(self, batch: list[torch.Tensor], _: int) -> None:
            x, y = batch
            self.log("val/loss", torch.nn.functional.mse_loss(self(x), y))

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    x = torch.randn(80, 4)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    train = torch.utils.data.DataLoader(torch.utils.data.Subset(data, range(64)), batch_size=8)
    val = torch.utils.data.DataLoader(torch.utils.data.Subset(data, range(64, 80)), batch_size=8)

    logger = WandbLogger(
        project="lightning-integration", name="lit-tiny", save_dir=str(tmp_path), log_model=True
    )
    trainer = L.Trainer(
        max_epochs=3,
        logger=logger,
        log_every_n_steps=2,
        accelerator="cpu",
        enable_checkpointing=True,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
    )
    trainer.fit(Regressor(lr=0.05, hidden=8), train, val)
    # a direct experiment.log without the step metric: step_sync fills it
    logger.experiment.log({"custom/score": 0.5})
    run_id = logger.experiment.id
    tracklab.finish()

    run = tracklab.Api().run(f"lightning-integration/{run_id}")
    assert run.state == "finished" and run.name == "lit-tiny"
    history = rows(run)
    train_rows = [r for r in history if "train/loss" in r]
    val_rows = [r for r in history if "val/loss" in r]
    assert [r["trainer/global_step"] for r in train_rows] == list(range(1, 24, 2))
    assert all("epoch" in r for r in train_rows)
    assert [r["trainer/global_step"] for r in val_rows] == [7, 15, 23]
    custom = [r for r in history if "custom/score" in r]
    assert len(custom) == 1 and custom[0]["trainer/global_step"] == 23
    assert len(history) == 16, history
    assert run.config["lr"] == 0.05 and run.config["hidden"] == 8
    assert run.summary["val/loss"] == val_rows[-1]["val/loss"]
    # the losses went down: real numbers, not placeholders
    assert train_rows[-1]["train/loss"] < train_rows[0]["train/loss"]
    # log_model=True: the checkpoint is an artifact version holding model.ckpt
    ckpt = tracklab.Api().artifact(f"lightning-integration/model-{run_id}:latest")
    assert [e.path for e in ckpt.files()] == ["model.ckpt"]
    assert ckpt.type == "model" and "score" in ckpt.metadata
