"""Show the library's own source code in a notebook, syntax-highlighted.

The chapters never paste a copy of an implementation: they display the code
that the tests run, so the book and the library cannot drift apart.
"""
from __future__ import annotations

import inspect
import textwrap

from IPython.display import Code, display


def source_code(obj: object) -> Code:
    """Return ``obj``'s source as an :class:`IPython.display.Code` object (Python highlighting).

    ``obj`` is a function, class, method or module defined in Python source.
    Raises ``TypeError`` for objects without Python source (built-ins, C extensions,
    instances) naming the object's type.
    """
    try:
        text = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"show_source needs a function, class, method or module with Python "
                        f"source; got {obj!r} of type {type(obj).__name__} ({exc})") from None
    # methods come indented; dedent so the block reads like top-level code
    return Code(data=textwrap.dedent(text), language="python")


def show_source(*objs: object) -> None:
    """Display the source of each object in ``objs``, one highlighted block each.

    Works anywhere ``IPython.display.display`` does; outside IPython it prints the
    plain-text form.  Returns None so a trailing call does not display twice.
    """
    if not objs:
        raise TypeError("show_source needs at least one object")
    codes = [source_code(o) for o in objs]   # fail before displaying anything
    for code in codes:
        display(code)
