"""SAM: sharpness-aware minimization around any Keras optimizer."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.optimizers._wrapper import OptimizerWrapper
from kerazoo.registry import register


@register("optimizers")
class SAM(OptimizerWrapper):
    """Sharpness-aware minimization: step with the gradient taken at the worst nearby weights.

    Each update takes two gradients of the same batch. The first, ``g``, gives the ascent
    direction ``e = rho * g / ||g||`` (the norm is over all trainable weights together); the second
    is taken at ``w + e``, and the wrapped optimizer applies it to ``w``. With ``adaptive=True``
    the neighbourhood is scaled per weight by ``T = |w| + eta`` (ASAM):
    ``e = rho * T^2 g / ||T g||``.

    The second gradient needs another forward pass, which an optimizer cannot run by itself:
    train a model with SAM through :class:`kerazoo.optimizers.SAMModel` (``model.fit`` then works
    on TensorFlow, JAX and PyTorch, under ``tf.distribute``, XLA and ``LossScaleOptimizer``). A
    plain ``fit`` would silently train with the inner optimizer only, so ``apply`` refuses to run
    until :meth:`perturbations` has been called. In a custom loop: ``e = sam.perturbations(g, w)``,
    take the gradient at ``w + e``, then ``sam.apply(that_gradient, w)``.

    Under ``tf.distribute`` every replica perturbs with its own gradient (the paper's
    "m-sharpness" with m = the per-replica batch, as the authors' implementation does); the
    second gradients are then averaged as usual. With ``gradient_accumulation_steps`` each
    micro-batch is perturbed on its own.

    Args:
        optimizer: the inner optimizer (instance, name or config) that applies the update.
        rho: radius of the neighbourhood. Defaults to ``0.05``.
        adaptive: use ASAM's scale-invariant neighbourhood. Defaults to ``False``.
        eta: ASAM's offset in ``T = |w| + eta``, so that zero weights are perturbed too.
            Defaults to ``0.01``.
        epsilon: added to the gradient norm. Defaults to ``1e-12``.
        name: optimizer name. Defaults to ``"SAM"``.
        **kwargs: base optimizer arguments for the wrapper (``clipnorm``,
            ``gradient_accumulation_steps`` ...).

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import SAM, SAMModel
    >>> inputs = keras.Input((3,))
    >>> model = SAMModel(keras.Model(inputs, keras.layers.Dense(1)(inputs)))
    >>> model.compile(optimizer=SAM(keras.optimizers.SGD(0.1), rho=0.05), loss="mse")
    >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    >>> history = model.fit(x, y, epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2

    References: Foret et al., "Sharpness-Aware Minimization for Efficiently Improving
    Generalization", ICLR 2021, https://arxiv.org/abs/2010.01412; Kwon et al., "ASAM: Adaptive
    Sharpness-Aware Minimization", ICML 2021, https://arxiv.org/abs/2102.11600
    """

    def __init__(self, optimizer: Any, rho: float = 0.05, adaptive: bool = False,
                 eta: float = 0.01, epsilon: float = 1e-12, name: str = "SAM", **kwargs: Any):
        super().__init__(optimizer, name=name, **kwargs)
        if not float(rho) > 0:
            raise ConfigError(f"rho must be > 0. Received: rho={rho}")
        if float(eta) < 0:
            raise ConfigError(f"eta must be >= 0. Received: eta={eta}")
        self.rho = float(rho)
        self.adaptive = bool(adaptive)
        self.eta = float(eta)
        self.sam_epsilon = float(epsilon)
        self._perturbation_used = False

    def perturbations(self, gradients: list, weights: list) -> list:
        """The ascent step ``e`` for each weight; a pure function of its arguments.

        Args:
            gradients: the first gradients, one per weight (any common scale: a loss-scaled
                gradient gives the same ``e``).
            weights: the trainable variables or their current values.

        Returns:
            One tensor per weight, ``e``, with the weight's dtype.
        """
        self._perturbation_used = True
        values = [ops.convert_to_tensor(w) for w in weights]
        grads = [ops.cast(g, "float32") for g in gradients]
        if self.adaptive:
            scales = [ops.abs(ops.cast(w, "float32")) + self.eta for w in values]
            scaled = [s * g for s, g in zip(scales, grads)]
        else:
            scaled = grads
        norm = ops.sqrt(sum(ops.sum(ops.square(g)) for g in scaled))
        factor = self.rho / (norm + self.sam_epsilon)
        if self.adaptive:
            directions = [s * s * g for s, g in zip(scales, grads)]
        else:
            directions = grads
        return [ops.cast(d * factor, w.dtype) for d, w in zip(directions, values)]

    def apply(self, grads, trainable_variables=None):
        if not self._perturbation_used:
            raise RuntimeError(
                "SAM.apply was called before SAM.perturbations: a plain model.fit would train "
                "with the inner optimizer only. Wrap the model, "
                "kerazoo.optimizers.SAMModel(model), or in a custom loop take the gradient at "
                "w + sam.perturbations(gradients, weights) before apply."
            )
        return super().apply(grads, trainable_variables)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, adaptive=self.adaptive, eta=self.eta,
                      epsilon=self.sam_epsilon)
        return config
