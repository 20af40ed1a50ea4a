"""Subprocess driver for the multi-worker and SIGKILL tests (not a test module).

Usage: python _train_driver.py RUN_DIR WEIGHTS_NPZ KEY=VALUE...
``KERAZOO_TEST_TASK`` names the recipe (default ``image_classification``).
``KERAZOO_TEST_KILL_AT_STEP=N`` makes the process SIGKILL itself right after saving checkpoint N.
"""

import os
import signal
import sys

import numpy as np


def main() -> None:
    import tensorflow as tf

    from kerazoo.recipes.api import get_task, resolve_config
    from kerazoo.recipes.trainer import Trainer

    run_dir, weights_path, *overrides = sys.argv[1:]
    kill_at = os.environ.get("KERAZOO_TEST_KILL_AT_STEP")
    if kill_at:
        original = tf.train.CheckpointManager.save

        def save_then_die(self, checkpoint_number=None, **kwargs):
            path = original(self, checkpoint_number=checkpoint_number, **kwargs)
            if checkpoint_number == int(kill_at):
                os.kill(os.getpid(), signal.SIGKILL)
            return path

        tf.train.CheckpointManager.save = save_then_die
    task_name = os.environ.get("KERAZOO_TEST_TASK", "image_classification")
    config = resolve_config(task_name, None, overrides)
    trainer = Trainer(get_task(task_name)(config), run_dir, export=False,
                      verbose=False)
    trainer.run()
    np.savez(weights_path, *[np.asarray(v) for v in trainer.model.weights])
    with open(weights_path + ".names", "w") as stream:
        stream.write("\n".join(f"{v.path} {v.trainable}" for v in trainer.model.weights))


if __name__ == "__main__":
    main()
