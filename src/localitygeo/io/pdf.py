"""Print an HTML page to PDF with headless Chromium (Debian's ``chromium``).

localitygeo has no PDF writer of its own: the HTML report carries an A4
print stylesheet, and Chromium prints it. The browser is found as
``$LOCALITYGEO_CHROMIUM``, else ``chromium`` (or ``chromium-browser``,
``google-chrome``) on ``PATH``, else Debian's ``/usr/bin/chromium``. It runs
headless, with a fresh profile in a temporary folder that is removed
afterwards, no extensions, no first-run or background network tasks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from localitygeo.errors import OutputError

__all__ = ["find_chromium", "html_to_pdf"]

#: Names tried on PATH, in order.
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_DEBIAN = Path("/usr/bin/chromium")
#: Seconds Chromium may take to load and print a report.
TIMEOUT = 180


def find_chromium() -> str | None:
    """Return the Chromium executable to print with, or None when there is none.

    Returns
    -------
    str or None
        ``$LOCALITYGEO_CHROMIUM`` when set (even if it does not exist: the
        caller then reports it missing), else the first of ``chromium``,
        ``chromium-browser``, ``google-chrome`` on ``PATH``, else
        ``/usr/bin/chromium`` if it exists.
    """
    chosen = os.environ.get("LOCALITYGEO_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() and os.access(chosen, os.X_OK) else None
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    return str(_DEBIAN) if _DEBIAN.is_file() else None


def missing_error(path: str | Path) -> OutputError:
    """Return the one-line error for a PDF asked for with no Chromium to print it."""
    where = os.environ.get("LOCALITYGEO_CHROMIUM")
    found = f"LOCALITYGEO_CHROMIUM={where} is not an executable" if where else "none on PATH"
    return OutputError(
        "cannot write a PDF: it is printed with headless Chromium and "
        f"{found}; install Debian's chromium (apt-get install chromium) or set "
        "LOCALITYGEO_CHROMIUM, or write HTML and print it from a browser",
        path=path,
    )


def html_to_pdf(html: str, path: str | Path, *, chromium: str | None = None) -> bytes:
    """Return the PDF Chromium prints from an HTML page (A4 from its stylesheet).

    Parameters
    ----------
    html : str
        A complete page.
    path : str or pathlib.Path
        The PDF it is for, named in errors.
    chromium : str, optional
        The browser (default: :func:`find_chromium`).

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    OutputError
        No Chromium, or it failed or timed out (one line naming ``path``).
    """
    exe = chromium or find_chromium()
    if exe is None:
        raise missing_error(path)
    with tempfile.TemporaryDirectory(prefix="localitygeo-pdf-") as tmp:
        page, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        args = [
            exe,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=10000",
            f"--print-to-pdf={out}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to start as root otherwise
        try:
            run = subprocess.run(
                [*args, page.as_uri()],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise OutputError(
                f"cannot write a PDF: {exe} did not finish printing in {TIMEOUT} s", path=path
            ) from None
        except OSError as exc:
            raise OutputError(
                f"cannot write a PDF: {exe} did not start ({exc.strerror or exc})", path=path
            ) from None
        data = out.read_bytes() if out.is_file() else b""
        if run.returncode != 0 or not data.startswith(b"%PDF"):
            last = next((ln.strip() for ln in reversed(run.stderr.splitlines()) if ln.strip()), "")
            raise OutputError(
                f"cannot write a PDF: {exe} exited with {run.returncode} and printed no PDF"
                + (f" ({last[:200]})" if last else ""),
                path=path,
            )
        return data
