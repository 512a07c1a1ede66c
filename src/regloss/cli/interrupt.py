"""Ctrl-C (SIGINT) in the command line: the run ends with exit status 130, and no output file is
replaced or left half-written.

Python's own handler raises ``KeyboardInterrupt`` at whatever the program is doing, and code that
cannot pass an exception on loses it: a C extension reports it as "Exception ignored" and goes on,
a broad ``except`` catches it, a library's own handler takes the signal (issue 20 saw Ctrl-C lost
in pyarrow's lazy ``import pandas`` inside ``to_numpy()``; the run then completed and replaced
``--output``). So the command line never relies on the exception alone:

- :func:`handling` installs a handler that *records* the signal, then raises ``KeyboardInterrupt``
  once (once: the clean-up and the message that follow run undisturbed); an unraisable
  ``KeyboardInterrupt`` (``sys.unraisablehook``) is recorded silently, without its traceback;
- :func:`check` raises ``KeyboardInterrupt`` whenever a signal was recorded: the engine calls it
  for every chunk of rows, and the outputs are moved into place only after it;
- :func:`deferred` is a block during which a signal is only recorded (creating a temporary file,
  so that none is left behind), acted upon at its end;
- :func:`deliver` is the point of no return: a signal recorded until then ends the run, a later one
  is only recorded (the outputs are moved into place and the run completes with status 0), so that
  exit status 130 always means that no output was replaced;
- :func:`record` installs the recording handler alone, from the first line of ``python -m
  regloss``, so that Ctrl-C during the imports is not lost either;
- :func:`claim_from_libraries` keeps pyarrow from replacing the handler during its long
  operations (its own handler cancels a CSV read, and the reader then falls back to another
  parser: the interrupt could be lost there too).

A ``KeyboardInterrupt`` that passes through code run by ``eval``/``exec`` of a string (a
``namedtuple`` or a ``dataclass`` being created while a module is imported) makes CPython end the
process with SIGINT at exit, whatever the exit status (``Py_RunMain`` keeps a flag), so a process
that saw Ctrl-C ends with ``os._exit`` (:func:`exit_process`), after flushing stdout and stderr.

This module imports nothing of regloss and no third-party library.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

_state = {"received": False, "raising": False, "signalled": False}


def _handler(signum, frame) -> None:
    _state["received"] = _state["signalled"] = True
    if _state["raising"]:
        _state["raising"] = False
        raise KeyboardInterrupt


def _unraisable(previous):
    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            # swallowed by the code it interrupted: acted upon at the next check()
            _state["received"] = _state["signalled"] = True
            return
        previous(unraisable)

    return hook


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def record(pressed: bool = False) -> None:
    """Record Ctrl-C from now on without raising (until :func:`handling` takes over); ``pressed``:
    it was pressed already (seen by an earlier handler)."""
    if _in_main_thread():
        signal.signal(signal.SIGINT, _handler)
    if pressed:
        _state["received"] = _state["signalled"] = True


def ignore() -> None:
    """Ignore Ctrl-C from now on: the run is over, the process exits with its status."""
    if _in_main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def signalled() -> bool:
    """Whether Ctrl-C was pressed at any time since :func:`record` or :func:`handling`."""
    return _state["signalled"]


def claim_from_libraries() -> None:
    """Keep the libraries imported so far from installing their own SIGINT handler (pyarrow does,
    around a CSV read, unless told not to)."""
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and hasattr(pyarrow, "enable_signal_handlers"):
        pyarrow.enable_signal_handlers(False)


def exit_process(status: int):
    """End the process with ``status`` by ``os._exit`` after flushing stdout and stderr.

    The run is over: its outputs are written and closed (or removed), a Dask client closed. Ending
    without the interpreter's finalization keeps native thread pools (numba's TBB layer, pyarrow's
    CSV threads) from being torn down under it: once in CI, on a loaded machine, an error exit after
    a large CSV ended in ``terminate called without an active exception`` (SIGABRT, status -6)
    instead of status 2. After Ctrl-C it also keeps CPython from ending the process with SIGINT and
    worker threads still running from holding it."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def received() -> bool:
    """Whether Ctrl-C was pressed (during :func:`handling`, or since :func:`record`)."""
    return _state["received"]


def check() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed (even if its exception was swallowed)."""
    if _state["received"]:
        _state["raising"] = False
        raise KeyboardInterrupt


@contextlib.contextmanager
def handling():
    """Ctrl-C raises ``KeyboardInterrupt`` (once) and is recorded for :func:`check`; the previous
    handler and unraisable hook are restored at the end (a signal recorded by :func:`record`
    before is kept)."""
    if not _in_main_thread():  # signal handlers belong to the main thread: leave Python's own
        yield
        return
    previous_handler = signal.signal(signal.SIGINT, _handler)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(previous_hook)
    _state["raising"] = True
    try:
        yield
    finally:
        _state["raising"] = False
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGINT, previous_handler)
        _state["received"] = False


@contextlib.contextmanager
def deferred():
    """Ctrl-C inside the block is only recorded, and acted upon (:func:`check`) when it ends."""
    raising, _state["raising"] = _state["raising"], False
    try:
        yield
    finally:
        _state["raising"] = raising
    check()


def deliver() -> None:
    """The point of no return, just before the outputs are moved into place: Ctrl-C pressed
    until now ends the run (``KeyboardInterrupt``); pressed from now on, it is only recorded and
    the run completes with its own status."""
    _state["raising"] = False
    check()
