"""Issue 11, item 5: control characters in data never reach the terminal raw.

People read the text format, messages and summaries: there control characters
from data are shown as escapes. Machine formats (JSON) keep the data exact.
"""

from __future__ import annotations

import io
import json
import sys

from hypothesis import given
from hypothesis import strategies as st

from localitygeo.cli._progress import progress_callbacks
from localitygeo.io import terminal as _terminal

from .harness import ANSI, has_control, run_cli
from .set_fixtures import _city_master, city_set, hostile_set

__all__ = ["_city_master", "city_set"]

#: Escape sequences, bell, carriage return, backspace, C1 CSI and a bidi override.
NASTY = ANSI + "\r\x08\x9b2J\u202egnp.exe"


def test_validate_text_escapes_data_and_json_keeps_it(city_set, tmp_path):
    dup = NASTY + "X"  # two small areas share this code: a finding quotes it

    def code(c: str) -> str:
        return dup if c in ("EXA0001", "EXA0002") else c

    key = f"small{NASTY}"
    folder = hostile_set(tmp_path / "set", city_set, code=code, keys=(key, "ward"))
    text = run_cli("validate", folder, inputs=[folder], expect=1)
    assert not has_control(text.stdout) and "\u202e" not in text.stdout
    assert "\\x1b[31mRED" in text.stdout and "\\u202e" in text.stdout
    doc = run_cli("validate", folder, "--format", "json", inputs=[folder], expect=1)
    issues = json.loads(doc.stdout)["issues"]
    assert any(i["layer"] == key and dup in i["codes"] for i in issues)


def test_an_error_line_naming_a_hostile_file_stays_one_clean_line(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    bad = f"wards{ANSI}\n.geojson"
    (folder / "boundaries.toml").write_text(
        f'[layers.ward]\npath = {json.dumps(bad)}\ncode = "code"\n', encoding="utf-8"
    )
    res = run_cli("validate", folder, inputs=[folder])
    assert not has_control(res.stderr.rstrip("\n"))
    assert "\\x1b[31mRED" in res.message and "\\n.geojson" in res.message


def test_summaries_escape_the_proposal_name(city_set, tmp_path):
    proposal = tmp_path / "p.toml"
    text = (city_set / "proposals" / "merge-and-move.toml").read_text(encoding="utf-8")
    first, rest = text.split("\nname = ", 1)
    rest = rest.split("\n", 1)[1]
    proposal.write_text(f"{first}\nname = {json.dumps('Join' + NASTY)}\n{rest}", encoding="utf-8")
    out = tmp_path / "changed"
    res = run_cli("apply", city_set, "--proposal", proposal, "-o", out,
                  inputs=[city_set, proposal], expect=0,
                  outputs=[out, out / "boundaries.gpkg", out / "boundaries.toml"])  # fmt: skip
    assert not has_control(res.stdout.rstrip("\n")) and "\u202e" not in res.stdout
    assert "Join\\x1b[31mRED" in res.stdout


def test_progress_messages_are_plain_escaped_text(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    with progress_callbacks() as (step, fraction):
        step(f"reading [bold]{ANSI}[/bold]")
        fraction(1, 2)
    shown = err.getvalue()
    assert "\\x1b[31mRED" in shown and "[bold]" in shown
    assert "\x07" not in shown


_UNSAFE = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\n\t"]


@given(st.text())
def test_clean_leaves_no_control_character(text):
    one_line = _terminal.clean(text)
    assert not any(c in one_line for c in [*_UNSAFE, "\n", "\t", "\u202e", "\u2066"])
    lines = _terminal.clean(text, lines=True)
    assert not any(c in lines for c in _UNSAFE)
    assert lines.count("\n") == text.count("\n")


def test_clean_shows_what_it_escapes():
    assert _terminal.clean("a\x1b[2Jb\r\u202ec\n\t") == "a\\x1b[2Jb\\r\\u202ec\\n\\t"


def test_warnings_are_one_clean_line(monkeypatch, capsys):
    import warnings

    import click

    from localitygeo import cli
    from localitygeo.errors import warn

    @click.command()
    def noisy() -> None:
        warn(f"codes {ANSI} and\nmore are not in the layer")
        warnings.warn("a library's own warning\x07", UserWarning, stacklevel=1)

    monkeypatch.setitem(cli._COMMANDS, "noisy", f"{__name__}:NOISY")
    monkeypatch.setitem(globals(), "NOISY", noisy)
    assert cli.main(["noisy"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "localitygeo: warning: codes \\x1b[31mRED\\x1b[0m\\x07PWNED and\\nmore are not in "
        "the layer",
        "localitygeo: warning: UserWarning: a library's own warning\\x07",
    ]
