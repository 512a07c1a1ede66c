"""Output files written completely or not at all: each is written to a temporary file in its
directory first, and moved onto its name with ``os.replace`` (atomic) only once every output of
the command has been written. An output that is one of the inputs, or another output, is refused
before any work (:func:`check_distinct`): files are compared by identity (device and inode), so
that symbolic and hard links to an input are caught too.

Creating, writing and moving the files happens with Ctrl-C deferred (:mod:`.interrupt`): an
interrupt leaves no temporary file behind and replaces no file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from . import interrupt
from .errors import CliError


def check_destination(path: str | os.PathLike, flag: str) -> Path:
    """A CliError, before any work, when ``path`` cannot be written: its directory does not exist,
    or it is a directory itself."""
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise CliError(f"cannot write {flag} {path}: the directory {parent} does not exist")
    if path.is_dir():
        raise CliError(f"cannot write {flag} {path}: it is a directory")
    return path


def _identity(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(device, inode)`` of the file ``path`` names, links followed (None when there is none)."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino


def _place(path: Path) -> tuple:
    """What a destination names: the file's identity when it exists, else its directory's identity
    and its name (so that ``r.png``, ``./r.png`` and ``d/../r.png`` are one place)."""
    identity = _identity(path)
    if identity is not None:
        return identity
    return (_identity(path.parent), path.name)


def check_distinct(destinations: dict[str, Path], inputs: Sequence[str | os.PathLike]) -> None:
    """A CliError, before any work, when a destination (``{flag: path}``) is one of the ``inputs``
    or two destinations are the same file: writing there would destroy the input or one output.

    Files are the same when ``os.stat`` gives the same ``(st_dev, st_ino)``: the same name, a
    symbolic link to it or a hard link. Inputs that do not exist are left to the readers."""
    found_inputs = {}
    for name in inputs:
        identity = _identity(name)
        if identity is not None:
            found_inputs.setdefault(identity, name)
    for flag, path in destinations.items():
        source = found_inputs.get(_identity(path))
        if source is not None:
            same = "" if str(source) == str(path) else f" (the same file as the input {source})"
            raise CliError(
                f"{flag} {path} is an input file{same}: writing it would destroy the input; "
                f"choose another {flag} file"
            )
    places: dict[tuple, str] = {}
    for flag, path in destinations.items():
        place = _place(path)
        if place in places:
            raise CliError(f"{places[place]} and {flag} name the same file {path}: give them different files")
        places[place] = flag


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class StagedFile:
    """An output file being written: :meth:`write` fills a temporary file next to ``path``,
    :meth:`commit` moves it onto ``path``, :meth:`discard` removes it."""

    def __init__(self, path: str | os.PathLike, flag: str):
        self.path = Path(path)
        self.flag = flag
        self._temporary: str | None = None

    def _error(self, error: OSError) -> CliError:
        return CliError(f"cannot write {self.flag} {self.path}: {error.strerror or error}")

    def write(self, writer: Callable[[str], None]) -> None:
        """Call ``writer(temporary_path)``; on failure nothing is left behind."""
        try:
            with interrupt.deferred():  # Ctrl-C between creating the file and knowing its name
                handle, self._temporary = tempfile.mkstemp(
                    prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
                )
                os.close(handle)
            writer(self._temporary)
            os.chmod(self._temporary, 0o666 & ~_umask())  # as a new file would be, not mkstemp's 0600
        except OSError as error:
            self.discard()
            raise self._error(error) from error
        except BaseException:
            self.discard()
            raise

    def write_text(self, text: str) -> None:
        def writer(temporary: str) -> None:
            with open(temporary, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)

        self.write(writer)

    def commit(self) -> None:
        if self._temporary is None:
            raise RuntimeError("commit() before write()")
        try:
            os.replace(self._temporary, self.path)
        except OSError as error:
            self.discard()
            raise self._error(error) from error
        self._temporary = None

    def discard(self) -> None:
        if self._temporary is not None:
            with contextlib.suppress(OSError):
                os.remove(self._temporary)
            self._temporary = None


def commit_all(staged: Sequence[StagedFile]) -> None:
    """Move every written file onto its name (the temporary files of any not moved are removed),
    unless Ctrl-C was pressed before (``KeyboardInterrupt``, nothing moved): see
    :func:`.interrupt.deliver`."""
    try:
        interrupt.deliver()
        for file in staged:
            file.commit()
    finally:
        for file in staged:
            file.discard()
