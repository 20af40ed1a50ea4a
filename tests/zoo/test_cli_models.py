"""`kerazoo list models` and `kerazoo info` show the zoo's metadata."""

from kerazoo.cli import main


def test_list_models_shows_task_family_and_params(capsys):
    assert main(["list", "models", "resnet2*"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["NAME", "TASK", "FAMILY", "PARAMS"]
    row = next(line for line in out if line.startswith("resnet20 "))
    assert "image_classification" in row and "resnet_cifar" in row and "271,098" in row


def test_info_shows_a_model_card(capsys):
    assert main(["info", "resnet20"]) == 0
    out = capsys.readouterr().out
    for text in ("task: image_classification", "params: 271,098 (paper: 0.27M)",
                 "input: (32, 32, 3) float32", "output: logits over 10 classes",
                 "kerazoo.zoo.build('resnet20'"):
        assert text in out


def test_info_of_a_forecaster(capsys):
    assert main(["info", "dlinear"]) == 0
    out = capsys.readouterr().out
    assert "horizon: 24" in out and "num_classes" not in out


def test_list_presets_shows_model_task_and_metric(capsys):
    assert main(["list", "presets"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["NAME", "MODEL", "TASK", "METRIC"]
    row = next(line for line in out if line.startswith("simple_cnn_digits "))
    assert "simple_cnn" in row and "image_classification" in row and "test_accuracy=" in row


def test_info_shows_a_preset_card(capsys):
    from kerazoo.checksums import sha256_file
    from kerazoo.zoo.presets import SHIPPED_DIR

    assert main(["info", "simple_cnn_digits"]) == 0
    out = capsys.readouterr().out
    digest = sha256_file(SHIPPED_DIR / "simple_cnn_digits" / "model.weights.h5")
    for text in ("(preset)", "task: image_classification", "data: ", "metrics: test_accuracy=",
                 "input: (8, 8, 1)", "preprocessing: ", "size: ", f"sha256: {digest}",
                 "kerazoo.zoo.from_preset('simple_cnn_digits')"):
        assert text in out, text


def test_list_uses_thousands_separators(capsys):
    assert main(["list", "models", "nlinear"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert row.split()[3] == "2,328", row
