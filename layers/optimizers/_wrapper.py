"""Shared machinery for optimizers that wrap another Keras optimizer.

A wrapper owns an ``inner_optimizer``. Each real update (after any gradient accumulation done by the
wrapper) runs the inner optimizer's own clipping, weight decay and update step, advances the inner
optimizer's iteration counter, then lets the wrapper act on the updated variables (look ahead,
average, decay). The wrapper's ``variables`` are its own followed by the inner optimizer's, so one
``.keras`` file, one ``tf.train.Checkpoint`` and JAX's stateless apply all carry the full state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import keras

from kerazoo import compat
from kerazoo.errors import ConfigError
from kerazoo.optimizers._fused import fused_keras_update


def for_each_variable(optimizer: keras.optimizers.Optimizer, fn: Callable[[Any], None],
                      variables: list) -> None:
    """Call ``fn(variable)`` for every variable, per replica under a ``tf.distribute`` strategy.

    Under TensorFlow the update runs through ``extended.update`` so that mirrored variables stay
    identical on every replica (the same path Keras uses for ``update_step``).
    """
    if keras.backend.backend() == "tensorflow":
        raw = [v.value if isinstance(v, keras.Variable) else v for v in variables]

        def merged(distribution, raw_vars):
            for var in raw_vars:
                distribution.extended.update(var, fn, group=False)

        compat.maybe_merge_call(merged, optimizer._distribution_strategy, raw)
    else:
        for var in variables:
            fn(var)


def start_slots_at_weights(optimizer: keras.optimizers.Optimizer, slots: list, variables: list,
                           first: Any) -> None:
    """On the update where ``first`` is true, set each slot to its variable's value.

    tfa created these slots as copies of the weights. kerazoo copies at the first update instead
    of at build: Keras's TensorFlow trainer may build the optimizer inside a traced (even XLA)
    step, where an initializer reading another variable cannot be lifted. On one TensorFlow device
    a single ``cond`` per step skips the copy after the first update. JAX's stateless apply and
    replicas under a strategy cannot assign inside a branch, so there every step selects with
    ``where``: one read and write per variable.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.distribute.has_strategy():

            def copy():
                for var in variables:
                    optimizer.assign(optimizer.slot(slots, var), var)
                return keras.ops.zeros(())

            keras.ops.cond(first, copy, lambda: keras.ops.zeros(()))
            return

    def start(var):
        slot = optimizer.slot(slots, var)
        current, value = keras.ops.convert_to_tensor(slot), keras.ops.convert_to_tensor(var)
        optimizer.assign(slot, keras.ops.where(first, value, current))

    for_each_variable(optimizer, start, variables)


class OptimizerWrapper(keras.optimizers.Optimizer):
    """Base class of kerazoo's wrappers; not registered, not for direct use.

    Args:
        optimizer: the wrapped optimizer: an instance, a name or a serialized config.
        name: the wrapper's name.
        **kwargs: the usual Keras optimizer arguments, applied by the wrapper (``clipnorm``,
            ``gradient_accumulation_steps``, ``loss_scale_factor`` ...).
    """

    def __init__(self, optimizer: Any, name: str | None = None, **kwargs: Any):
        kwargs.pop("learning_rate", None)  # the inner optimizer owns the learning rate
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        optimizer = keras.optimizers.get(optimizer)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise ConfigError(
                f"{type(self).__name__} wraps a keras.optimizers.Optimizer. "
                f"Received: optimizer={optimizer!r}"
            )
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            raise ConfigError(
                f"Wrap the other way round: LossScaleOptimizer({type(self).__name__}(...)). "
                f"Received: optimizer={optimizer!r}"
            )
        if optimizer.gradient_accumulation_steps or optimizer.use_ema:
            raise ConfigError(
                f"Set gradient_accumulation_steps / use_ema on the {type(self).__name__} wrapper, "
                "not on the wrapped optimizer, which only sees real updates. Received: "
                f"gradient_accumulation_steps={optimizer.gradient_accumulation_steps}, "
                f"use_ema={optimizer.use_ema}"
            )
        # The base class made a placeholder learning-rate variable; it stays tracked because
        # removing it from the tracked list would break tf.train.Checkpoint (append-only lists).
        self.inner_optimizer = optimizer

    @property
    def variables(self) -> list:
        return self._variables[:] + self.inner_optimizer.variables

    @property
    def learning_rate(self) -> Any:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        self.inner_optimizer.learning_rate = learning_rate

    def build(self, var_list: list) -> None:
        if self.built:
            return
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        inner = self.inner_optimizer
        self._before_inner_step(trainable_variables)
        grads = inner._clip_gradients(grads)
        inner._apply_weight_decay(trainable_variables)
        if not fused_keras_update(inner, grads, trainable_variables, inner.learning_rate):
            inner._backend_update_step(grads, trainable_variables, inner.learning_rate)
        inner._iterations.assign_add(1)
        self._after_inner_step(trainable_variables)

    def _before_inner_step(self, trainable_variables: list) -> None:
        """Hook run on every real update before the inner step."""

    def _after_inner_step(self, trainable_variables: list) -> None:
        """Hook run on every real update after the inner step."""

    def update_step(self, gradient, variable, learning_rate):  # pragma: no cover - not used
        raise NotImplementedError("Wrappers update through the inner optimizer.")

    def slot(self, slots: list, variable: Any) -> Any:
        """The slot of ``variable`` in ``slots`` (a list built parallel to the model variables)."""
        return slots[self._get_variable_index(variable)]

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("learning_rate", None)
        config["optimizer"] = keras.optimizers.serialize(self.inner_optimizer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        # keras.optimizers.deserialize edits the dict it gets (lower-cases class_name): copy.
        config["optimizer"] = keras.optimizers.deserialize(
            copy.deepcopy(config["optimizer"]), custom_objects=custom_objects
        )
        return cls(**config)
