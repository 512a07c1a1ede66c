"""``python -m regloss``: the ``regloss`` command line (:mod:`regloss.cli`)."""

if __name__ == "__main__":
    from regloss.cli.main import main

    raise SystemExit(main())
