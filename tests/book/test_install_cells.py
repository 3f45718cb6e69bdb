"""Every chapter notebook's install cell and repository links agree with _config.yml.

The check covers whatever ``chapters/*.ipynb`` holds, so a notebook added later is held to
it too.  The fix for a failure is ``python scripts/set_repository.py``.
"""
import copy
import importlib.util
import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("set_repository",
                                               ROOT / "scripts" / "set_repository.py")
setrepo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(setrepo)

NOTEBOOKS = setrepo.notebooks(ROOT)


def test_config_names_the_repositories():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["repository"]["url"].startswith("https://")
    assert cfg["course"]["student_repository"].startswith("https://")
    assert isinstance(cfg["course"]["hide_solutions"], bool)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_matches_config(path):
    cfg = setrepo.read_config(ROOT)
    nb = json.loads(path.read_text(encoding="utf-8"))
    issues = setrepo.problems(nb, cfg["url"], cfg["branch"])
    assert not issues, (f"{path.relative_to(ROOT)}: " + "; ".join(issues)
                        + " -- run: python scripts/set_repository.py")


def _notebook(install_src, extra_md):
    return {"cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# title"]},
        {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [], "execution_count": None,
         "source": install_src.splitlines(keepends=True)},
        {"cell_type": "markdown", "id": "c", "metadata": {}, "source": [extra_md]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_rewrite_follows_a_new_address():
    old = "https://github.com/old-owner/old-course"
    new = "https://github.com/new-owner/new-course"
    legacy = ('try:\n    import course_lib\nexcept ImportError:\n'
              f'    %pip install -q "course_lib[torch] @ git+{old}"\n')
    colab = (f"[ex](https://colab.research.google.com/github/old-owner/old-course/blob/main/"
             f"exercises/colab_exercises.ipynb) and [f]({old}/blob/main/exercises/x.py)")
    nb = _notebook(legacy, colab)
    before = copy.deepcopy(nb)
    assert setrepo.problems(nb, new, "main")          # the old notebook disagrees
    setrepo.rewrite(nb, new, "main")
    assert setrepo.problems(nb, new, "main") == []
    text = json.dumps(nb)
    assert "old-owner" not in text and text.count("new-owner/new-course") == 3
    assert "".join(nb["cells"][1]["source"]) == setrepo.install_cell_source(new, "main")
    assert nb["cells"][0] == before["cells"][0]       # other cells untouched


def test_missing_install_cell_is_reported_and_added():
    nb = _notebook("import numpy as np\n", "text")
    assert any("no install cell" in m for m in setrepo.problems(nb, "https://github.com/a/b", "main"))
    setrepo.rewrite(nb, "https://github.com/a/b", "main")
    assert setrepo.is_install_cell(nb["cells"][1]) and len(nb["cells"]) == 4


def test_install_cell_lines_fit_the_column():
    src = setrepo.install_cell_source("https://github.com/example/inside-the-layers", "main")
    assert max(map(len, src.splitlines())) <= 77
    with pytest.raises(ValueError, match="too long"):
        setrepo.install_cell_source("https://github.com/" + "x" * 80, "main")
