"""The run-side SDK: Run, Config, Summary."""
