"""DecoupledWeightDecay: tfa's decoupled decay rule ``var -= weight_decay * var`` around any optimizer."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.optimizers._wrapper import OptimizerWrapper, for_each_variable
from kerazoo.registry import register


def decay_value(weight_decay: Any, step: Any) -> Any:
    """``weight_decay`` as a value: a float, or a schedule evaluated at ``step``."""
    return weight_decay(step) if callable(weight_decay) else weight_decay


@register("optimizers", tfa="tfa.optimizers.extend_with_decoupled_weight_decay")
class DecoupledWeightDecay(OptimizerWrapper):
    """Decoupled weight decay as TensorFlow Addons applied it, around any Keras optimizer.

    Before each inner update every (non-excluded) variable shrinks by ``var -= weight_decay * var``.
    This is tfa's rule: the decay is **not** multiplied by the learning rate. Keras's own
    ``weight_decay=`` argument applies ``var -= learning_rate * weight_decay * var`` instead, so the
    same number means a decay ``1 / learning_rate`` times weaker there. tfa's ``AdamW(wd, lr)`` is
    ``DecoupledWeightDecay(keras.optimizers.Adam(lr), weight_decay=wd)``; to schedule the decay
    together with the learning rate, as the tfa docs advised, pass a schedule as ``weight_decay``
    (it is evaluated at the inner optimizer's step).

    Args:
        optimizer: the inner optimizer (instance, name or config).
        weight_decay: decay per step, a float or a ``LearningRateSchedule``.
        exclude_from_weight_decay: variable-name substrings/regexes never decayed, as tfa's
            argument. Defaults to ``None``.
        name: optimizer name. Defaults to ``"DecoupledWeightDecay"``.
        **kwargs: base optimizer arguments (``clipnorm``, ``gradient_accumulation_steps`` ...).

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import DecoupledWeightDecay
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> opt = DecoupledWeightDecay(keras.optimizers.SGD(0.1), weight_decay=0.01)
    >>> opt.apply([keras.ops.zeros(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.99, 0.99]

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
    https://arxiv.org/abs/1711.05101
    """

    def __init__(self, optimizer: Any, weight_decay: Any, exclude_from_weight_decay:
                 list[str] | None = None, name: str = "DecoupledWeightDecay", **kwargs: Any):
        kwargs.pop("weight_decay", None)
        super().__init__(optimizer, name=name, **kwargs)
        if not callable(weight_decay) and float(weight_decay) < 0:
            raise ConfigError(f"weight_decay must be >= 0. Received: weight_decay={weight_decay}")
        self.decoupled_weight_decay = weight_decay
        self.exclude_from_weight_decay_names = list(exclude_from_weight_decay or [])
        if self.exclude_from_weight_decay_names:
            self.exclude_from_weight_decay(var_names=self.exclude_from_weight_decay_names)

    def _before_inner_step(self, trainable_variables):
        wd = decay_value(self.decoupled_weight_decay, self.inner_optimizer._iterations)
        decayed = [v for v in trainable_variables if self._use_weight_decay(v)]

        def decay(var):
            self.assign_sub(var, ops.cast(wd, var.dtype) * var)

        for_each_variable(self, decay, decayed)

    def get_config(self):
        from keras.optimizers.schedules import serialize

        config = super().get_config()
        wd = self.decoupled_weight_decay
        config.update(
            weight_decay=serialize(wd) if callable(wd) else wd,
            exclude_from_weight_decay=self.exclude_from_weight_decay_names or None,
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from keras.optimizers.schedules import deserialize

        config = dict(config)
        if isinstance(config.get("weight_decay"), dict):
            config["weight_decay"] = deserialize(config["weight_decay"], custom_objects)
        return super().from_config(config, custom_objects)
