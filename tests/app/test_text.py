import math
import re

import pytest

from archpred.app.text import fmt_number, md_escape


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.732168, "0.7322"),
        (1e-11, "1e-11"),
        (1234567, "1,234,567"),
        (float("nan"), "–"),
        (None, "–"),
        (12.3456, "12.35"),
        (3.0, "3"),
        (0.0, "0"),
        (-0.5, "-0.5"),
        (math.inf, "∞"),
    ],
)
def test_fmt_number_shows_the_digits_that_matter(value, shown):
    assert fmt_number(value) == shown


def test_md_escape_keeps_nb201_strings_literal():
    text = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|"
    escaped = md_escape(text)
    assert re.fullmatch(r"(\\.|[^\\~|_])*", escaped), escaped  # every ~ | _ escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == text  # and nothing else changed
