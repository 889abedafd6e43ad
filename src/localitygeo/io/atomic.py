"""Write outputs atomically, and never leave a temporary file behind.

Every output is written first to a hidden temporary beside its destination,
named ``.<name>~lg<pid>-<random><suffix>``, and moved into place only when it
is complete, so a reader never sees half a file. Live temporaries are
registered here; :func:`abort` (called by the command line's signal handler)
removes them all and refuses any further write or move into place, so an
interrupted command writes nothing.

A process killed outright (SIGKILL, a power cut) cannot clean up. Its
temporaries carry its process id, and the next write into the same folder
removes those whose process no longer exists (:func:`sweep`).

Failures to write (a missing or read-only folder, a full disk, a file too
large) become :class:`~localitygeo.errors.OutputError` naming the destination,
not the temporary.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from localitygeo.errors import OutputError

__all__ = [
    "abort",
    "atomic_files",
    "atomic_folder",
    "atomic_path",
    "sweep",
    "write_bytes_atomic",
    "write_text_atomic",
]

#: ``.<name>~lg<pid>-[old-]<random>...``: what every temporary is called.
_TEMP = re.compile(r"^\.(?P<name>.+)~lg(?P<pid>\d+)-(?P<old>old-)?[a-z0-9_]{8}")
_LOCK = threading.RLock()
_LIVE: dict[Path, None] = {}  # an ordered set of this process's temporaries
_aborted = False


def _prefix(dest: Path, old: bool = False) -> str:
    return f".{dest.name}~lg{os.getpid()}-{'old-' if old else ''}"


def _remove(path: Path) -> None:
    """Remove a temporary file or folder and any sidecar of it (``-journal``...)."""
    folder = path.parent
    try:
        names = [n for n in os.listdir(folder) if n.startswith(path.name)]
    except OSError:
        return
    for name in names:
        p = folder / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()


def _discard(path: Path) -> None:
    with _LOCK:
        _remove(path)
        _LIVE.pop(path, None)


def _reserve(dest: Path, suffix: str, *, folder: bool = False, old: bool = False) -> Path:
    """Return a new temporary name beside ``dest``, registered for removal."""
    with _LOCK:
        if _aborted:
            raise OutputError("interrupted; nothing was written", path=dest)
        where = dest.parent
        try:
            if folder:
                tmp = Path(tempfile.mkdtemp(prefix=_prefix(dest, old), dir=where))
                if old:
                    tmp.rmdir()  # the old folder is moved here
                else:  # mkdtemp makes it 0700: give it the user's usual permissions
                    os.chmod(tmp, 0o777 & ~_umask())
            else:
                fd, name = tempfile.mkstemp(prefix=_prefix(dest), suffix=suffix, dir=where)
                os.close(fd)
                tmp = Path(name)
                tmp.unlink()  # writers such as GDAL want to create the file themselves
        except OSError as exc:
            raise _output_error(exc, dest) from exc
        _LIVE[tmp] = None
        return tmp


def _umask() -> int:
    """Return the process's umask (reading it means setting it; done under the lock)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # Windows: os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def sweep(folder: str | Path) -> None:
    """Remove temporaries left in ``folder`` by processes that no longer exist.

    A temporary of a killed process is removed; the old copy of a folder that
    was being replaced when the process died is put back if the new one never
    arrived. Temporaries of running processes are left alone.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = _TEMP.match(name)
        if m is None or _pid_alive(int(m["pid"])):
            continue
        path = Path(folder) / name
        dest = Path(folder) / m["name"]
        if m["old"] and not os.path.lexists(dest):
            with contextlib.suppress(OSError):
                os.replace(path, dest)
                continue
        _remove(path)


def abort() -> None:
    """Remove every live temporary and refuse further writes (for signal handlers)."""
    global _aborted
    with _LOCK:
        _aborted = True
        for path in list(_LIVE):
            _remove(path)
        _LIVE.clear()


def _output_error(exc: BaseException, dest: Path) -> OutputError:
    if isinstance(exc, OutputError):
        return exc
    if isinstance(exc, FileNotFoundError) and not dest.parent.exists():
        return OutputError("cannot write: its folder does not exist", path=dest)
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    else:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    return OutputError(f"cannot write: {reason}", path=dest)


def _is_write_error(exc: BaseException) -> bool:
    """Return whether ``exc`` reports a failed write (rather than a bug)."""
    if isinstance(exc, OSError):
        return True
    return type(exc).__module__.split(".")[0] in {"pyogrio", "fiona"}


@contextlib.contextmanager
def _write_errors(dest: Path) -> Iterator[None]:
    """Turn a failed write (not a bug) into an OutputError naming ``dest``."""
    try:
        yield
    except Exception as exc:
        if not _is_write_error(exc):
            raise
        raise _output_error(exc, dest) from exc


def _commit(tmp: Path, dest: Path) -> None:
    with _LOCK:
        if _aborted:
            raise OutputError("interrupted; nothing was written", path=dest)
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            raise _output_error(exc, dest) from exc
        _LIVE.pop(tmp, None)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success.

    Parameters
    ----------
    path : str or pathlib.Path
        The final destination. Its folder must exist.
    suffix : str, optional
        Suffix of the temporary file (default: that of ``path``, so that
        writers choosing a format by extension still work).

    Yields
    ------
    pathlib.Path
        Where to write. On an exception (or :func:`abort`) it is removed and
        ``path`` is left as it was.

    Raises
    ------
    OutputError
        The folder is missing or cannot be written, or the write failed (disk
        full, file too large); the message names ``path``.
    """
    dest = Path(path)
    sweep(dest.parent)
    tmp = _reserve(dest, suffix if suffix is not None else dest.suffix)
    try:
        with _write_errors(dest):
            yield tmp
        _commit(tmp, dest)
    finally:
        _discard(tmp)


@contextlib.contextmanager
def atomic_files(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Yield temporary paths beside ``paths``; move them all into place on success.

    Like :func:`atomic_path` for several files that belong together: they are
    moved into place at the end, together, so an interrupted run (or a failed
    write of any one) leaves every destination as it was.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        The destinations (their folders must exist).

    Yields
    ------
    list of pathlib.Path
        Where to write each, in order.
    """
    dests = [Path(p) for p in paths]
    for folder in dict.fromkeys(d.parent for d in dests):
        sweep(folder)
    tmps: list[Path] = []
    try:
        for d in dests:
            tmps.append(_reserve(d, d.suffix))
        with _write_errors(dests[0].parent if dests else Path(".")):
            yield tmps
        with _LOCK:  # a signal handler waits for all of them or none
            for tmp, d in zip(tmps, dests, strict=True):
                _commit(tmp, d)
    finally:
        for tmp in tmps:
            _discard(tmp)


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; move it into place on success.

    Parameters
    ----------
    path : str or pathlib.Path
        The folder to create (its parents are created if missing).
    replace : bool, default False
        Replace ``path`` if it exists (the old folder is removed only once the
        new one is in place).

    Yields
    ------
    pathlib.Path
        An empty folder to fill. On an exception (or :func:`abort`) it is
        removed and ``path`` is left as it was.

    Raises
    ------
    OutputError
        ``path`` exists (without ``replace``), or it cannot be written.
    """
    dest = Path(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(exc, dest) from exc
    sweep(dest.parent)
    tmp = _reserve(dest, "", folder=True)
    old: Path | None = None
    try:
        with _write_errors(dest):
            yield tmp
        with _LOCK:
            if os.path.lexists(dest):
                if not replace:
                    raise OutputError("exists; choose another folder or overwrite", path=dest)
                old = _reserve(dest, "", folder=True, old=True)
                os.replace(dest, old)
                try:
                    _commit(tmp, dest)
                except BaseException:
                    os.replace(old, dest)
                    raise
            else:
                _commit(tmp, dest)
        if old is not None:
            _discard(old)
    finally:
        _discard(tmp)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically and return the path.

    Raises
    ------
    OutputError
        ``text`` holds a lone surrogate (how Python keeps command-line bytes
        that are not UTF-8), which no UTF-8 file can hold; nothing is written.
    """
    return write_bytes_atomic(path, utf8(text, path))


def utf8(text: str, path: str | Path | None = None) -> bytes:
    """Return ``text`` as UTF-8, or raise :class:`OutputError` naming ``path``."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise OutputError(not_unicode(exc), path=path) from None


def not_unicode(exc: UnicodeError) -> str:
    """Return the one-line message for text that cannot be encoded as UTF-8."""
    bad = ""
    if isinstance(exc, UnicodeEncodeError):
        bad = exc.object[exc.start : exc.end].encode("utf-8", "backslashreplace").decode()
    return (
        f"cannot write text holding {bad or 'characters'} that is not valid Unicode"
        " (bytes that are not UTF-8 in a command-line argument or a name?)"
    )
