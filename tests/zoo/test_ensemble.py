"""``kerazoo.zoo.ensemble``: the mean of classifiers' probabilities as one model."""

import numpy as np
import pytest


def _classifier(name, seed, inputs=4, classes=3):
    import keras

    keras.utils.set_random_seed(seed)
    x = keras.Input((inputs,), name="features")
    return keras.Model(x, keras.layers.Dense(classes, name="logits")(x), name=name)


def test_output_is_the_log_of_the_mean_probability():
    import keras

    from kerazoo.zoo.ensemble import ensemble_members, probability_ensemble

    a, b = _classifier("a", 0), _classifier("b", 1)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    ensemble = probability_ensemble([a, b])
    expected = (keras.ops.softmax(a(x)) + keras.ops.softmax(b(x))) / 2
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(ensemble(x))),
                               keras.ops.convert_to_numpy(expected), atol=1e-6)
    # Log-probabilities: their exponentials sum to one, so softmax leaves them as they are.
    np.testing.assert_allclose(np.exp(keras.ops.convert_to_numpy(ensemble(x))).sum(-1), 1.0,
                               atol=1e-5)
    assert [member.name for member in ensemble_members(ensemble)] == ["a", "b"]
    assert ensemble_members(a) is None


def test_a_certain_member_gives_no_infinity():
    import keras

    from kerazoo.zoo.ensemble import LogMeanProbability

    out = LogMeanProbability()([np.array([[1e4, -1e4]], "float32"),
                                np.array([[-1e4, 1e4]], "float32")])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), np.log([[0.5, 0.5]]), atol=1e-5)


def test_saved_and_loaded_it_gives_the_same_outputs(tmp_path):
    import keras

    from kerazoo.zoo.ensemble import probability_ensemble

    ensemble = probability_ensemble([_classifier("a", 0), _classifier("b", 1)])
    ensemble.save(tmp_path / "ensemble.keras")
    restored = keras.saving.load_model(tmp_path / "ensemble.keras", safe_mode=True)
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(x)),
                               keras.ops.convert_to_numpy(ensemble(x)), atol=1e-6)


def test_members_that_disagree_on_input_or_classes_are_refused():
    from kerazoo.errors import ConfigError
    from kerazoo.zoo.ensemble import probability_ensemble

    with pytest.raises(ConfigError, match="the same input and classes"):
        probability_ensemble([_classifier("a", 0), _classifier("b", 0, classes=2)])
    with pytest.raises(ConfigError, match="the same input and classes"):
        probability_ensemble([_classifier("a", 0), _classifier("b", 0, inputs=5)])
    with pytest.raises(ConfigError, match="at least two"):
        probability_ensemble([_classifier("a", 0)])


def test_a_subclassed_member_is_refused_in_one_line():
    import keras

    from kerazoo.errors import ConfigError
    from kerazoo.zoo.ensemble import probability_ensemble

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ConfigError, match="has no symbolic input and output"):
        probability_ensemble([_classifier("a", 0), Subclassed(name="sub")])
