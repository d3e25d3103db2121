"""Text for people: Markdown-safe cell strings and numbers formatted to the digits that matter.

Every place the app puts a cell string or a metric into Markdown (captions, ``st.markdown``,
titles) goes through these, so an NB-201 string's ``~`` never turns into strikethrough and a
standard deviation of 1e-11 never shows as ``0.00000000001``.
"""

from __future__ import annotations

import math
import re

# Characters Markdown (and Streamlit's extensions: ~ strikethrough, $ maths, : emoji) treat as syntax.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$<>:])")


def md_escape(text: str) -> str:
    """``text`` shown literally inside Markdown: every syntax character backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def fmt_number(value: float | int | None, digits: int = 4) -> str:
    """A number for people: integers with thousands separators, floats to ``digits``
    significant digits, tiny magnitudes as 0 or in scientific form; ``None``/NaN as an en dash.

    >>> fmt_number(0.732168), fmt_number(1e-11), fmt_number(1234567), fmt_number(float("nan"))
    ('0.7322', '1e-11', '1,234,567', '–')
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    x = float(value)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) < 10 ** -(digits + 2):
        return f"{x:.{max(digits - 3, 0)}e}".replace("e-0", "e-").replace(".0e", "e")
    if abs(x) >= 10**digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:,.{max(digits - 1 - int(math.log10(abs(x))), 0)}f}"
