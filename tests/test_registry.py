"""The shared registry: decorator registration, wildcards, filters, suggestions, duplicates."""

import pytest

from kerazoo.errors import KerazooError, NotFoundError
from kerazoo.registry import KINDS, Registry, find, registry


@pytest.fixture
def demo():
    reg = Registry("models")

    @reg.register(task="image_classification", family="cnn")
    def resnet20():
        """CIFAR ResNet-20.

        More text.
        """

    @reg.register(task="image_classification", family="cnn")
    def resnet56():
        """CIFAR ResNet-56."""

    @reg.register(name="lstm_forecaster", task="forecasting", family="lstm")
    def _builder():
        """Stacked LSTM."""

    return reg


def test_register_and_list_with_wildcards(demo):
    assert demo.list() == ["lstm_forecaster", "resnet20", "resnet56"]
    assert demo.list("resnet*") == ["resnet20", "resnet56"]
    assert demo.list("RESNET2?") == ["resnet20"]
    assert demo.list("*", family="lstm") == ["lstm_forecaster"]
    assert demo.list("*", family=None) == demo.list()
    assert len(demo) == 3 and "resnet20" in demo


def test_entry_metadata_and_summary(demo):
    entry = demo.get("resnet20")
    assert entry.summary == "CIFAR ResNet-20."
    assert entry.metadata["family"] == "cnn"
    assert entry.kind == "models"
    with pytest.raises(TypeError):
        entry.metadata["family"] = "x"  # metadata is read-only


def test_unknown_name_suggests_close_names(demo):
    with pytest.raises(NotFoundError, match=r"Unknown model 'resnet21'.*Did you mean: resnet20"):
        demo.get("resnet21")
    with pytest.raises(NotFoundError, match="ResNet20'.*Did you mean: resnet20"):
        demo.get("ResNet20")
    with pytest.raises(NotFoundError, match="kerazoo list models"):
        demo.get("zzzzzz")


def test_duplicate_names_are_refused(demo):
    with pytest.raises(KerazooError, match="'resnet20' is already registered"):

        @demo.register(name="resnet20")
        def other():
            pass


def test_reregistering_the_same_object_is_harmless(demo):
    obj = demo.get("resnet56").obj
    demo.register(obj)
    assert demo.list("resnet56") == ["resnet56"]


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(NotFoundError, match="Unknown kind 'model'.*Did you mean 'models'"):
        registry("model")


def test_every_kind_loads_its_package():
    for kind in KINDS:
        assert isinstance(registry(kind).list(), list)


def test_find_unknown_name():
    with pytest.raises(NotFoundError, match="No layer, model, recipe"):
        find("definitely_not_registered")
