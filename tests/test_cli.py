"""The `kerazoo` command: list, info, help, error handling and exit codes."""

import json
import subprocess
import sys

import pytest

from kerazoo.cli import main
from kerazoo.registry import KINDS, registry


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "list" in out and "info" in out


@pytest.mark.parametrize("command", ["list", "info"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: kerazoo" in capsys.readouterr().out


def test_list_everything_and_json(capsys):
    assert main(["list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    from kerazoo import zoo

    # Every registered name, and the shipped presets (a kind of their own in `list`).
    expected = sum(len(registry(kind)) for kind in KINDS) + len(zoo.list_presets())
    assert len(listed) == expected
    assert all({"name", "kind", "summary", "metadata"} <= set(item) for item in listed)


def test_list_unknown_kind_with_pattern_is_one_line_error(capsys):
    assert main(["list", "modles", "res*"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "Unknown kind 'modles'" in err and "models" in err


def test_list_pattern_without_kind_searches_everything(capsys):
    assert main(["list", "zzz_nothing*"]) == 0
    assert "No names match 'zzz_nothing*' in any kind." in capsys.readouterr().out


def test_info_unknown_name_is_one_line_error_without_traceback(capsys):
    assert main(["info", "no_such_thing_anywhere"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("kerazoo: error: ")
    assert "Traceback" not in captured.err


def test_info_prints_card_of_a_registered_name(capsys):
    names = [name for kind in KINDS for name in registry(kind).list()]
    if not names:
        pytest.fail("nothing is registered: the plugin and zoo packages registered no names")
    assert main(["info", names[0]]) == 0
    out = capsys.readouterr().out
    assert names[0] in out and "object:" in out


def test_python_dash_m_and_console_script():
    for command in ([sys.executable, "-m", "kerazoo", "--help"],):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "usage: kerazoo" in result.stdout
    # A usage error exits 2 (argparse) with a one-line reason.
    result = subprocess.run([sys.executable, "-m", "kerazoo", "bogus"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "invalid choice" in result.stderr
