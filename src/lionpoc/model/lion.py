"""Lion, the optimizer of Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms",
arXiv:2302.06675 — written for Keras 3, on purpose, so that we own the thing we evaluate.

For a weight ``p`` with gradient ``g``, momentum ``m``, learning rate ``lr`` and weight decay ``wd``:

    c = beta_1 * m + (1 - beta_1) * g          # blend momentum and gradient
    p = p - lr * (sign(c) + wd * p)            # step of fixed size per coordinate, plus decay
    m = beta_2 * m + (1 - beta_2) * g          # refresh momentum (with a slower beta)

Lion keeps one state tensor per weight (Adam keeps two), and every coordinate moves by exactly
``lr`` (before decay): that is why it wants a smaller learning rate and a larger weight decay.
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lionpoc")
class Lion(keras.optimizers.Optimizer):
    """Lion optimizer.

    Args:
        learning_rate: step size (float or schedule); 3-10x smaller than for AdamW.
        beta_1: weight of the momentum in the blend whose sign gives the step (0.9).
        beta_2: decay rate of the momentum itself (0.99).
        weight_decay: decoupled decay ``wd``; the base class applies ``p -= lr * wd * p`` before
            ``update_step``, which is the paper's ``lr * wd * p`` term on the old weights.
        **kwargs: the base optimizer's options (clipnorm, use_ema, name, ...).
    """

    def __init__(self, learning_rate=1e-4, beta_1=0.9, beta_2=0.99, weight_decay=None, name="lion", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs)
        for label, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= beta <= 1.0:
                raise ValueError(f"Argument `{label}` must be in the [0, 1] range. Received: {label}={beta}.")
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # The only state: one momentum tensor per weight, shaped like it.
        self._momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        blend = ops.add(ops.multiply(m, self.beta_1), ops.multiply(gradient, 1.0 - self.beta_1))
        self.assign_sub(variable, ops.multiply(lr, ops.sign(blend)))
        self.assign(m, ops.add(ops.multiply(m, self.beta_2), ops.multiply(gradient, 1.0 - self.beta_2)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
