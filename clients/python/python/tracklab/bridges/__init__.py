"""Bridges from TrackLab's data dir to other experiment trackers
(`tracklab export --to mlflow` runs `python -m tracklab.bridges.mlflow`)."""
