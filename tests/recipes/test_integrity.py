"""Nothing wrong is ever published (issue 20): bad CSV cells are refused with one line naming file,
row and column, or made missing and counted with ``data.drop_bad_rows``; a byte-order mark is read;
NaN labels are never a class; a diverging run, a failed ``--init`` or a killed finish publishes
nothing half-made; undefined per-class metrics are null, not zero."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerazoo.cli import main
from kerazoo.errors import DataError
from kerazoo.recipes.series_sources import load_csv, parse_csv_text


def monthly_csv(values) -> str:
    months = [f"{2000 + i // 12}-{i % 12 + 1:02d}-01" for i in range(len(values))]
    return "date,value\n" + "".join(f"{m},{v}\n" for m, v in zip(months, values))


COLUMNS = {"timestamp_column": "date", "targets": ["value"]}


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "1e308", "-4e38"])
def test_non_finite_or_out_of_range_cell_is_one_line_naming_row_and_column(cell):
    values = [str(float(i)) for i in range(30)]
    values[6] = cell
    with pytest.raises(DataError) as caught:
        parse_csv_text(monthly_csv(values), "m.csv", **COLUMNS)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"m.csv: row 8, column 'value': '{cell}' is not a finite float32")
    assert "data.drop_bad_rows=true" in message


def test_drop_bad_rows_makes_cells_missing_and_counts_them():
    values = [str(float(i)) for i in range(30)]
    values[6], values[9] = "inf", "1e308"
    table = parse_csv_text(monthly_csv(values), "m.csv", drop_bad_rows=True, **COLUMNS)
    series = table.series["series"].values[:, 0]
    assert np.isfinite(series).all()
    assert series[6] == pytest.approx(6.0) and series[9] == pytest.approx(9.0)  # interpolated
    assert any("2 non-finite or out-of-float32-range cell(s)" in note for note in table.notes)


def test_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + monthly_csv(range(30)).encode())
    table = load_csv(path, **COLUMNS)
    assert table.frequency == "MS" and len(table.series["series"].values) == 30
    (tmp_path / "latin.csv").write_bytes(b"date,valu\xe9\n2000-01-01,1\n")
    with pytest.raises(DataError, match=r"latin.csv: not valid UTF-8 at byte 9"):
        load_csv(tmp_path / "latin.csv", **COLUMNS)


BAD_CELLS = st.sampled_from(["nan", "NaN", "inf", "-inf", "1e39", "-1e308", "", "abc", "1,5",
                             "\ufeff3", "\u00e9", "0x10", "1e-320", "  7  "])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(st.integers(0, 39), BAD_CELLS), min_size=1, max_size=6),
       bom=st.booleans(), drop=st.booleans(), policy=st.sampled_from(["interpolate", "error"]))
def test_random_bad_cells_give_a_one_line_error_or_an_all_finite_table(cells, bom, drop, policy):
    values = [f"{10 + math.sin(i):.3f}" for i in range(40)]
    for row, cell in cells:
        values[row] = cell
    text = ("\ufeff" if bom else "") + monthly_csv(values)
    try:
        table = parse_csv_text(text, "r.csv", fill_policy=policy, drop_bad_rows=drop, **COLUMNS)
    except DataError as error:
        message = str(error)
        assert "\n" not in message and message.startswith("r.csv")
        return
    assert np.isfinite(table.series["series"].values).all()
    assert (np.abs(table.series["series"].values) <= np.finfo(np.float32).max).all()


@pytest.mark.tf_only
def test_cli_train_refuses_an_inf_before_writing_anything(tmp_path, capsys):
    values = [f"{10 + math.sin(i):.3f}" for i in range(120)]
    values[50] = "inf"
    (tmp_path / "m.csv").write_text(monthly_csv(values))
    run = tmp_path / "run"
    code = main(["train", "time_series_forecasting", "--data", f"csv:{tmp_path / 'm.csv'}",
                 "--set", "data.timestamp_column=date", "--set", "data.targets=[value]",
                 "--set", "data.lookback=24", "--set", "data.horizon=6", "--epochs", "1",
                 "--run-dir", str(run)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0
    assert "row 52, column 'value': 'inf' is not a finite float32 value" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv"]  # no run, no .run.partial


@pytest.mark.tf_only
def test_a_diverging_run_stops_with_one_line_and_publishes_nothing(tmp_path, capsys):
    values = [f"{10 + 3 * math.sin(i / 2):.3f}" for i in range(160)]
    (tmp_path / "m.csv").write_text(monthly_csv(values))
    run = tmp_path / "run"
    code = main(["train", "time_series_forecasting", "--data", f"csv:{tmp_path / 'm.csv'}",
                 "--set", "data.timestamp_column=date", "--set", "data.targets=[value]",
                 "--set", "data.lookback=24", "--set", "data.horizon=6", "--epochs", "2",
                 "--set", "train.learning_rate=1e38", "--set", "train.schedule=constant",
                 "--set", "train.optimizer=sgd", "--run-dir", str(run)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0, err
    assert "training diverged: the loss became" in err and "Lower train.learning_rate" in err
    assert not run.exists()  # nothing published
    partial = tmp_path / ".run.partial"
    assert not (partial / "export").exists() and not (partial / "evaluation.json").exists()


TEXT_OPTIONS = dict(text_column="text", label_column="label", split_column=None,
                    class_names=None, encoding="utf-8", validation_fraction=0.2,
                    test_fraction=0.2, seed=0)


def _reviews(rows: int = 40) -> list[list[str]]:
    return [[f"review number {i} was {'great' if i % 2 else 'awful'}",
             "positive" if i % 2 else "negative"] for i in range(rows)]


def _write_text_csv(path, rows, bom=False):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))


@pytest.mark.tf_only
def test_text_csv_reads_a_bom_and_treats_nan_labels_as_bad_rows(tmp_path):
    from kerazoo.recipes.text_sources import load_csv as load_text_csv

    rows = _reviews()
    _write_text_csv(tmp_path / "bom.csv", rows, bom=True)
    data = load_text_csv(tmp_path / "bom.csv", drop_bad_rows=False, **TEXT_OPTIONS)
    assert data.class_names == ["negative", "positive"]
    rows[5][1] = "NaN"
    _write_text_csv(tmp_path / "nan.csv", rows)
    with pytest.raises(DataError, match=r"nan.csv:7: missing \(empty or NaN\) label"):
        load_text_csv(tmp_path / "nan.csv", drop_bad_rows=False, **TEXT_OPTIONS)
    data = load_text_csv(tmp_path / "nan.csv", drop_bad_rows=True, **TEXT_OPTIONS)
    assert data.class_names == ["negative", "positive"] and data.info["dropped_rows"] == 1


TEXT_CELLS = st.sampled_from(["", "NaN", "nan", "null", "  ", "\u00e9t\u00e9", "\ufeffx",
                              "inf", "positive", "negative", "a,b", 'say "hi"'])


@pytest.mark.tf_only
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 1), TEXT_CELLS),
                      min_size=1, max_size=6),
       bom=st.booleans(), drop=st.booleans(), latin=st.booleans())
def test_random_bad_text_cells_give_a_one_line_error_or_clean_classes(tmp_path, cells, bom,
                                                                       drop, latin):
    from kerazoo.recipes.text_sources import load_csv as load_text_csv

    rows = _reviews()
    for row, column, cell in cells:
        rows[row][column] = cell
    path = tmp_path / "t.csv"
    _write_text_csv(path, rows, bom=bom)
    if latin:  # a stray Latin-1 byte in a UTF-8 file
        path.write_bytes(path.read_bytes().replace(b"review number 3 ", b"review num\xe9ro 3 "))
    try:
        data = load_text_csv(path, drop_bad_rows=drop, **TEXT_OPTIONS)
    except DataError as error:
        assert "\n" not in str(error) and str(error).startswith(str(path))
        return
    assert not {name.lower() for name in data.class_names} & {"nan", "null", "", "none"}


@pytest.mark.tf_only
@pytest.mark.parametrize("init", ["preset:no_such_preset", "run:/no/such/run",
                                  "preset:sentiment_bilstm_embedded"])  # wrong input shape
def test_a_failed_init_writes_nothing(tmp_path, capsys, init):
    run = tmp_path / "run"
    code = main(["train", "image_classification", "--init", init, "--epochs", "1",
                 "--run-dir", str(run)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0, err
    assert list(tmp_path.iterdir()) == []  # no run, no .run.partial/config.yaml to trip a rerun


def test_a_class_without_test_examples_is_undefined_not_zero():
    from kerazoo.recipes.evaluation import classification_report

    labels = np.array([0, 0, 1, 1, 1])  # class "c" has no test example and is never predicted
    probabilities = np.eye(3)[[0, 1, 1, 1, 0]] * 0.9 + 0.1 / 3
    report = classification_report(labels, probabilities, ["a", "b", "c"])
    assert report["recall/c"] is None and report["precision/c"] is None
    assert report["undefined"] == {"c": "no test examples and never predicted"}
    assert "zero_division=np.nan" in report["undefined_policy"]
    assert report["macro_recall"] == pytest.approx((0.5 + 2 / 3) / 2)  # over a and b only
    assert report["macro_precision"] == pytest.approx((0.5 + 2 / 3) / 2)
    import json

    json.dumps(report, allow_nan=False)  # standard JSON: null, never NaN


@pytest.mark.tf_only
def test_finish_rerun_after_a_kill_gives_one_export_and_no_temp_folders(tmp_path, capsys,
                                                                        monkeypatch):
    import pathlib

    run = tmp_path / "run"
    command = ["train", "image_classification", "--epochs", "1", "--run-dir", str(run),
               "--set", "train.steps_per_epoch=2", "--set", "train.precise_bn_batches=0"]
    real_rename = pathlib.Path.rename

    def killed_before_publishing(self, target):  # the kill between export and run-dir renames
        if str(self).endswith(".run.partial"):
            raise KeyboardInterrupt
        return real_rename(self, target)

    monkeypatch.setattr(pathlib.Path, "rename", killed_before_publishing)
    assert main(command) == 130
    monkeypatch.setattr(pathlib.Path, "rename", real_rename)
    partial = tmp_path / ".run.partial"
    assert sorted(p.name for p in (partial / "export").iterdir()) == ["1"]
    (partial / "export" / ".export-killed").mkdir()  # what a kill during an export leaves
    assert main(command) == 0
    assert sorted(p.name for p in (run / "export").iterdir()) == ["1"]
    assert not partial.exists()
    capsys.readouterr()


def _named(name):
    from pathlib import Path

    return lambda path, *args, **kwargs: Path(path).name == name


def _always(*args, **kwargs):
    return True


def _finish_points():
    """``(point, owner, attribute, when)``: every step of ``Trainer.finish`` and of the export
    it makes, in order; a crash is injected at the first call of ``owner.attribute`` for which
    ``when(*args)`` holds."""
    from pathlib import Path

    import keras

    from kerazoo.recipes import evaluation, export, model_card, trainer
    from kerazoo.recipes.classification import ClassificationTask

    return {
        "model.save": (keras.Model, "save", _always),
        "labels.json": (trainer, "atomic_write_json", _named("labels.json")),
        "evaluate": (ClassificationTask, "evaluate", _always),
        "evaluation.json": (trainer, "atomic_write_json", _named("evaluation.json")),
        "training curves": (evaluation, "write_training_curves", _always),
        "model card": (model_card, "write", _always),
        "export hashing": (export, "sha256_file", _always),  # SavedModel written, in its temp
        "export.json": (export, "atomic_write_json", _named("export.json")),
        "export version rename": (Path, "rename",
                                  lambda self, target: Path(target).parent.name == "export"),
        "temp clean-up": (trainer, "remove_stale_temps", _always),
        "run-directory rename": (Path, "rename", lambda self, target: self.name == ".run.partial"),
        "after publishing": (trainer, "headline_line", _always),
    }


FINISH_POINTS = ["model.save", "labels.json", "evaluate", "evaluation.json", "training curves",
                 "model card", "export hashing", "export.json", "export version rename",
                 "temp clean-up", "run-directory rename", "after publishing"]


#: The points CI crashes at (the rest run in `make test-heavy`): one in each stage of finish
#: whose debris differs (a write of the run, the export's temp folder, each of the two renames).
CI_FINISH_POINTS = ("evaluation.json", "export hashing", "export version rename",
                    "run-directory rename")


def _finish_marks(point):
    if point == "export hashing":
        return ()
    return (pytest.mark.slow,) if point in CI_FINISH_POINTS else (pytest.mark.slow,
                                                                   pytest.mark.heavy)


@pytest.mark.tf_only
@pytest.mark.parametrize("point", [pytest.param(point, marks=_finish_marks(point))
                                   for point in FINISH_POINTS])
def test_finish_is_idempotent_after_a_crash_at_each_of_its_points(tmp_path, capsys, monkeypatch,
                                                                   point):
    """A crash (KeyboardInterrupt: the CLI exits 130, nothing after it runs) at each point of
    the finish; what a SIGKILL there would also have left (the clean-up handlers a kill skips:
    ``.export-*`` folders, atomic writes' temp files, a truncated ``model.keras``) is planted;
    the re-run of the same command gives one complete published run with exactly one export
    version and no temp files."""
    import hashlib
    import zipfile

    run, partial = tmp_path / "run", tmp_path / ".run.partial"
    command = ["train", "image_classification", "--epochs", "1", "--run-dir", str(run),
               "--set", "train.steps_per_epoch=2", "--set", "train.precise_bn_batches=0"]
    owner, attribute, when = _finish_points()[point]
    real, fired = getattr(owner, attribute), []

    def crash_once(*args, **kwargs):
        if not fired and when(*args, **kwargs):
            fired.append(point)
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(owner, attribute, crash_once)
        assert main(command) == 130
    assert fired == [point]
    if point == "after publishing":  # published already: the re-run refuses, changing nothing
        assert main(command) == 1
        assert "already holds a finished run" in capsys.readouterr().err
    else:
        (partial / "export" / ".export-kill1234" / "model").mkdir(parents=True)
        (partial / ".evaluation.json.kill1234.tmp").write_text("{")
        (partial / "export" / ".export.json.kill5678.tmp").write_text("{")
        if not (partial / "model.keras").exists():
            (partial / "model.keras").write_bytes(b"PK\x03\x04 truncated")
        assert main(command) == 0
    capsys.readouterr()
    assert not partial.exists()
    assert sorted(p.name for p in (run / "export").iterdir()) == ["1"]
    leftovers = [p for p in run.rglob("*") if p.name.startswith(".export-")
                 or p.name.endswith(".tmp") or p.name.endswith(".partial")]
    assert leftovers == []
    for name in ("config.yaml", "metrics.csv", "labels.json", "evaluation.json", "model_card.md",
                 "training_curves.svg"):
        assert (run / name).is_file(), name
    assert zipfile.is_zipfile(run / "model.keras")
    assert json.loads((run / "evaluation.json").read_text())["num_examples"] > 0
    manifest = json.loads((run / "export" / "1" / "export.json").read_text())
    for name, digest in manifest["files"].items():
        path = run / "export" / "1" / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, name


KILLER = """
import os, signal, sys
from pathlib import Path
from kerazoo.recipes import export, run_dir

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "export hashing":  # the SavedModel is written in its .export-* temp folder
    export.sha256_file = die
else:  # evaluation.json's temp file is written, not yet renamed into place
    real_replace = os.replace
    run_dir.os.replace = lambda a, b: die() if Path(b).name == "evaluation.json" else real_replace(a, b)
from kerazoo.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.tf_only
@pytest.mark.slow
@pytest.mark.multiprocess
@pytest.mark.parametrize("point", ["export hashing", "evaluation.json rename"])
def test_finish_after_a_real_sigkill_publishes_one_clean_run(tmp_path, capsys, point):
    import os
    import subprocess
    import sys

    run, partial = tmp_path / "run", tmp_path / ".run.partial"
    command = ["train", "image_classification", "--epochs", "1", "--run-dir", str(run),
               "--set", "train.steps_per_epoch=2", "--set", "train.precise_bn_batches=0"]
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    killed = subprocess.run([sys.executable, "-c", KILLER, point, *command], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    debris = [p.name for p in partial.rglob(".*") if p.name.startswith(".export-")
              or p.name.endswith(".tmp")]
    assert debris, "the kill left nothing to clean: the test would prove nothing"
    assert main(command) == 0
    capsys.readouterr()
    assert not partial.exists()
    assert sorted(p.name for p in (run / "export").iterdir()) == ["1"]
    assert [p for p in run.rglob(".*") if p.name.startswith(".export-")
            or p.name.endswith(".tmp")] == []
    assert json.loads((run / "evaluation.json").read_text())["num_examples"] > 0


@pytest.mark.tf_only
def test_fine_tuning_from_the_digits_preset_feeds_it_pixels_once_scaled(tmp_path):
    import keras

    from kerazoo import zoo
    from kerazoo.recipes import api
    from kerazoo.recipes.embedded import digits

    config = api.resolve_config("image_classification", overrides=[
        "model.init=preset:simple_cnn_digits", "model.freeze_backbone=true"])
    task = api.get_task("image_classification")(config)
    data = task.prepare_data()
    model = task.build_model(data)
    images = np.asarray(digits.load()["test"][0][:8], "float32")
    backbone = zoo.from_preset("simple_cnn_digits").get_layer("backbone")
    inner = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    features = keras.Model(model.inputs, inner.get_layer("backbone")(model.layers[1].output))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(features(images)),
                               keras.ops.convert_to_numpy(backbone(images)), atol=1e-5)
