"""The user guide's examples (``>>>`` lines of docs/user_guide/*.rst) run as doctests."""

import doctest
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user_guide"
PAGES = sorted(path for path in GUIDE.glob("*.rst") if ">>>" in path.read_text(encoding="utf-8"))


def test_the_guide_has_doctested_pages():
    assert any(page.name == "recommending.rst" for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_user_guide_examples(page):
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of the examples of {page.name} failed (see the output above)"
