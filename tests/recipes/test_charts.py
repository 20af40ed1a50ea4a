"""A run's charts: standalone SVG files written without a plotting library."""

import xml.etree.ElementTree as ElementTree

import numpy as np

SVG = "{http://www.w3.org/2000/svg}svg"


def test_training_curves_and_confusion_matrix_are_well_formed_svg(tmp_path):
    from kerazoo.recipes import evaluation

    metrics = tmp_path / "metrics.csv"
    metrics.write_text("epoch,step,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
                       "1,3,0.9,0.5,1.0,0.4,0.003,1.0\n2,6,0.5,0.7,,,0.003,1.0\n")
    evaluation.write_training_curves(metrics, tmp_path / "training_curves.svg")
    root = ElementTree.parse(tmp_path / "training_curves.svg").getroot()
    charts = root.findall(SVG)
    assert root.tag == SVG and len(charts) == 2  # losses, then accuracy
    names = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(names)
    assert float(charts[1].get("x")) == float(charts[0].get("width"))  # side by side

    evaluation.write_confusion_matrix(np.array([[5, 1], [0, 7]]), ["cat", "dog & co"],
                                      tmp_path / "confusion_matrix.svg")
    root = ElementTree.parse(tmp_path / "confusion_matrix.svg").getroot()
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "dog & co" in texts and "7" in texts
    assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) == 4


def test_no_rows_no_file(tmp_path):
    from kerazoo.recipes import evaluation

    (tmp_path / "metrics.csv").write_text("epoch,loss\n")
    evaluation.write_training_curves(tmp_path / "metrics.csv", tmp_path / "curves.svg")
    evaluation.write_training_curves(tmp_path / "missing.csv", tmp_path / "curves.svg")
    assert not (tmp_path / "curves.svg").exists()


def test_forecast_plot_has_one_chart_per_window_with_its_interval(tmp_path):
    from kerazoo.recipes.series_evaluation import plot_forecasts

    rng = np.random.default_rng(0)
    inputs, truth = rng.normal(size=(10, 12, 1)), rng.normal(size=(10, 4, 1))
    outputs = np.sort(rng.normal(size=(10, 4, 1, 3)), axis=-1)  # quantiles 0.1, 0.5, 0.9
    path = plot_forecasts(tmp_path / "forecast_plot.svg", inputs, truth, outputs,
                          target_names=["co2"], quantiles=(0.1, 0.5, 0.9))
    root = ElementTree.parse(path).getroot()
    charts = root.findall(SVG)
    assert len(charts) == 3 and {c.get("x") for c in charts} == {"0"}  # stacked
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polygon"))) == 3
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "0.1-0.9 interval" in texts and any(t.endswith(": co2") for t in texts)
