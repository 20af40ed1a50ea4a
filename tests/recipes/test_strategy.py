"""The strategy factory, precision policy and the TPU branch with a stand-in resolver."""

import pytest

pytestmark = pytest.mark.tf_only


def test_auto_on_cpu_is_one_device_float32_no_xla():
    from kerazoo.recipes import strategy as s

    strategy = s.make_strategy("auto")
    assert type(strategy).__name__ == "OneDeviceStrategy"
    assert s.resolve_precision("auto", strategy) == "float32"
    assert s.resolve_jit(None, strategy) is False
    assert s.is_chief(strategy)


def test_mirrored_uses_both_logical_cpus():
    from kerazoo.recipes import strategy as s

    assert s.make_strategy("mirrored").num_replicas_in_sync == 2


def test_tpu_branch_with_stand_in_resolver(monkeypatch):
    import tensorflow as tf

    from kerazoo.recipes import strategy as s

    calls = []

    class FakeResolver:
        def __init__(self, tpu):
            calls.append(("resolver", tpu))

    class FakeTPUStrategy:
        def __init__(self, resolver):
            calls.append(("strategy", type(resolver).__name__))

    monkeypatch.setattr(tf.config, "experimental_connect_to_cluster",
                        lambda r: calls.append(("connect",)))
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system",
                        lambda r: calls.append(("init",)))
    monkeypatch.setattr(tf.distribute, "TPUStrategy", FakeTPUStrategy)
    strategy = s.make_strategy("tpu", "grpc://10.0.0.2:8470", resolver_factory=FakeResolver)
    assert isinstance(strategy, FakeTPUStrategy)
    assert calls == [("resolver", "grpc://10.0.0.2:8470"), ("connect",), ("init",),
                     ("strategy", "FakeResolver")]
    # auto with a resolver that finds a TPU picks it.
    calls.clear()
    assert isinstance(s.make_strategy("auto", resolver_factory=FakeResolver), FakeTPUStrategy)


def test_tpu_not_found_is_a_clear_error():
    from kerazoo.errors import ConfigError
    from kerazoo.recipes import strategy as s

    def missing(tpu):
        raise ValueError("Please provide a TPU Name to connect to.")

    with pytest.raises(ConfigError, match="No TPU found at 'node-1'"):
        s.make_strategy("tpu", "node-1", resolver_factory=missing)
    assert type(s.make_strategy("auto", resolver_factory=missing)).__name__ == (
        "OneDeviceStrategy")
