"""How raadata's result objects show themselves: one short line, or a small HTML table.

Jupyter calls ``_repr_html_``; the plain ``repr`` stays one line, so that a list of results
or a log line never fills a screen.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

__all__ = ["html_table"]


def html_table(title: str, rows: Iterable[tuple[str, object]]) -> str:
    """A two-column HTML table (name, value) under a bold title; every text escaped."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
        f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"
        for name, value in rows
    )
    return f"<div><b>{html.escape(title)}</b><table>{body}</table></div>"
