"""How error messages show a value the caller passed: :func:`show_value`, bounded in length and depth.

Every message that shows received input goes through it, so that no input can make a message
huge (a 50 MB string in a config), raise ``RecursionError`` (a list nested 5,000 deep) or fail in
the user's own ``__repr__``.
"""

from __future__ import annotations

import reprlib

SHOWN_CHARACTERS = 200


def show_value(value, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr(value)`` cut to at most ``limit`` characters and 4 levels of nesting.

    Strings and other reprs longer than ``limit`` end in ``...``; nesting deeper than 4 levels
    shows as ``[...]``; a ``__repr__`` that raises or recurses gives ``<TypeName object at ...>``;
    nothing in ``value`` is changed.

    >>> show_value("x" * 10_000)[:12], len(show_value("x" * 10_000))
    ("'xxxxxxxxxxx", 200)
    >>> nested = 1
    >>> for _ in range(5000):
    ...     nested = [nested]
    >>> show_value(nested)
    '[[[[[...]]]]]'
    """
    shower = reprlib.Repr()
    shower.maxlevel = 4
    shower.maxstring = shower.maxother = limit
    try:
        text = shower.repr(value)
    except Exception:  # reprlib lets a few errors through (an int of more than 4300 digits)
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show_plain(value, limit: int = SHOWN_CHARACTERS) -> str:
    """A short string as it is (the way TensorFlow's messages print a key with ``{key}``), any other
    value as :func:`show_value` shows it.

    >>> show_plain("bogus"), show_plain(["bogus"])
    ('bogus', "['bogus']")
    """
    if isinstance(value, str) and len(value) <= limit:
        return value
    return show_value(value, limit)
