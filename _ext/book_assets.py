"""Sphinx extension of this book: serve its JavaScript itself and apply the course switches.

* Offline book.  MathJax 3, require.js and the Jupyter widgets HTML manager come from the
  npm packages pinned in ``package.json`` (``npm ci`` puts them in ``node_modules/``; they are
  not committed).  They are copied to ``_static/vendor/`` of the HTML output, and
  ``_config.yml`` points ``mathjax_path`` and myst-nb's ``nb_ipywidgets_js`` there, so the
  pages load no script from a CDN: formulas and saved widget states render without network,
  and the same files are served when the book is hosted.
* One copy of each inline script.  sphinx-thebe registers its configuration script once per
  read phase, so a page used to declare ``THEBE_JS_URL`` twice (a console error); pages get
  each script once.
* ``course.hide_solutions`` in ``_config.yml``.  When true, every cell tagged ``solution``
  (library code that is also the answer to an exercise) is dropped from the HTML.  The cell
  still runs, so later cells and the notebook tests are unchanged.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

# (source under node_modules/, destination under _static/vendor/, file patterns to skip)
VENDOR = [
    ("mathjax/es5", "mathjax", ()),
    ("requirejs/require.js", "require.js", ()),
    ("@jupyter-widgets/html-manager/dist", "html-manager", ("*.map", "embed.js",
                                                            "embed.js.LICENSE.txt")),
]
# our glue between require.js, MathJax 3 and the widget manager (see the file's comments)
OWN_JS = Path(__file__).with_name("widgets_setup.js")
SOLUTION_TAG = "solution"


def book_root(app: Sphinx) -> Path:
    return Path(app.srcdir)


def course_settings(app: Sphinx) -> dict:
    """The ``course:`` block of ``_config.yml`` (empty when absent)."""
    cfg = book_root(app) / "_config.yml"
    data = yaml.safe_load(cfg.read_text(encoding="utf-8")) if cfg.is_file() else {}
    return (data or {}).get("course") or {}


def copy_vendor(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    modules = book_root(app) / "node_modules"
    missing = [src for src, _, _ in VENDOR if not (modules / src).exists()]
    if missing:
        raise ExtensionError(
            f"book_assets: {', '.join(missing)} missing under {modules}; run `npm ci` in "
            f"{book_root(app)} (scripts/setup.sh does) so the book serves its own MathJax, "
            f"require.js and widget manager")
    dest_root = Path(app.outdir) / "_static" / "vendor"
    for src, dest, skip in VENDOR:
        s, d = modules / src, dest_root / dest
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*skip))
        else:
            shutil.copy2(s, d)
    shutil.copy2(OWN_JS, dest_root / OWN_JS.name)


def one_copy_of_each_script(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # the same inline script is registered once with filename None and once with ""
        key = (getattr(js, "filename", js) or "",
               tuple(sorted((getattr(js, "attributes", None) or {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def drop_solution_cells(app: Sphinx, doctree) -> None:
    if not app.env.config.book_hide_solutions:
        return
    tag_class = f"tag_{SOLUTION_TAG}"
    from docutils import nodes
    hits = [n for n in doctree.findall(nodes.Element) if tag_class in n.get("classes", [])]
    for node in hits:
        if node.parent is not None:
            node.parent.remove(node)


def read_switches(app: Sphinx, config) -> None:
    hide = course_settings(app).get("hide_solutions", False)
    if not isinstance(hide, bool):
        raise ExtensionError(f"course.hide_solutions in _config.yml must be true or false, "
                             f"got {hide!r}")
    config.book_hide_solutions = hide
    # markdown pages name the repository through substitutions built from repository.url,
    # so _config.yml stays the only place it is written
    url = (config.html_theme_options.get("repository_url") or "").rstrip("/")
    branch = config.html_theme_options.get("repository_branch") or "main"
    if not url:
        raise ExtensionError("repository.url is not set in _config.yml")
    owner_name = url.split("://", 1)[-1].split("/", 1)[-1]
    colab = (f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/"
             f"exercises/colab_exercises.ipynb")
    subs = dict(config.myst_substitutions or {})
    subs.setdefault("repository_url", url)
    subs.setdefault("repository_link", f"[{url}]({url})")
    subs.setdefault("colab_exercises_link",
                    f"[the Colab exercises notebook]({colab})")
    config.myst_substitutions = subs


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_hide_solutions", False, "env")
    app.connect("config-inited", read_switches)
    app.connect("builder-inited", copy_vendor)
    app.connect("doctree-read", drop_solution_cells)
    app.connect("html-page-context", one_copy_of_each_script, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
