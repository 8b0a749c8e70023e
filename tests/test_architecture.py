"""Structural rules of the package (issue 18): small modules, no reaching into
another public module's privates."""

import ast
import inspect
import io
import tokenize
from pathlib import Path

import pytest

import sklearn_swdae
from sklearn_swdae.base import BaseRecommender

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_swdae"
MAX_LINES_OF_CODE = 400

MODULES = sorted(PACKAGE.rglob("*.py"))


def _lines_of_code(source):
    """Lines holding code: docstrings, comments and blank lines aside."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    docstrings.update(range(first.lineno, first.end_lineno + 1))
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    code = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.type != tokenize.ENDMARKER:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def _is_private(dotted):
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def _package_of(path):
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])


def _imported_private_names(source, package):
    """(line, module, name) of every ``from <public module> import _name`` of a module of ``package``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package.split(".")
            module = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if not module.startswith("sklearn_swdae") or _is_private(module):
            continue
        for alias in node.names:
            submodule = PACKAGE.parent / Path(*f"{module}.{alias.name}".split("."))
            is_module = submodule.with_suffix(".py").exists() or submodule.is_dir()
            if _is_private(alias.name) and not is_module:
                found.append((node.lineno, module, alias.name))
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_at_most_400_lines_of_code(path):
    assert _lines_of_code(path.read_text()) <= MAX_LINES_OF_CODE


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_no_private_name_of_a_public_module(path):
    assert _imported_private_names(path.read_text(), _package_of(path)) == []


def test_the_checks_see_what_they_look_for():
    source = '"""Doc."""\n\n# comment\nx = 1\n\n\ndef f():\n    """Doc\n    more."""\n    return x\n'
    assert _lines_of_code(source) == 3
    # A public module's private name is found; a private module, or a name
    # of one, is not.
    source = "from .base import _SHOWN\nfrom . import _validation\nfrom ._validation import _x\n"
    assert _imported_private_names(source, "sklearn_swdae") == [(1, "sklearn_swdae.base", "_SHOWN")]
    assert _imported_private_names("from ..cli import _say\n", "sklearn_swdae.datasets") == [
        (1, "sklearn_swdae.cli", "_say")
    ]


RECOMMENDERS = sorted(
    (cls for _, cls in inspect.getmembers(sklearn_swdae, inspect.isclass) if issubclass(cls, BaseRecommender)),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("cls", RECOMMENDERS, ids=[cls.__name__ for cls in RECOMMENDERS])
def test_recommenders_are_at_most_two_levels_below_base_recommender(cls):
    assert cls.__mro__.index(BaseRecommender) <= 2
