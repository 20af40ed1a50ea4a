"""Image sources and the input pipeline: good data, and a clear one-line error per bad input."""

import numpy as np
import pytest

from kerazoo.errors import DataError

pytestmark = pytest.mark.tf_only


def _write(path, array, fmt="PNG"):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)


def _folder(root, classes=("cat", "dog"), per_class=6, size=(12, 10), mode="RGB"):
    rng = np.random.default_rng(0)
    for name in classes:
        for index in range(per_class):
            shape = size + ((3,) if mode == "RGB" else ())
            _write(root / name / f"{index}.png", rng.integers(0, 255, shape, dtype=np.uint8))
    return root


def _task(source, *overrides):
    from kerazoo.recipes.api import get_task, resolve_config

    config = resolve_config("image_classification", None, [f"data.source={source}", *overrides])
    return get_task("image_classification")(config)


def test_digits_pipeline_static_shapes_and_no_py_function():
    task = _task("digits")
    data = task.prepare_data()
    assert data.sizes == {"train": 1259, "validation": 179, "test": 359}
    dataset = task.build_inputs(data, "train", per_replica_batch=32, training=True)
    spec = dataset.element_spec
    assert spec[0].shape.as_list() == [32, 8, 8, 1] and spec[1].shape.as_list() == [32]
    graph = dataset._as_serialized_graph().numpy()
    assert b"PyFunc" not in graph and b"EagerPyFunc" not in graph


def test_pipeline_is_deterministic_per_epoch_and_resume_skips_exactly():
    task = _task("digits")
    data = task.prepare_data()

    def labels(**kwargs):
        batches = task.build_inputs(data, "train", per_replica_batch=16, training=True, **kwargs)
        return np.concatenate([y.numpy() for _, y in batches.take(6)])

    first, again = labels(epoch=1), labels(epoch=1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, labels(epoch=2))
    np.testing.assert_array_equal(labels(epoch=1, skip_global_steps=2)[:64], first[32:96])


def test_one_pipeline_for_many_epochs_equals_one_per_epoch():
    """The trainer's run-long pipeline (``epochs``) is every epoch's pipeline one after another,
    resumed mid-epoch and sharded the same way, and ``runtime.seed`` does not move the data."""
    import keras
    import tensorflow as tf

    task = _task("digits", "data.augment=[translate]")
    data = task.prepare_data()
    steps = 5

    def images(**kwargs):
        batches = task.build_inputs(data, "train", per_replica_batch=8, training=True,
                                    take_global_steps=steps, **kwargs)
        return np.stack([x.numpy() for x, _ in batches])

    per_epoch = np.concatenate([images(epoch=e) for e in (2, 3, 4)])
    np.testing.assert_array_equal(images(epoch=2, epochs=3), per_epoch)
    np.testing.assert_array_equal(images(epoch=2, epochs=3, skip_global_steps=2),
                                  per_epoch[2:])
    for index in range(2):
        context = tf.distribute.InputContext(2, index, 2)
        np.testing.assert_array_equal(
            images(epoch=2, epochs=3, input_context=context),
            np.concatenate([images(epoch=e, input_context=context) for e in (2, 3, 4)]))
    keras.utils.set_random_seed(7)
    np.testing.assert_array_equal(images(epoch=2, epochs=3), per_epoch)
    keras.utils.set_random_seed(0)
    with pytest.raises(ValueError, match="take_global_steps"):
        task.build_inputs(data, "train", per_replica_batch=8, training=True, epochs=2)


def test_folder_source_reads_classes_and_splits(tmp_path):
    task = _task(f"folder:{_folder(tmp_path / 'pets')}", "data.test_fraction=0.2")
    data = task.prepare_data()
    assert data.class_names == ["cat", "dog"]
    assert data.feature_spec == ((12, 10, 3), "uint8")
    assert sum(data.sizes.values()) == 12
    image, label = next(iter(data.splits["train"]))
    assert image.shape == (12, 10, 3) and image.dtype.name == "uint8"


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_bad_image_file_is_named(tmp_path, damage):
    root = _folder(tmp_path / "pets")
    bad = root / "dog" / "3.png"
    if damage == "corrupt":
        bad.write_bytes(b"this is not a png at all")
    else:
        bad.write_bytes(bad.read_bytes()[:60])
    with pytest.raises(DataError, match=r"dog/3.png: unreadable image"):
        _task(f"folder:{root}").prepare_data()


def test_empty_class_folder_is_named(tmp_path):
    root = _folder(tmp_path / "pets")
    (root / "bird").mkdir()
    with pytest.raises(DataError, match=r"pets/bird: empty class folder"):
        _task(f"folder:{root}").prepare_data()


def test_single_class_is_refused(tmp_path):
    root = _folder(tmp_path / "pets", classes=("cat",))
    with pytest.raises(DataError, match=r"only one class \('cat'\)"):
        _task(f"folder:{root}").prepare_data()


def test_mixed_grayscale_and_rgb_asks_to_choose_then_works(tmp_path):
    root = _folder(tmp_path / "pets")
    _write(root / "cat" / "gray.png", np.zeros((12, 10), np.uint8))
    with pytest.raises(DataError, match=r"mixed grayscale .*gray.png.*data.channels"):
        _task(f"folder:{root}").prepare_data()
    data = _task(f"folder:{root}", "data.channels=3").prepare_data()
    assert data.feature_spec[0] == (12, 10, 3)


def test_missing_folder_and_unknown_source(tmp_path):
    from kerazoo.errors import ConfigError

    with pytest.raises(DataError, match="Image folder not found"):
        _task(f"folder:{tmp_path / 'nope'}").prepare_data()
    with pytest.raises(ConfigError, match="'data.source'"):
        _task("mnist").prepare_data()


def test_unknown_tfds_name_suggests_close_names():
    with pytest.raises(DataError, match=r"Unknown TFDS dataset 'tfds:cifar100x'.*tfds:cifar100"):
        _task("tfds:cifar100x").prepare_data()


def test_tfds_not_prepared_fails_at_once_without_download(tmp_path):
    import time

    started = time.monotonic()
    with pytest.raises(DataError, match=r"tfds:mnist is not prepared in .*--download"):
        _task("tfds:mnist", f"data.data_dir={tmp_path}").prepare_data()
    assert time.monotonic() - started < 30


def test_tfds_source_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        task = _task("tfds:mnist")
        data = task.prepare_data()
        assert data.feature_spec == ((28, 28, 1), "uint8")
        assert data.class_names == [str(i) for i in range(10)]
        batch = next(iter(task.build_inputs(data, "train", per_replica_batch=8, training=True)))
    assert batch[0].shape == (8, 28, 28, 1)
