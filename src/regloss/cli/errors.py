"""The one exception the command line turns into ``regloss: error: ...`` and exit status 2."""

from __future__ import annotations


class CliError(Exception):
    """Bad input or usage: the message is printed as one line, without a traceback."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))  # one line, whatever the message was built from

    @property
    def message(self) -> str:
        return str(self.args[0])
