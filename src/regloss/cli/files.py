"""Output files written completely or not at all: each is written to a temporary file in its
directory first, and moved onto its name with ``os.replace`` (atomic) only once every output of
the command has been written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

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
    """Move every written file onto its name (the temporary files of any not moved are removed)."""
    try:
        for file in staged:
            file.commit()
    finally:
        for file in staged:
            file.discard()
