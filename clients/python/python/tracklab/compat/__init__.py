"""wandb compatibility: what `import wandb` resolves to once the shim is
installed (`python -m tracklab wandb-shim install`)."""
