"""Issue 11, item 4: a mistyped command line is exit 2 and one line, like any failure.

Click prints usage errors over three or four lines (usage, a hint, a blank
line, the error). Scripts and CI logs read the first line of stderr, so every
usage error is one line that names the mistake and where help is.
"""

from __future__ import annotations

import pytest

from .harness import ANSI, REPO, has_control, run_cli

CITY = REPO / "boundaries" / "example-city"


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("validate",), ("Missing argument", "localitygeo validate --help")),
        (("validate", CITY, "--no-such-option"), ("--no-such-option",)),
        (("validate", CITY, "--format", "yaml"), ("yaml", "--format")),
        (("lookup", "a.geojson"), ("Missing argument",)),
        (("map", CITY, "--from", "small_area", "-o", "m.html"), ("--from needs --indicator",)),
        (("no-such-command",), ("no-such-command", "localitygeo --help")),
    ],
)
def test_usage_errors_are_one_line_naming_the_mistake(tmp_path, args, names):
    run_cli(*args, cwd=tmp_path, watch=[tmp_path], names=names)


def test_usage_error_text_from_the_command_line_reaches_the_terminal_escaped(tmp_path):
    res = run_cli("validate", CITY, "--format", ANSI, cwd=tmp_path, watch=[tmp_path])
    assert not has_control(res.stderr) and "\\x1b[31mRED" in res.stderr


def test_command_line_bytes_that_are_not_utf8_are_one_line_and_write_nothing(tmp_path):
    # Python keeps such bytes as lone surrogates, which no UTF-8 file can hold.
    out = tmp_path / "map.html"
    run_cli("map", CITY, "--title", "Plymouth \udcff", "-o", out, names=["map.html", "\\udcff"])
    assert not out.exists()


def test_toml_refuses_lone_surrogates_with_a_project_error():
    from localitygeo.errors import OutputError
    from localitygeo.io import toml_write as _toml

    with pytest.raises(OutputError, match="not valid Unicode"):
        _toml.string("name \ud800")


def test_ctrl_c_before_the_signal_handlers_are_installed_is_exit_130(monkeypatch, capsys):
    import localitygeo.cli._signals as signals
    from localitygeo.cli import main

    def interrupted(work):
        raise KeyboardInterrupt  # as if Ctrl-C came while the command was imported

    monkeypatch.setattr(signals, "run_interruptible", interrupted)
    assert main(["validate", str(CITY)]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "localitygeo: interrupted; nothing was written"
