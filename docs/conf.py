"""Sphinx configuration of the sklearn-swdae documentation.

Build (from the repository root, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import re
import shutil
import sys
from pathlib import Path

import sklearn_swdae

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# -- Project -----------------------------------------------------------------

project = "sklearn-swdae"
author = "sklearn-swdae developers"
copyright = "sklearn-swdae developers"
release = sklearn_swdae.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# README.md describes how to build the site; it is not a page of it.
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]
default_role = "literal"
pygments_style = "sphinx"
# Quotes and ellipses only: "--help" must not become an en dash.
smartquotes_action = "qe"

# -- API reference: autodoc, autosummary, numpydoc ---------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True


def _skip_external_members(app, what, name, obj, skip, options):
    """Document the package's own methods, not those inherited from sklearn/scipy/torch.

    BaseEstimator, TransformerMixin, scipy's sparse arrays and torch's
    ``nn.Module`` contribute dozens of methods whose docstrings point to
    their own projects' pages; they are documented there.
    """
    module = getattr(obj, "__module__", None) or ""
    if module.split(".")[0] in {"sklearn", "scipy", "torch", "builtins", "numpy"}:
        return True
    return None


# -- Gallery: the scripts of examples/ ---------------------------------------
#
# sphinx-gallery needs a header file in the examples folder; so that
# examples/ stays a plain folder of scripts, its *.py files (and any header
# it has) are staged into the build folder with the header below otherwise.

GALLERY_HEADER = """\
Examples
========

Scripts from the ``examples/`` folder of the repository, executed when the
documentation is built (with ``--fast``, the reduced size every example
accepts, so the build stays short).  Run the full versions with
``python examples/<name>.py``.
"""

_STAGED_EXAMPLES = DOCS / "_build" / "gallery_src"


def _stage_examples():
    if _STAGED_EXAMPLES.exists():
        shutil.rmtree(_STAGED_EXAMPLES)
    _STAGED_EXAMPLES.mkdir(parents=True)
    has_header = False
    for path in sorted((ROOT / "examples").iterdir()):
        if path.suffix == ".py" or path.stem in {"GALLERY_HEADER", "README"}:
            shutil.copy2(path, _STAGED_EXAMPLES / path.name)  # keeps mtimes
            has_header |= path.stem in {"GALLERY_HEADER", "README"}
    if not has_header:
        (_STAGED_EXAMPLES / "GALLERY_HEADER.rst").write_text(GALLERY_HEADER)


_stage_examples()

sphinx_gallery_conf = {
    "examples_dirs": os.path.relpath(_STAGED_EXAMPLES, DOCS),
    "gallery_dirs": "auto_examples",
    # Execute every example script (they print; quickstart draws no figure).
    "filename_pattern": re.escape(os.sep),
    # Every example takes --fast: a seconds-long version of itself.
    "reset_argv": "sklearn_swdae_docs_gallery.reset_argv",
    "download_all_examples": False,
    "show_memory": False,
    "remove_config_comments": True,
}
sys.path.insert(0, str(DOCS / "_scripts"))

# -- Command line: `swdae COMMAND --help`, generated at build time -----------

_CLI_HELP = DOCS / "_build" / "cli_help"


def _write_cli_help():
    from sklearn_swdae.cli import build_parser

    os.environ["COLUMNS"] = "88"  # argparse wraps to $COLUMNS
    parser = build_parser()
    _CLI_HELP.mkdir(parents=True, exist_ok=True)
    pages = {"swdae": parser.format_help()}
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        pages[name] = sub.format_help()
    for name, text in pages.items():
        target = _CLI_HELP / f"{name}.txt"
        if not target.exists() or target.read_text() != text:
            target.write_text(text)


_write_cli_help()

# -- Benchmark results: benchmarks/RESULTS.md, when it exists ----------------
#
# The benchmarks page (MyST) receives the text of RESULTS.md in place of its
# marker.  The file is written for the repository, so its headings move one
# level down (under the page title) and its relative links are rebased from
# benchmarks/ to docs/: a link to an existing file becomes a download link,
# any other relative link (a folder, a missing file) plain code text, so
# that the site never links to nothing.

RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
_RESULTS_MARKER = "<!-- benchmark-results-go-here: conf.py puts benchmarks/RESULTS.md here -->"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,5})(?=\s|$)")
_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?((?:\s+\"[^\"]*\")?)\s*\)")
_LINK_DEF = re.compile(r"^( {0,3}\[[^\]]+\]:\s*)<?([^\s>]+)>?(.*)$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
# A line that can be the text of a setext heading: not blank, and not a
# heading, list item, quote or table row.
_PLAIN_TEXT = re.compile(r"^ {0,3}(?![#>|*+-]|\d+[.)]\s|\s*$)\S")


def _rebase(target):
    """A relative link target of RESULTS.md seen from docs/, or None if no file.

    URLs, anchors and root-relative targets are returned unchanged.
    """
    if target.startswith(("#", "/")) or _SCHEME.match(target):
        return target
    path = target.split("#", 1)[0]
    full = (RESULTS_MD.parent / path).resolve()
    if not path or not full.is_file():
        return None
    # "path:" makes MyST link the file for download even if it is a .rst/.md
    # source outside docs/ (instead of looking for a document of that name).
    return "path:" + os.path.relpath(full, DOCS).replace(os.sep, "/")


def _rewrite_link(match):
    bang, text, target, title = match.groups()
    rebased = _rebase(target)
    if rebased is None:
        return f"`{target}`" if bang else f"{text} (`{target}`)"
    if bang:  # an image: a plain path relative to the page
        rebased = rebased.removeprefix("path:")
    return f"{bang}[{text}]({rebased}{title})"


def _rewrite_link_def(match):
    head, target, tail = match.groups()
    rebased = _rebase(target)
    # Without its definition, a reference to a missing file stays plain text.
    return "" if rebased is None else f"{head}{rebased}{tail}"


def _results_markdown():
    lines, fence, text_line = [], None, False
    for line in RESULTS_MD.read_text(encoding="utf-8").splitlines():
        opening = _FENCE.match(line)
        setext = _SETEXT.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
        elif opening:
            fence = opening.group(1)
        elif setext and text_line:  # "Title" over "====" or "----": one level down
            lines[-1] = ("## " if setext.group(1)[0] == "=" else "### ") + lines[-1].strip()
            text_line = False
            continue
        else:
            line = _HEADING.sub(lambda m: m.group(0).replace(m.group(1), m.group(1) + "#"), line)
            if _LINK_DEF.match(line):
                line = _LINK_DEF.sub(_rewrite_link_def, line)
            else:
                line = _LINK.sub(_rewrite_link, line)
        text_line = fence is None and not opening and bool(_PLAIN_TEXT.match(line))
        lines.append(line)
    return "\n".join(lines) + "\n"


def _insert_benchmark_results(app, docname, source):
    """Put benchmarks/RESULTS.md into the benchmarks page, or say it is missing."""
    if docname != "benchmarks" or _RESULTS_MARKER not in source[0]:
        return
    # Rebuild the page when the file changes, appears (a missing dependency
    # always counts as changed) or disappears.
    app.env.note_dependency(str(RESULTS_MD))
    if RESULTS_MD.is_file():
        block = _results_markdown()
    else:
        block = (
            ":::{note}\n"
            "`benchmarks/RESULTS.md` does not exist in this checkout yet, so no "
            "benchmark result is shown.  Run the benchmarks above to produce it.\n"
            ":::\n"
        )
    source[0] = source[0].replace(_RESULTS_MARKER, block)


# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-swdae {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_show_sourcelink = False

# -- Markdown (MyST) ---------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
# RESULTS.md's headings move one level down; keep anchors for its "###".
myst_heading_anchors = 4
# Heading levels of RESULTS.md are its authors' choice, not a docs error.
suppress_warnings = ["myst.header"]


def setup(app):
    app.connect("autodoc-skip-member", _skip_external_members)
    app.connect("source-read", _insert_benchmark_results)
