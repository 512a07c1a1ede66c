"""``python -m regloss`` and the ``regloss`` command: the command line (:mod:`regloss.cli`).

Ctrl-C is recorded from the first line here, before any import (NumPy and the metrics take a tenth
of a second, more on a busy machine), so that it ends the run with exit status 130 whenever it
comes (:mod:`regloss.cli.interrupt`). Only the interpreter's own start comes before.
"""

import _signal  # built in: installing the first handler costs no import

_pressed = []


def _record_early(signum, frame) -> None:
    _pressed.append(signum)


def run() -> None:
    """Run the command line as a process, and end it with its exit status."""
    _signal.signal(_signal.SIGINT, _record_early)
    from regloss.cli import interrupt

    interrupt.record(pressed=bool(_pressed))
    try:
        from regloss.cli.main import main

        status = main()
    except KeyboardInterrupt:  # only if main's handler let one through
        import sys

        print("regloss: interrupted", file=sys.stderr)
        status = 130
    interrupt.ignore()  # the run is over: exit with its status
    interrupt.exit_process(status)


if __name__ == "__main__":
    _signal.signal(_signal.SIGINT, _record_early)
    run()
