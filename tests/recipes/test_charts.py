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
