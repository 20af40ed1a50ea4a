"""Entry points shared by the CLI and Python users: resolve a config, train, load a run.

A config is resolved and validated once (:func:`resolve_config`: the task's defaults, then the
YAML file, then ``key=value`` overrides, then the shared value checks and the task's own
``check_config``); everything downstream takes the resulting ``ExperimentConfig``.
"""

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
    task_class = get_task(task_name)
    config = task_class.default_config()
    if config_file:
        config = config_lib.load_yaml(config, config_file)
    config = config_lib.apply_overrides(config, list(overrides))
    config_lib.validate(config)
    task_class(config).check_config()
    return config


def default_run_dir(config: config_lib.ExperimentConfig) -> Path:
    """``runs/TASK-MODEL``: where ``kerazoo train`` writes without ``--run-dir``.

    A ``keras_hub:PRESET`` model is named by its preset's last path part, so a preset given as
    a path (``keras_hub:/data/my_bert``) gives one folder, ``runs/TASK-keras_hub-my_bert``.
    """
    import re

    scheme, _, rest = config.model.name.partition(":") if ":" in config.model.name else (
        "", "", config.model.name)
    name = "-".join(part for part in (scheme, Path(rest.rstrip("/")).name or rest) if part)
    return Path("runs") / f"{config.task}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}"


def train(config: config_lib.ExperimentConfig | str, run_dir=None, *, config_file=None,
          overrides=(), strategy=None, export: bool = True, verbose: bool = True
          ) -> dict[str, Any]:
    """Train a recipe into ``run_dir``; returns the test report (``evaluation.json``).

    Args:
        config: a resolved ``ExperimentConfig`` (from :func:`resolve_config`), or a task name,
            resolved here with ``config_file`` and ``overrides``.
        run_dir: the run directory. Defaults to :func:`default_run_dir`.
        strategy: a ``tf.distribute.Strategy``. Defaults to ``runtime.strategy``'s choice.
        export: export a SavedModel at the end.
        verbose: print progress and the final report.

    Example:

    >>> from kerazoo import recipes
    >>> config = recipes.resolve_config("image_classification", overrides=["train.epochs=1"])
    >>> report = recipes.train(config, tmp_run_dir, verbose=False)  # doctest: +SKIP
    """
    from kerazoo.recipes.trainer import Trainer

    if isinstance(config, str):
        config = resolve_config(config, config_file, overrides)
    elif config_file or overrides:
        raise TypeError("api.train: config_file and overrides go with a task name, not with a "
                        "resolved ExperimentConfig.")
    task = get_task(config.task)(config)
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    return Trainer(task, run_dir, strategy=strategy, export=export, verbose=verbose).run()


def load_run(run_dir):
    """``(task, model)`` of a finished run (data is not read: ``task.prepare_data()`` does)."""
    import keras

    import kerazoo.layers  # noqa: F401  (registers kerazoo layers so model.keras can load)
    import kerazoo.zoo.ensemble  # noqa: F401  (a run may have exported an ensemble)
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
