"""Experiments run on top of the runner: the ablation (tools/ablate.py) and the benchmarks
(tools/benchmark.py). Nothing here is registered or loaded by a training run."""
