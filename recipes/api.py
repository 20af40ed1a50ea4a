"""Entry points shared by the CLI and Python users: resolve a config, train, evaluate, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kerazoo.recipes import config as config_lib
from kerazoo.registry import registry


def get_task(name: str):
    """The registered recipe class ``name`` (e.g. ``image_classification``)."""
    return registry("recipes").get(name).obj


def resolve_config(task_name: str, config_file=None, overrides=()) -> config_lib.ExperimentConfig:
    """Defaults of the task, then the YAML file, then ``key=value`` overrides, validated."""
    config = get_task(task_name).default_config()
    if config_file:
        config = config_lib.load_yaml(config, config_file)
    config = config_lib.apply_overrides(config, list(overrides))
    config_lib.validate(config)
    return config


def train(task_name: str, run_dir, *, config_file=None, overrides=(), strategy=None,
          export: bool = True, verbose: bool = True) -> dict[str, Any]:
    """Train a recipe into ``run_dir``; returns the test report (``evaluation.json``).

    Example:

    >>> from kerazoo import recipes
    >>> report = recipes.train("image_classification", tmp_run_dir,
    ...                        overrides=["train.epochs=1"], verbose=False)  # doctest: +SKIP
    """
    from kerazoo.recipes.trainer import Trainer

    config = resolve_config(task_name, config_file, overrides)
    task = get_task(task_name)(config)
    return Trainer(task, Path(run_dir), strategy=strategy, export=export, verbose=verbose).run()


def load_run(run_dir):
    """``(task, model)`` of a finished run, its data prepared from the run's own config."""
    import keras

    import kerazoo.layers  # noqa: F401  (registers kerazoo layers so model.keras can load)
    from kerazoo.recipes.run_dir import existing_run

    run_dir = existing_run(run_dir)
    config = get_task_config(run_dir)
    task = get_task(config.task)(config)
    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    return task, model


def get_task_config(run_dir) -> config_lib.ExperimentConfig:
    import yaml

    data = yaml.safe_load((Path(run_dir) / "config.yaml").read_text())
    task_name = data.get("task", "")
    return config_lib.merge(get_task(task_name).default_config(), data)
