"""show_source displays the library's real source (compared with the file on disk)."""
import inspect
from pathlib import Path

import pytest
from IPython.display import Code

import course_lib.show as show
from course_lib.conv import Conv2d, conv2d_naive


def test_source_matches_file():
    code = show.source_code(conv2d_naive)
    assert isinstance(code, Code)
    text = Path(inspect.getsourcefile(conv2d_naive)).read_text()
    assert code.data in text                       # a verbatim excerpt of the file
    assert code.data.startswith("def conv2d_naive(")
    assert "<span" in code._repr_html_()           # highlighted HTML for the book


def test_method_is_dedented():
    code = show.source_code(Conv2d.forward)
    assert code.data.startswith("def forward(")
    body = code.data.splitlines()[1]
    assert body.startswith("    ") and not body.startswith("        ")


def test_displays_each_object(monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", shown.append)
    assert show.show_source(conv2d_naive, Conv2d) is None
    assert [c.data.split("(")[0].split(":")[0] for c in shown] == ["def conv2d_naive", "class Conv2d"]


@pytest.mark.parametrize("obj", [len, 3, object()])
def test_rejects_objects_without_source(obj, monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", shown.append)
    with pytest.raises(TypeError, match="show_source"):
        show.show_source(conv2d_naive, obj)
    assert shown == []                              # nothing half-displayed


def test_needs_an_object():
    with pytest.raises(TypeError):
        show.show_source()
