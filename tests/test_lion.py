"""Our Lion against the paper's rule (NumPy) and against keras.optimizers.Lion."""
import keras
import numpy as np
import pytest

from lionpoc.model.lion import Lion


def numpy_lion(w, grads, lr, beta_1=0.9, beta_2=0.99, wd=0.0):
    """The update of Chen et al. (2023), Algorithm 2, written directly."""
    p, m = w.astype(np.float64).copy(), np.zeros_like(w, dtype=np.float64)
    for g in grads:
        c = beta_1 * m + (1 - beta_1) * g
        p = p - lr * (np.sign(c) + wd * p)
        m = beta_2 * m + (1 - beta_2) * g
    return p


def apply(optimizer, w, grads):
    variable = keras.Variable(w.copy())
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
    return np.asarray(variable)


@pytest.mark.parametrize("beta", [-0.1, 1.5])
def test_bad_beta_is_refused_with_its_value(beta):
    with pytest.raises(ValueError, match=f"beta_1={beta}"):
        Lion(beta_1=beta)
    with pytest.raises(ValueError, match=f"beta_2={beta}"):
        Lion(beta_2=beta)


def test_config_round_trip_keeps_hyperparameters():
    opt = Lion(learning_rate=3e-4, beta_1=0.95, beta_2=0.98, weight_decay=0.5)
    config = opt.get_config()
    again = Lion.from_config(config)
    assert (config["beta_1"], config["beta_2"], config["weight_decay"]) == (0.95, 0.98, 0.5)
    assert again.get_config() == config
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(restored, Lion) and restored.beta_2 == 0.98


def test_one_step_by_hand():
    # m starts at 0, so the step is lr * sign(g): with lr 0.5, [1, 2, 3] - 0.5 * sign([0.1, -4, 0]).
    w = np.array([1.0, 2.0, 3.0], np.float32)
    out = apply(Lion(learning_rate=0.5), w, [np.array([0.1, -4.0, 0.0], np.float32)])
    np.testing.assert_allclose(out, [0.5, 2.5, 3.0])


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_several_steps_match_numpy_and_keras_reference(wd):
    rng = np.random.default_rng(7)
    w = rng.normal(size=(5, 4)).astype(np.float32)
    grads = [rng.normal(size=(5, 4)).astype(np.float32) for _ in range(8)]
    ours = apply(Lion(learning_rate=0.01, weight_decay=wd or None), w, grads)
    reference = apply(keras.optimizers.Lion(learning_rate=0.01, weight_decay=wd or None), w, grads)
    expected = numpy_lion(w, grads, 0.01, wd=wd)
    np.testing.assert_allclose(ours, expected, atol=1e-6)
    np.testing.assert_allclose(ours, reference, atol=1e-6)
    assert not np.allclose(ours, w)  # it did move


def test_one_slot_per_weight_where_adam_keeps_two():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    variables = model.trainable_variables
    lion, adam = Lion(), keras.optimizers.Adam()
    lion.build(variables)
    adam.build(variables)
    slots = lambda opt: [v for v in opt.variables if len(v.shape) > 0]  # noqa: E731
    assert [tuple(v.shape) for v in slots(lion)] == [(6, 3), (3,)]
    assert len(slots(adam)) == 2 * len(slots(lion))


def test_a_tiny_model_learns_with_it():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(Lion(learning_rate=2e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.6 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9
