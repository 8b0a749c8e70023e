"""The CiteULike reader (citeulike-a / citeulike-t users.dat)."""

import os
from pathlib import Path

import numpy as np
import pytest

from sklearn_swdae.datasets import load_citeulike, preprocess_interactions


def test_reads_libraries(tmp_path):
    (tmp_path / "users.dat").write_text("3 4 0 9\n1 4\n\n2 9 9\n")
    bunch = load_citeulike(tmp_path)
    assert bunch.item_ids.tolist() == [0, 4, 9]
    assert bunch.user_ids.tolist() == [0, 1, 2, 3]
    # Line 3 is an empty library; a repeated save counts once.
    assert bunch.data.toarray().tolist() == [[1, 1, 1], [0, 1, 0], [0, 0, 0], [0, 0, 1]]
    assert bunch.data.dtype == np.float32
    assert load_citeulike(tmp_path / "users.dat").data.shape == (4, 3)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("2 1\n", "count followed by that many"),
        ("1 a\n", "expected integers"),
        ("1 -3\n", "non-negative"),
        ("", "no users"),
    ],
)
def test_bad_lines_name_the_line(tmp_path, text, problem):
    (tmp_path / "users.dat").write_text(text)
    with pytest.raises(ValueError, match=problem):
        load_citeulike(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="users.dat"):
        load_citeulike(tmp_path)


_REAL = Path(os.environ.get("SWDAE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.mark.skipif(not (_REAL / "citeulike-t" / "users.dat").is_file(), reason="citeulike-t not present")
def test_real_citeulike_t_counts():
    # PROVENANCE.md: 7,947 users, 134,860 saves of 25,584 distinct articles.
    bunch = load_citeulike(_REAL / "citeulike-t")
    assert bunch.data.shape == (7947, 25584)
    assert bunch.data.nnz == 134_860
    X = preprocess_interactions(bunch.data, min_user_items=5).data
    assert X.shape[0] < 7947 and X.nnz > 100_000
