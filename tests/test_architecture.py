"""Structure rules of issue 18 for the autoencoders, the torch modules and the engine.

Every recommender is at most two levels below BaseRecommender; the modules
of the autoencoder family, the layers, the kernels and the engine stay under
400 lines of code (docstrings, comments and blank lines aside) and import no
private name of a public module (private modules, ``_x.py``, are fine).
"""

import ast
import inspect
import io
import tokenize
from pathlib import Path

import pytest

import sklearn_swdae
from sklearn_swdae.base import BaseRecommender

PACKAGE = Path(sklearn_swdae.__file__).parent
MODULES = sorted(
    [*(PACKAGE / "autoencoders").glob("*.py")]
    + [PACKAGE / name for name in ("layers.py", "_kernels.py", "_initialization.py", "training.py",
                                   "checkpoint.py", "_data_parallel.py")]
)  # fmt: skip


def lines_of_code(path):
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    code = set()
    skipped = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_modules_stay_under_400_lines_of_code(path):
    assert lines_of_code(path) <= 400


def _imported_module(path, node):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        parts = parts[:-1]
    package = parts[:-1] if path.name != "__init__.py" else parts
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_no_private_names_of_public_modules_are_imported(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        module = _imported_module(path, node)
        if module.rsplit(".", 1)[-1].startswith("_"):
            continue  # a private module is there to be imported inside the package
        for alias in node.names:
            submodule = PACKAGE.parent / module.replace(".", "/") / (alias.name + ".py")
            assert not alias.name.startswith("_") or submodule.exists(), f"{module}.{alias.name}"


RECOMMENDERS = sorted(
    (cls for _, cls in inspect.getmembers(sklearn_swdae, inspect.isclass) if issubclass(cls, BaseRecommender)),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("cls", RECOMMENDERS, ids=[cls.__name__ for cls in RECOMMENDERS])
def test_recommenders_are_at_most_two_levels_below_base_recommender(cls):
    assert cls.__mro__.index(BaseRecommender) <= 2
