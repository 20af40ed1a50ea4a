"""SAMModel: the two-pass training step that sharpness-aware minimization needs, per backend.

Keras's ``train_step`` takes one gradient per batch. SAM takes two: the first gives the ascent step
``e``; the second is taken at ``w + e`` and applied to ``w``. The second pass runs statelessly
(``stateless_call`` at the perturbed values), so the weights are never moved and restored in
place: no round-off from ``w + e - e``, BatchNorm statistics and metrics update once per batch
(from the first pass), and under ``tf.distribute`` each replica's perturbation stays its own.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo import compat
from kerazoo.errors import ConfigError
from kerazoo.optimizers.sam import SAM


def _find_sam(optimizer: Any) -> SAM | None:
    """The SAM optimizer itself or inside a LossScaleOptimizer."""
    while optimizer is not None:
        if isinstance(optimizer, SAM):
            return optimizer
        optimizer = getattr(optimizer, "inner_optimizer", None)
    return None


def _batch_size(x: Any) -> Any:
    first = next(i for i in keras.tree.flatten(x) if i is not None)
    return ops.shape(first)[0]


@keras.saving.register_keras_serializable(package="kerazoo")
class SAMModel(keras.Model):
    """Wraps any Keras model so that ``fit`` trains it with sharpness-aware minimization.

    Compile it with a :class:`kerazoo.optimizers.SAM` optimizer (or a ``LossScaleOptimizer``
    around one). Inference, ``evaluate``, ``predict`` and saving behave as for the wrapped model;
    only ``train_step`` changes. The reported training loss and metrics are those of the first
    pass, at the unperturbed weights, as in Keras's own step. Runs on TensorFlow (also under
    ``tf.distribute`` and ``jit_compile=True``), JAX and PyTorch.

    Args:
        model: the model to train; a built ``keras.Model`` (functional, sequential or
            subclassed).
        **kwargs: ``keras.Model`` arguments such as ``name``.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import SAM, SAMModel
    >>> inputs = keras.Input((4,))
    >>> net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    >>> model = SAMModel(net)
    >>> model.compile(optimizer=SAM("adam", rho=0.1), loss="sparse_categorical_crossentropy")
    >>> x = np.random.RandomState(0).normal(size=(16, 4)).astype("float32")
    >>> y = (x[:, 0] > 0).astype("int32")
    >>> model.fit(x, y, batch_size=8, epochs=1, verbose=0).history["loss"][0] > 0
    True
    >>> model.predict(x[:2], verbose=0).shape
    (2, 2)

    Reference: Foret et al., "Sharpness-Aware Minimization for Efficiently Improving
    Generalization", ICLR 2021, https://arxiv.org/abs/2010.01412
    """

    def __init__(self, model: keras.Model, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(model, keras.Model):
            raise ConfigError(f"SAMModel wraps a keras.Model. Received: model={model!r}")
        self.model = model

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    def compile(self, optimizer: Any = "rmsprop", *args: Any, **kwargs: Any) -> None:
        candidate = keras.optimizers.get(optimizer)
        if _find_sam(candidate) is None:
            raise ConfigError(
                "SAMModel trains with a kerazoo.optimizers.SAM optimizer, e.g. "
                "SAM(keras.optimizers.SGD(0.1), rho=0.05), optionally inside a "
                f"LossScaleOptimizer. Received: optimizer={optimizer!r}"
            )
        super().compile(candidate, *args, **kwargs)

    def compile_from_config(self, config: dict) -> None:
        # Keras skips models with their own compile(); ours only checks the optimizer.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # --- the backend-neutral part ------------------------------------------------------------

    def _perturbed_values(self, gradients: list) -> list:
        weights = self.trainable_variables
        gradients = [ops.zeros_like(w) if g is None else g for g, w in zip(gradients, weights)]
        steps = _find_sam(self.optimizer).perturbations(gradients, weights)
        return [ops.convert_to_tensor(w) + e for w, e in zip(weights, steps)]

    def _scaled_loss_at(self, trainable_values: list, x, y, sample_weight) -> Any:
        """The (loss-scaled) training loss at ``trainable_values``; changes no variable."""
        non_trainable = [v.value for v in self.non_trainable_variables]
        y_pred, _, losses = self.stateless_call(
            trainable_values, non_trainable, x, return_losses=True, training=True)
        # Stateless too, so that per-output loss trackers in compute_loss do not count twice.
        with keras.StatelessScope(state_mapping=list(zip(self.trainable_variables,
                                                         trainable_values))):
            if losses:
                self._losses_override = losses
            try:
                loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                          training=True)
            finally:
                if losses:
                    self._losses_override = []
            return self.optimizer.scale_loss(loss)

    # --- per backend ---------------------------------------------------------------------------

    def train_step(self, *args):
        backend = keras.backend.backend()
        if backend == "jax":
            return self._jax_train_step(*args)
        if backend == "tensorflow":
            return self._tensorflow_train_step(*args)
        if backend == "torch":
            return self._torch_train_step(*args)
        raise NotImplementedError(f"SAMModel does not support the {backend!r} backend.")

    def _first_pass_loss(self, x, y, sample_weight):
        """Keras's own forward pass and loss bookkeeping, shared by TensorFlow and PyTorch."""
        y_pred = self(x, training=True)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                  training=True)
        self._loss_tracker.update_state(compat.unscale_loss_for_distribution(loss),
                                        sample_weight=_batch_size(x))
        return y_pred, self.optimizer.scale_loss(loss)

    def _tensorflow_train_step(self, data):
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        weights = self.trainable_variables
        with tf.GradientTape() as tape:
            y_pred, loss = self._first_pass_loss(x, y, sample_weight)
        perturbed = self._perturbed_values(tape.gradient(loss, weights))
        with tf.GradientTape() as tape:
            tape.watch(perturbed)
            loss = self._scaled_loss_at(perturbed, x, y, sample_weight)
        self.optimizer.apply(tape.gradient(loss, perturbed), weights)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _torch_train_step(self, data):
        import torch

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        weights = self.trainable_variables[:]
        self.zero_grad()
        y_pred, loss = self._first_pass_loss(x, y, sample_weight)
        loss.backward()
        with torch.no_grad():
            perturbed = self._perturbed_values([w.value.grad for w in weights])
        perturbed = [p.detach().requires_grad_(True) for p in perturbed]
        loss = self._scaled_loss_at(perturbed, x, y, sample_weight)
        gradients = torch.autograd.grad(loss, perturbed, allow_unused=True)
        with torch.no_grad():
            self.optimizer.apply(list(gradients), weights)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _jax_train_step(self, state, data):
        import jax

        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (_, aux), gradients = grad_fn(trainable, non_trainable, metrics_vars, x, y, sample_weight,
                                      training=True, optimizer_variables=optimizer_vars)
        unscaled_loss, y_pred, new_non_trainable, new_metrics_vars = aux
        steps = _find_sam(self.optimizer).perturbations(gradients, trainable)
        perturbed = [w + e for w, e in zip(trainable, steps)]
        # The second pass's BatchNorm and metric updates are dropped, as on the other backends.
        _, gradients = grad_fn(perturbed, non_trainable, metrics_vars, x, y, sample_weight,
                               training=True, optimizer_variables=optimizer_vars)
        trainable, optimizer_vars = self.optimizer.stateless_apply(
            optimizer_vars, gradients, trainable)
        logs, new_metrics_vars = self._update_metrics_variables(
            new_metrics_vars, unscaled_loss, x, y, y_pred, sample_weight)
        return logs, (trainable, new_non_trainable, optimizer_vars, new_metrics_vars)

    def get_config(self) -> dict:
        config = super().get_config()
        config["model"] = keras.saving.serialize_keras_object(self.model)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(
            config["model"], custom_objects=custom_objects)
        return cls(**config)
