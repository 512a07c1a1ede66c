"""The one exception the command line turns into ``regloss: error: ...`` and exit status 2."""

from __future__ import annotations


class CliError(Exception):
    """Bad input or usage: the message is printed as one line, without a traceback."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))  # one line, whatever the message was built from

    @property
    def message(self) -> str:
        return str(self.args[0])


def short_repr(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut after ``limit`` characters (a name or value taken from a file, so that a
    message stays one short line whatever the file holds)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")
