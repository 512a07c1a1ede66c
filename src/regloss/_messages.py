"""How error messages show a value the caller passed: :func:`show_value`, bounded in length and depth.

Every message that shows received input goes through it, so that no input can make a message
huge (a 50 MB string in a config), raise ``RecursionError`` (a list nested 5,000 deep) or fail in
the user's own ``__repr__``. :func:`show_plain` keeps TensorFlow's unquoted texts;
:func:`check_keywords` replaces Python's unbounded "unexpected keyword argument" of ``cls(**config)``.
"""

from __future__ import annotations

import reprlib

SHOWN_CHARACTERS = 200


def show_value(value, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr(value)`` cut to at most ``limit`` characters and 4 levels of nesting.

    Strings and other reprs longer than ``limit`` end in ``...``; nesting deeper than 4 levels
    shows as ``[...]``; a ``__repr__`` that raises or recurses gives ``<TypeName instance at 0x...>``;
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


def check_keywords(function, arguments: dict, owner: str) -> None:
    """``TypeError`` naming (boundedly) the first key of ``arguments`` that ``function`` does not take
    (Python's own message would show a 50 MB key whole).

    >>> check_keywords(lambda delta=1.0: None, {"detla": 2.0}, "Huber.from_config")
    Traceback (most recent call last):
    ...
    TypeError: Huber.from_config got an unexpected key 'detla'; expected keys: delta
    """
    import inspect

    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    names = [name for name, p in parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    for key in arguments:
        if not isinstance(key, str) or not (takes_any or key in names):
            raise TypeError(
                f"{owner} got an unexpected key {show_value(key)}; expected keys: {', '.join(names)}"
            )
