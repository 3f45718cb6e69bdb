"""course_lib.display: the HTML tables the chapters show, read back with html.parser."""
import html
from html.parser import HTMLParser

import pytest

from course_lib.display import format_cell, html_table, table_html


class TableReader(HTMLParser):
    """Collects caption, header cells and body rows as the browser would see their text."""

    def __init__(self):
        super().__init__()
        self.caption, self.header, self.rows, self.classes = None, [], [], []
        self._cell, self._tag, self._in_body = None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
            self.classes.append([])
        elif tag in ("td", "th", "caption"):
            self._cell, self._tag = "", tag
            if tag == "td":
                self.classes[-1].append(dict(attrs).get("class"))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == self._tag and self._cell is not None:
            if tag == "caption":
                self.caption = self._cell
            elif tag == "th":
                self.header.append(self._cell)
            else:
                self.rows[-1].append(self._cell)
            self._cell = self._tag = None


def read(markup):
    reader = TableReader()
    reader.feed(markup)
    return reader


def test_cells_round_trip_with_escaping_and_formats():
    rows = [("a <b> & 'c'", 1.23456, 3), ("x", None, 10)]
    t = read(table_html(rows, ["name", "value", "n"], formats=[None, "{:.2f}", "{}x"],
                        caption="R&D"))
    assert t.caption == "R&D"
    assert t.header == ["name", "value", "n"]
    assert t.rows == [["a <b> & 'c'", "1.23", "3x"], ["x", "", "10x"]]
    # text column left-aligned, numeric columns right-aligned (no class)
    assert [c[0] for c in t.classes] == ["text", "text"]
    assert all(c[1] is None and c[2] is None for c in t.classes)


def test_html_object_renders_the_same_markup():
    rows = [(1, 2.5)]
    assert html_table(rows, ["a", "b"]).data == table_html(rows, ["a", "b"])


def test_default_float_format_and_callable():
    assert format_cell(0.000123456) == f"{0.000123456:.3g}"
    assert format_cell(7) == "7" and format_cell(True) == "True"
    assert format_cell(2.0, lambda v: f"<{v}>") == "<2.0>"


@pytest.mark.parametrize("rows, columns, formats, match", [
    ([(1, 2, 3)], ["a", "b"], None, "row 0 has 3 values for 2 columns"),
    ([(1,)], [], None, "at least one column"),
    ([(1, 2)], ["a", "b"], ["{}"], "formats has 1 entries for 2 columns"),
])
def test_bad_shapes_are_named(rows, columns, formats, match):
    with pytest.raises(ValueError, match=match):
        table_html(rows, columns, formats=formats)


def test_bad_format_type():
    with pytest.raises(TypeError, match="format must be"):
        format_cell(1.0, 3)


def test_long_tokens_get_break_opportunities_and_stay_escaped():
    from course_lib.display import soft_breaks
    text = "emulator lstm_pointwise_forward <b> & https://example.org/a/b.html"
    out = soft_breaks(text)
    assert "lstm_<wbr>pointwise_<wbr>forward" in out and "example.<wbr>org/<wbr>a" in out
    assert "<b>" not in out and "&lt;b&gt;" in out            # still escaped
    assert html.unescape(out.replace("<wbr>", "")) == text     # same text otherwise
    assert soft_breaks("short_name") == "short_name"           # short tokens untouched


def test_text_cells_break_but_numbers_do_not():
    markup = table_html([("cupy_flash_fwd_wmma_f16", 1234.5)], ["name", "ms"],
                        formats=[None, "{:,.1f}"])
    assert "cupy_<wbr>flash_<wbr>fwd_<wbr>wmma_<wbr>f16" in markup and "1,234.5" in markup
