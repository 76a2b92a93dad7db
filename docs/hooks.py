"""MkDocs hook: show the Sphinx roles of the library's docstrings as code.

The docstrings cross-reference in reStructuredText (``:class:`~ocpp_schedule.X```),
which Markdown renders as the role's name followed by a code span. This hook
keeps the code span and drops the role (and the ``~`` that shortens a path).
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj|const|ref):<code>(~?)([^<]*)</code>")


def _code(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    if short:
        target = target.rsplit(".", 1)[-1]
    return f"<code>{target}</code>"


def on_page_content(html: str, **_: Any) -> str:
    """Replace ``:role:<code>target</code>`` with ``<code>target</code>``."""
    return _ROLE.sub(_code, html)
