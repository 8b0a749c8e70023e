"""One name per concept: ``alpha`` for the L2 strength, scikit-learn's ``n_jobs``,
keyword-only constructor parameters; the former spellings work for one release."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone

import sklearn_swdae.baselines as baselines
from sklearn_swdae import (
    EASERecommender,
    ItemGrouper,
    PopularityRecommender,
    SLIMRecommender,
    WMFRecommender,
)
from sklearn_swdae.datasets import make_interactions

X, _ = make_interactions(60, 12, 3, density=0.3, random_state=0)

try:
    import implicit  # noqa: F401

    HAVE_IMPLICIT = True
except ImportError:
    HAVE_IMPLICIT = False
needs_implicit = pytest.mark.skipif(not HAVE_IMPLICIT, reason="needs the optional implicit package")


# --- keyword-only parameters ----------------------------------------------------

# (class, positional arguments as they were accepted before, the keywords they meant)
POSITIONAL = [
    (PopularityRecommender, (7,), {"top_n": 7}),
    (EASERecommender, (10.0, 7), {"alpha": 10.0, "top_n": 7}),
    (SLIMRecommender, (0.5, 2.0), {"l1": 0.5, "alpha": 2.0}),
    (WMFRecommender, (4, 2.0, 0.1), {"n_factors": 4, "weight": 2.0, "alpha": 0.1}),
    (ItemGrouper, (4, 2, 3), {"n_clusters": 4, "overlap": 2, "n_components": 3}),
]


@pytest.mark.parametrize("cls, args, meant", POSITIONAL, ids=lambda v: getattr(v, "__name__", ""))
def test_positional_parameters_warn_and_mean_what_they_meant(cls, args, meant):
    with pytest.warns(FutureWarning, match=r"Pass .* as keyword argument\(s\).*TypeError in 0\.2"):
        estimator = cls(*args)
    assert estimator.get_params() == cls(**meant).get_params()
    # The signature seen by get_params and clone is the keyword-only one.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clone(estimator).get_params() == estimator.get_params()


@pytest.mark.parametrize("cls, args, meant", POSITIONAL, ids=lambda v: getattr(v, "__name__", ""))
def test_keyword_parameters_do_not_warn(cls, args, meant):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cls(**meant)


def test_more_positional_parameters_than_before_is_a_type_error():
    with pytest.raises(TypeError, match="at most 2 positional"):
        EASERecommender(10.0, 7, 3)


def test_a_parameter_given_twice_is_a_type_error():
    with pytest.raises(TypeError, match="multiple values"), pytest.warns(FutureWarning):
        EASERecommender(10.0, alpha=3.0)


# --- l2 renamed alpha -------------------------------------------------------------

L2_MODELS = [
    pytest.param(lambda **kw: EASERecommender(**kw), 10.0, "coef_", id="EASE"),
    pytest.param(lambda **kw: SLIMRecommender(l1=0.1, **kw), 0.5, "coef_", id="SLIM"),
    pytest.param(
        lambda **kw: WMFRecommender(n_factors=3, max_iter=2, random_state=0, **kw),
        0.5,
        "item_factors_",
        id="WMF",
        marks=needs_implicit,
    ),
]


def _dense(value):
    return value.toarray() if hasattr(value, "toarray") else np.asarray(value)


@pytest.mark.parametrize("make, value, attribute", L2_MODELS)
def test_l2_still_works_with_a_future_warning_naming_alpha(make, value, attribute):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = make(alpha=value).fit(X)
    old = make(l2=value)
    assert old.get_params()["l2"] == value  # stored as given, resolved in fit
    with pytest.warns(FutureWarning, match=r"'l2' was renamed to 'alpha'.*removed in 0\.2"):
        old.fit(X)
    np.testing.assert_array_equal(_dense(getattr(old, attribute)), _dense(getattr(new, attribute)))


@pytest.mark.parametrize("make, value, attribute", L2_MODELS)
def test_l2_survives_clone_and_set_params(make, value, attribute):
    model = make()
    assert model.get_params()["l2"] == "deprecated"
    model.set_params(l2=value)
    copy = clone(model)
    assert copy.get_params()["l2"] == value
    with pytest.warns(FutureWarning, match="alpha"):
        copy.fit(X)


@pytest.mark.parametrize("cls", [EASERecommender, SLIMRecommender, WMFRecommender])
def test_l2_is_validated_like_alpha(cls):
    with pytest.raises(ValueError, match="'l2' parameter"):
        cls(l2=-1.0).fit(X)


def test_a_model_pickled_before_the_rename_loads_with_alpha():
    model = EASERecommender(alpha=10.0).fit(X)
    state = model.__getstate__()
    # What an estimator pickled by the previous release holds.
    state.pop("alpha")
    state["l2"] = 10.0
    old = EASERecommender.__new__(EASERecommender)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the version mismatch is not the point here
        old.__setstate__(state)
    assert old.get_params()["alpha"] == 10.0 and old.get_params()["l2"] == "deprecated"
    np.testing.assert_array_equal(old.decision_function(X[:5]), model.decision_function(X[:5]))
    restored = pickle.loads(pickle.dumps(old))
    assert restored.alpha == 10.0


# --- n_jobs -----------------------------------------------------------------------


class _SpyParallel(baselines.Parallel):
    calls: list = []

    def __init__(self, n_jobs=None, **kwargs):
        _SpyParallel.calls.append(n_jobs)
        super().__init__(n_jobs=n_jobs, **kwargs)


@pytest.fixture
def spy_parallel(monkeypatch):
    _SpyParallel.calls = []
    monkeypatch.setattr(baselines, "Parallel", _SpyParallel)
    return _SpyParallel.calls


def test_slim_n_jobs_none_is_one_process(spy_parallel):
    SLIMRecommender(l1=0.1, alpha=0.1).fit(X)
    assert spy_parallel == [1]


def test_slim_n_jobs_none_follows_a_parallel_backend_context(spy_parallel):
    with joblib.parallel_backend("threading", n_jobs=2):
        SLIMRecommender(l1=0.1, alpha=0.1).fit(X)
    assert spy_parallel == [2]


def test_slim_n_jobs_minus_one_is_every_core(spy_parallel):
    SLIMRecommender(l1=0.1, alpha=0.1, n_jobs=-1).fit(X)
    assert spy_parallel == [min(X.shape[1], joblib.cpu_count())]


@needs_implicit
def test_wmf_n_jobs_none_is_now_one_thread():
    """Changed in 0.1: None meant every core (implicit's num_threads=0)."""
    model = WMFRecommender(n_factors=3, max_iter=1, random_state=0).fit(X)
    assert model.model_.num_threads == 1


@needs_implicit
def test_wmf_n_jobs_follows_scikit_learn():
    every_core = WMFRecommender(n_factors=3, max_iter=1, n_jobs=-1, random_state=0).fit(X)
    assert every_core.model_.num_threads == joblib.cpu_count()
    with joblib.parallel_backend("threading", n_jobs=2):
        context = WMFRecommender(n_factors=3, max_iter=1, random_state=0).fit(X)
    assert context.model_.num_threads == 2
