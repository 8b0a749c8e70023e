"""Shared test helpers: where the real evaluation data lives, and the common
checks a top-N recommender is expected to fail."""

import os
from pathlib import Path

import pytest


def shared_data():
    """The shared/data folder: $SWDAE_SHARED_DATA, else next to the repository."""
    root = os.environ.get("SWDAE_SHARED_DATA")
    return Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"


def real_folder(name):
    """A real dataset folder, or skip the test when it is absent."""
    folder = shared_data() / name
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} is absent")
    return folder


# scikit-learn common checks whose contract a top-N recommender cannot meet,
# with the reason; every recommender's parametrize_with_checks uses these.
RECOMMENDER_EXPECTED_FAILED_CHECKS = {
    "check_fit_score_takes_y": (
        "score(X, y) takes y as a held-out interaction matrix of X's shape (the paper's "
        "protocol); the check passes a 1-D target vector, which is rejected with a clear error"
    ),
    "check_pipeline_consistency": "same reason as check_fit_score_takes_y: it scores with a 1-D y",
    "check_estimator_sparse_array": (
        "predict returns (n_users, top_n) ranked item lists; the check requires shape (n_samples,)"
    ),
    "check_estimator_sparse_matrix": "same reason as check_estimator_sparse_array",
}
