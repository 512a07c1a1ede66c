"""``python -m regloss`` and the ``regloss`` command: the command line (:mod:`regloss.cli`).

Ctrl-C is recorded from the first line here, before the command line's imports (NumPy and the
metrics take a tenth of a second), so that it ends the run with exit status 130 whenever it comes
(:mod:`regloss.cli.interrupt`).
"""


def run() -> int:
    """Run the command line as a process: its exit status."""
    from regloss.cli import interrupt

    interrupt.record()
    try:
        from regloss.cli.main import main

        status = main()
    except KeyboardInterrupt:  # only while the imports run, or if main's handler let one through
        import sys

        print("regloss: interrupted", file=sys.stderr)
        status = 130
    interrupt.ignore()  # the run is over: exit with its status
    return status


if __name__ == "__main__":
    raise SystemExit(run())
