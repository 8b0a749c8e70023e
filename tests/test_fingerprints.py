"""Behaviour fingerprints: every estimator, refitted, must give what the code
before the architecture refactor of issue 18 gave (tests/data/make_fingerprints.py).

Top-10 lists must be equal except where two neighbouring items are tied up
to float32 rounding (another summation order, e.g. another thread count, may
rank them either way); scores must agree within a float32 tolerance.  The
autoencoders pickled by the code before the refactor must load and score
as they did.
"""

import importlib.util
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import assert_same_rankings

DATA = Path(__file__).parent / "data"
RTOL = 1e-4


def _generator():
    spec = importlib.util.spec_from_file_location("make_fingerprints", DATA / "make_fingerprints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
EXPECTED = np.load(GENERATOR.FINGERPRINTS)


@pytest.fixture(scope="module")
def data():
    return GENERATOR.make_data()


def assert_same_fingerprint(name, top, scores):
    expected_top, expected_scores = EXPECTED[name + "_top"], EXPECTED[name + "_scores"]
    finite = np.isfinite(expected_scores)
    atol = RTOL * np.abs(expected_scores[finite]).max()
    np.testing.assert_array_equal(np.isfinite(scores), finite)
    np.testing.assert_allclose(scores[finite], expected_scores[finite], rtol=RTOL, atol=atol)
    # Exact lists wherever the scores do not tie within the tolerance ...
    _assert_lists_equal_away_from_ties(top, expected_top, expected_scores, atol)
    # ... and, at ties, items whose scores agree.
    assert_same_rankings(top, expected_top, expected_scores, rtol=RTOL, atol=atol)


def _assert_lists_equal_away_from_ties(top, expected_top, scores, atol):
    n_items = scores.shape[1]
    for user, (mine, theirs) in enumerate(zip(top, expected_top)):
        listed = theirs[theirs < n_items]
        ranked = scores[user, listed]
        gaps = np.abs(np.diff(ranked))
        # A rank is decided when its item is separated from both neighbours
        # (and, for the last one, from the best unlisted unseen item).
        separated = np.ones(listed.size, dtype=bool)
        separated[:-1] &= gaps > 2 * atol
        separated[1:] &= gaps > 2 * atol
        if listed.size:
            others = np.setdiff1d(np.arange(n_items), listed)
            others = others[np.isfinite(scores[user, others])]
            if others.size and abs(ranked[-1] - scores[user, others].max()) <= 2 * atol:
                separated[-1] = False
        np.testing.assert_array_equal(mine[: listed.size][separated], listed[separated], err_msg=f"user {user}")


@pytest.mark.parametrize("name", sorted(GENERATOR.SPECS))
def test_refit_gives_the_recorded_fingerprint(name, data):
    specs = GENERATOR.available_specs()
    if name not in specs:
        pytest.skip(f"{name} needs an optional dependency")
    if name + "_top" not in EXPECTED:
        pytest.skip(f"no fingerprint was recorded for {name}")
    factory, _ = specs[name]
    X_train, X_query = data
    top, scores = GENERATOR.fingerprint(factory().fit(X_train), X_query)
    assert_same_fingerprint(name, top, scores)


def test_grouper_mask_is_unchanged(data):
    X_train, _ = data
    np.testing.assert_array_equal(GENERATOR.grouper_mask(X_train), EXPECTED["grouper_mask"])


def test_models_pickled_before_the_refactor_load_and_score_alike(data):
    _, X_query = data
    models = joblib.load(GENERATOR.PICKLES)
    assert set(models) == {name for name, (_, autoencoder) in GENERATOR.SPECS.items() if autoencoder}
    for name, model in models.items():
        top, scores = GENERATOR.fingerprint(model, X_query)
        assert_same_fingerprint(name, top, scores)
        # A loaded model must also be usable for a refit; parameters added
        # since then take the value the model was trained with.
        params = model.get_params()
        assert params["device"] == "cpu"
        assert params["average_half_life"] is None
