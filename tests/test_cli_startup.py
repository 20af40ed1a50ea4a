"""The first minutes with the `kerazoo` command: fast answers without TensorFlow, a quiet stderr,
one-line errors for what a user can fix, tracebacks for what they cannot."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kerazoo.cli import known_error_message, main
from kerazoo.quiet import is_tf_log_line, quiet_stderr, should_filter


def _env(**extra: str) -> dict[str, str]:
    """The test session's environment minus its TF_CPP_MIN_LOG_LEVEL (that turns the filter off)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(extra)
    return env


NO_TF_COMMANDS = [
    ["--help"],
    ["list"],
    ["list", "models", "resnet*"],
    ["list", "presets"],
    ["list", "resnet*"],
    ["info", "resnet20"],
    ["info", "simple_cnn_digits"],
    ["info", "no-such-name"],
]


@pytest.mark.parametrize("argv", NO_TF_COMMANDS, ids=" ".join)
def test_catalog_commands_do_not_import_tensorflow(argv):
    code = (
        "import sys\nfrom kerazoo.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=_env())
    assert result.stdout.strip().splitlines()[-1] == "HEAVY []", result.stdout + result.stderr


def test_info_of_an_unknown_name_is_exactly_one_stderr_line():
    result = subprocess.run([sys.executable, "-m", "kerazoo", "info", "no-such-name"],
                            capture_output=True, text=True, timeout=60, env=_env())
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "kerazoo: error: No layer, model, preset, recipe or other kerazoo object is named "
        "'no-such-name'."
    ]


def test_is_tf_log_line_knows_tensorflow_records_and_nothing_else():
    assert is_tf_log_line("I0000 00:00:1796215726.540356    6200 port.cc:153] oneDNN custom ops")
    assert is_tf_log_line("W1202 12:01:02.123456   77 generator_dataset_op.cc:108] Error")
    assert is_tf_log_line("E0000 00:00:1796215839.215776 7497 cuda_platform.cc:52] failed call")
    assert is_tf_log_line("2026-12-02 12:00:00.123456: I tensorflow/core/dataset.cc:42] x")
    assert is_tf_log_line("WARNING: All log messages before absl::InitializeLog() is called are")
    assert is_tf_log_line("To enable the following instructions: AVX2 FMA, in other operations")
    for kept in ("kerazoo: error: bad", "Epoch 1/1", "INFO kerazoo.recipes: step 10",
                 "Traceback (most recent call last):", "I like this line", ""):
        assert not is_tf_log_line(kept), kept


@pytest.mark.tf_only
def test_quiet_stderr_drops_tensorflow_import_lines_and_keeps_the_rest():
    code = (
        "import sys\nfrom kerazoo.quiet import quiet_stderr\n"
        "with quiet_stderr():\n"
        "    import tensorflow as tf\n"
        "    tf.constant(1.0) + 1\n"
        "    print('kept line', file=sys.stderr)\n"
        "    sys.stderr.write('progress 1/2\\r')\n"
        "print('after', file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120,
                            env=_env())
    assert result.returncode == 0, result.stderr
    assert result.stderr == b"kept line\nprogress 1/2\rafter\n"


def test_debug_or_a_user_log_level_turns_the_filter_off():
    assert should_filter(debug=False, environ={})
    assert not should_filter(debug=True, environ={})
    assert not should_filter(debug=False, environ={"TF_CPP_MIN_LOG_LEVEL": "0"})


def test_quiet_stderr_restores_descriptor_2(capfd):
    with quiet_stderr():
        os.write(2, b"I0000 00:00:1.5   1 port.cc:153] noise\nsignal\n")
    os.write(2, b"I0000 00:00:1.5   1 port.cc:153] passes once restored\n")
    err = capfd.readouterr().err
    assert err == "signal\nI0000 00:00:1.5   1 port.cc:153] passes once restored\n"


def test_known_errors_are_one_line_and_bugs_keep_their_traceback(monkeypatch, capsys):
    from kerazoo.cli import catalog

    def refuse(args):
        raise ValueError("Requested the deserialization of a `Lambda` layer ... pass "
                         "`safe_mode=False` to the loading function")

    monkeypatch.setattr(catalog, "run_list", refuse)
    assert main(["list"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("kerazoo: error: the model contains a Lambda layer")

    assert main(["--debug", "list"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith("kerazoo: error:")

    def bug(args):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(catalog, "run_list", bug)
    with pytest.raises(ZeroDivisionError):
        main(["list"])


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (FileNotFoundError(2, "No such file or directory", "cfg.yaml"),
         "No such file or directory: 'cfg.yaml'"),
        (OSError(98, "Address already in use"), "Address already in use"),
        (ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib"),
         "this needs the optional package 'matplotlib': pip install \"kerazoo[plots]\""),
        (ModuleNotFoundError("No module named 'kerazoo.nope'", name="kerazoo.nope"), None),
        (ValueError("could not broadcast"), None),
        (KeyError("x"), None),
    ],
)
def test_known_error_message(error, expected):
    assert known_error_message(error) == expected


@pytest.mark.slow
@pytest.mark.tf_only
def test_training_one_tiny_epoch_prints_no_tensorflow_log_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "kerazoo", "train", "image_classification", "--data", "digits",
         "--model", "simple_cnn", "--epochs", "1", "--strategy", "cpu", "--no-export",
         "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout.splitlines() + result.stderr.splitlines()
    noisy = [line for line in output if is_tf_log_line(line) or "absl" in line
             or ".cc:" in line or "oneDNN" in line]
    assert noisy == [], noisy
