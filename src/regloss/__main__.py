"""``python -m regloss``: the ``regloss`` command line (:mod:`regloss.cli`)."""

from regloss.cli.main import main

raise SystemExit(main())
