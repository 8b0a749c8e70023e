"""Reliability: bad input, invariants, persistence, interrupted training,
reproducibility and memory (docs/user_guide/reliability.rst lists what these
tests guarantee)."""

import io
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import sklearn_swdae
from sklearn_swdae import (
    EASERecommender,
    FCDAERecommender,
    ItemGrouper,
    MultDAERecommender,
    MultVAERecommender,
    PopularityRecommender,
    SparseWideDAERecommender,
    _memory,
)
from sklearn_swdae._persistence import torch_state_from_bytes
from sklearn_swdae.checkpoint import Checkpoint
from sklearn_swdae.datasets import load_interactions, make_interactions, preprocess_interactions
from sklearn_swdae.exceptions import InconsistentVersionWarning, InsufficientMemoryError
from sklearn_swdae.metrics import ndcg_at_k, recall_at_k
from sklearn_swdae.model_selection import split_fold_in, strong_generalization_split
from sklearn_swdae.training import Callback

REPO = Path(__file__).resolve().parents[1]
N_USERS, N_ITEMS = 120, 24


def _grouper(**params):
    params = {"n_clusters": 4, "overlap": 2, "n_components": 3, "random_state": 0, **params}
    return ItemGrouper(**params)


def _estimators():
    """One small instance of every public estimator, all on the CPU."""
    common = dict(max_iter=3, batch_size=32, device="cpu", random_state=0)
    return [
        _grouper(),
        SparseWideDAERecommender(grouper=_grouper(), **common),
        FCDAERecommender(n_hidden=6, **common),
        MultDAERecommender(n_hidden=6, **common),
        MultVAERecommender(n_hidden=6, n_latent=3, **common),
        PopularityRecommender(),
        EASERecommender(alpha=10.0),
    ]


def _name(estimator):
    return type(estimator).__name__


ESTIMATORS = _estimators()
RECOMMENDERS = [e for e in ESTIMATORS if not isinstance(e, ItemGrouper)]
AUTOENCODERS = [e for e in RECOMMENDERS if hasattr(e, "max_iter")]


@pytest.fixture(scope="module")
def X():
    X, _ = make_interactions(N_USERS, N_ITEMS, 3, density=0.2, random_state=0)
    return X


@pytest.fixture(scope="module")
def fitted(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tiny validation sets
        return {_name(e): clone(e).fit(X) for e in RECOMMENDERS}


# --------------------------------------------------------------------------
# Bad input: a ValueError that names the parameter and says what to do
# --------------------------------------------------------------------------

BAD_VALUES = [
    pytest.param(-1.0, r"Negative values in data passed to X.*non-negative", id="negative"),
    pytest.param(np.nan, r"X contains NaN or infinity.*drop or fill", id="nan"),
    pytest.param(np.inf, r"X contains NaN or infinity.*drop or fill", id="inf"),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize("value, match", BAD_VALUES)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_fit_rejects_bad_values(estimator, X, value, match, sparse):
    bad = X.toarray()
    bad[3, 5] = value
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(sp.csr_array(bad) if sparse else bad)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize(
    "shape, match",
    [
        ((N_ITEMS,), "Expected 2D array"),
        ((2, 3, 4), "dim 3"),
        ((0, N_ITEMS), "0 sample"),
        ((N_USERS, 0), "0 feature"),
    ],
    ids=["1d", "3d", "no-users", "no-items"],
)
def test_fit_rejects_bad_shapes(estimator, shape, match):
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(np.ones(shape))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
def test_fit_without_any_interaction_is_an_error(estimator):
    with pytest.raises(ValueError, match=r"X has no interactions.*at least one positive entry"):
        clone(estimator).fit(np.zeros((30, 10)))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
def test_users_without_interactions_are_allowed_in_fit(estimator, X):
    X_some_empty = X.toarray()
    X_some_empty[::4] = 0  # a quarter of the users consumed nothing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = clone(estimator).fit(X_some_empty)
    if isinstance(model, ItemGrouper):
        assert (model.connectivity_.sum(axis=0) == model.overlap_).all()
    else:
        assert np.isfinite(model.decision_function(X)).all()


@pytest.mark.parametrize("name", [_name(e) for e in RECOMMENDERS])
def test_users_without_interactions_get_scores_and_are_not_scored(fitted, X, name):
    model = fitted[name]
    empty = np.zeros((3, N_ITEMS))
    scores = model.decision_function(empty)
    assert scores.shape == (3, N_ITEMS) and np.isfinite(scores).all()
    items = model.recommend(empty, top_n=5)
    assert ((items >= 0) & (items < N_ITEMS)).all()
    # score(): empty users have nothing held out and are left out of the mean...
    mixed = sp.vstack([X[:20], sp.csr_array(empty)])
    assert model.score(mixed) == pytest.approx(model.score(X[:20]))
    # ... and a set of users of whom none can be scored is an error.
    with pytest.raises(ValueError, match="No user has held-out items"):
        model.score(empty)


@pytest.mark.parametrize("name", [_name(e) for e in RECOMMENDERS])
def test_prediction_input_is_validated(fitted, X, name):
    model = fitted[name]
    with pytest.raises(ValueError, match=rf"X has {N_ITEMS + 1} features.*items seen in fit"):
        model.predict(np.zeros((2, N_ITEMS + 1)))
    bad = X[:4].toarray()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.recommend(bad)
    bad[0, 0] = -2
    with pytest.raises(ValueError, match="Negative values"):
        model.decision_function(bad)
    y_bad = X[:4].toarray()
    y_bad[1, 1] = -1
    with pytest.raises(ValueError, match="Negative values in data passed to y"):
        model.score(X[:4], y_bad)
    for top_n in (0, -1, N_ITEMS + 1, 2.5):
        with pytest.raises(ValueError, match=r"top_n must be an integer in \[1, n_items"):
            model.recommend(X[:2], top_n=top_n)
    with pytest.raises(ValueError, match="top_n"):
        clone(model).set_params(top_n=0).fit(X)


def test_item_grouper_sizes_are_checked(X):
    with pytest.raises(ValueError, match=r"n_clusters=25 exceeds the number of items.*n_clusters <= n_items"):
        _grouper(n_clusters=N_ITEMS + 1).fit(X)
    with pytest.raises(ValueError, match=r"overlap=5 asks for R=5 .*more than n_clusters=4.*R <= K"):
        _grouper(overlap=5).fit(X)
    with pytest.raises(ValueError, match=rf"n_components={N_ITEMS} must be smaller than both"):
        _grouper(n_components=N_ITEMS).fit(X)
    with pytest.raises(ValueError, match="n_components=9 must be smaller than both"):
        _grouper(n_components=9).fit(X[:9])  # F >= number of users


@pytest.mark.parametrize(
    "mask, match",
    [
        (np.ones((3, N_ITEMS - 1), dtype=bool), r"connectivity must have shape \(n_hidden, n_items=24\)"),
        (np.ones(N_ITEMS, dtype=bool), r"connectivity must have shape"),
        (np.ones((0, N_ITEMS), dtype=bool), "at least one hidden unit"),
        (np.eye(3, N_ITEMS, dtype=bool), r"leaves 21 item\(s\) without any link.*every column"),
        (np.full((3, N_ITEMS), np.nan), "connectivity contains NaN or infinity"),
    ],
    ids=["wrong-shape", "1d", "no-row", "unlinked-item", "nan"],
)
def test_connectivity_is_checked(X, mask, match):
    with pytest.raises(ValueError, match=match):
        SparseWideDAERecommender(connectivity=mask, max_iter=1, device="cpu").fit(X)


@pytest.mark.parametrize("estimator", AUTOENCODERS, ids=_name)
@pytest.mark.parametrize(
    "device, match",
    [
        ("tpu", "not a valid torch device"),
        ("gpu:0", "not a valid torch device"),
        (3, "The .device. parameter .* must be an instance of .str."),
    ],
)
def test_unknown_devices_are_rejected(estimator, X, device, match):
    with pytest.raises(ValueError, match=match):
        clone(estimator).set_params(device=device).fit(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_cuda_is_a_clear_error(X, device):
    # Raised before any work: no torch traceback from deep inside training.
    with pytest.raises(ValueError, match=r"torch sees no CUDA device.*device='auto' to fall back"):
        FCDAERecommender(n_hidden=4, max_iter=1, device=device).fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_out_of_range_is_a_clear_error(X):
    device = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(ValueError, match=r"does not exist: torch sees \d+ CUDA device"):
        FCDAERecommender(n_hidden=4, max_iter=1, device=device).fit(X)


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k])
def test_metrics_reject_bad_input(metric):
    y_true, y_score = np.array([[1, 0, 1]]), np.array([[0.3, 0.2, 0.1]])
    with pytest.raises(ValueError, match="y_score contains NaN"):
        metric(y_true, np.array([[np.nan, 0.0, 1.0]]))
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="y_true must be finite and non-negative"):
            metric(np.array([[bad, 0, 1]]), y_score)
    with pytest.raises(ValueError, match="y_score must be 2D"):
        metric(y_true[0], y_score[0])
    with pytest.raises(ValueError, match="same shape"):
        metric(y_true, y_score[:, :2])
    with pytest.raises(ValueError, match=r"are empty \(shape \(0, 3\)\)"):
        metric(np.ones((0, 3)), np.ones((0, 3)))
    with pytest.raises(ValueError, match="No user has a relevant item"):
        metric(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="'k' parameter"):
        metric(y_true, y_score, k=0)
    # -inf is the documented way to exclude an item, so it is valid.
    assert metric(y_true, np.array([[-np.inf, 0.1, 0.2]]), k=1) == 1.0


@pytest.mark.parametrize("value", [np.nan, np.inf, -1.0])
def test_splitters_reject_bad_values(value):
    X = np.ones((10, 6))
    X[2, 3] = value
    with pytest.raises(ValueError, match=r"X contains (NaN or infinity|negative values)"):
        split_fold_in(X)
    with pytest.raises(ValueError, match=r"X contains (NaN or infinity|negative values)"):
        strong_generalization_split(X, n_validation=2, n_test=2)


def test_splitters_reject_bad_shapes():
    with pytest.raises(ValueError, match=r"X must be 2D \(n_users, n_items\)"):
        split_fold_in(np.ones(5))
    with pytest.raises(ValueError, match="leave no training users"):
        strong_generalization_split(np.zeros((0, 3)), n_validation=0, n_test=0)


def test_loaders_reject_infinite_values_with_file_and_line(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item,rating\n1,10,4\n2,10,inf\n")
    with pytest.raises(ValueError, match=r"log.csv.*line 3.*'inf' is infinite"):
        load_interactions(path, "user", "item", "rating")
    with pytest.raises(ValueError, match="X contains infinite values"):
        preprocess_interactions(np.array([[1.0, np.inf]]))


def test_loader_item_ids_cannot_be_out_of_range(tmp_path):
    # Loaders never index by raw id: any ids (huge, negative, strings) are
    # mapped to contiguous columns, and item_ids maps the columns back.
    path = tmp_path / "log.csv"
    path.write_text("user,item\n7,9000000000\n7,-3\n8,-3\n8,abc\n")
    data = load_interactions(path, "user", "item")
    assert data.data.shape == (2, 3)
    assert sorted(map(str, data.item_ids.tolist())) == ["-3", "9000000000", "abc"]
    column = {str(item): j for j, item in enumerate(data.item_ids.tolist())}
    assert data.data[[0], [column["9000000000"]]].item() == 1
    assert data.data[[1], [column["abc"]]].item() == 1


def test_checkpoint_parameters_are_checked(X, tmp_path):
    with pytest.raises(ValueError, match="Checkpoint every must be a positive integer"):
        FCDAERecommender(n_hidden=4, max_iter=1, device="cpu", callbacks=[Checkpoint(tmp_path, every=0)]).fit(X)


# --------------------------------------------------------------------------
# Properties over random sparse matrices
# --------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def interactions(draw, min_users=6, max_users=40, min_items=4, max_items=20):
    n_users = draw(st.integers(min_users, max_users))
    n_items = draw(st.integers(min_items, max_items))
    density = draw(st.floats(0.02, 0.6))
    seed = draw(st.integers(0, 2**31 - 1))
    X = sp.random(n_users, n_items, density=density, format="csr", random_state=seed)
    assume(X.nnz > 0)
    return X


@PROPERTY_SETTINGS
@given(X=interactions(), data=st.data())
def test_property_every_item_has_exactly_R_links(X, data):
    n_users, n_items = X.shape
    assume(min(n_users, n_items) >= 2)
    K = data.draw(st.integers(1, n_items), label="K")
    R = data.draw(st.integers(1, K), label="R")
    F = data.draw(st.integers(1, min(n_users, n_items) - 1), label="F")
    method = data.draw(st.sampled_from(["laplacian", "svd"]), label="method")
    with warnings.catch_warnings():
        # Degenerate random matrices: spectral residual and K-means duplicate-point warnings.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        # K above the distinct item embeddings: lowered, with a UserWarning.
        warnings.simplefilter("ignore", UserWarning)
        grouper = ItemGrouper(n_clusters=K, overlap=R, n_components=F, method=method, random_state=0).fit(X)
    mask = grouper.connectivity_
    assert 1 <= grouper.n_clusters_ <= K
    assert mask.shape == (grouper.n_clusters_, n_items)
    np.testing.assert_array_equal(np.asarray(mask.sum(axis=0)).ravel(), min(R, grouper.n_clusters_))
    assert np.isfinite(grouper.embedding_).all()


@pytest.fixture(scope="module")
def property_model():
    X, _ = make_interactions(150, 18, 3, density=0.2, random_state=1)
    return SparseWideDAERecommender(grouper=_grouper(n_clusters=5), max_iter=2, device="cpu", random_state=0).fit(X)


@PROPERTY_SETTINGS
@given(Q=interactions(min_users=1, max_users=25, min_items=18, max_items=18), top_n=st.integers(1, 18))
def test_property_recommendations_are_unseen_finite_and_deterministic(property_model, Q, top_n):
    items, scores = property_model.recommend(Q, top_n=top_n, return_scores=True)
    seen = Q.toarray() > 0
    for row, row_items in enumerate(items):
        listed = row_items[row_items < Q.shape[1]]
        assert not seen[row, listed].any()  # never a seen item
        assert len(set(listed.tolist())) == listed.size  # no repeats
        # padded with n_items only when the user has fewer unseen items than top_n
        assert listed.size == min(top_n, int((~seen[row]).sum()))
        assert np.all(row_items[listed.size :] == Q.shape[1])
    decision = property_model.decision_function(Q)
    assert np.isfinite(decision).all()
    assert np.isfinite(scores[items < Q.shape[1]]).all()
    np.testing.assert_array_equal(property_model.decision_function(Q), decision)
    np.testing.assert_array_equal(property_model.recommend(Q, top_n=top_n), items)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(X=interactions(min_users=20, max_users=60, min_items=6, max_items=14))
def test_property_fit_on_random_data_gives_finite_scores(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SparseWideDAERecommender(
            grouper=_grouper(n_clusters=3, overlap=1, n_components=2),
            max_iter=2,
            batch_size=16,
            device="cpu",
            random_state=0,
        ).fit(X)
    assert np.isfinite(model.decision_function(X)).all()
    assert all(np.isfinite(record["train_loss"]) for record in model.history_)


# --------------------------------------------------------------------------
# Persistence
# --------------------------------------------------------------------------


def _predictions(model, X):
    if isinstance(model, ItemGrouper):
        return model.connectivity_.toarray()
    return model.decision_function(X)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
def test_joblib_round_trip_predicts_identically(estimator, X, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = clone(estimator).fit(X)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning at all
        loaded = joblib.load(path)
    np.testing.assert_array_equal(_predictions(loaded, X), _predictions(model, X))
    if not isinstance(model, ItemGrouper):
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
def test_pickles_record_the_version_and_warn_on_mismatch(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = clone(estimator).fit(X)
    state = model.__getstate__()
    assert state["_sklearn_swdae_version"] == sklearn_swdae.__version__
    assert "_sklearn_swdae_version" not in vars(model)  # the live model is untouched
    for saved in ("0.0.1", None):
        old_state = dict(state, _sklearn_swdae_version=saved)
        if saved is None:
            del old_state["_sklearn_swdae_version"]
        loaded = type(model).__new__(type(model))
        with pytest.warns(InconsistentVersionWarning) as record:
            loaded.__setstate__(old_state)
        warning = record[0].message
        assert warning.original_version == saved
        assert warning.current_version == sklearn_swdae.__version__
        assert type(model).__name__ in str(warning)
        np.testing.assert_array_equal(_predictions(loaded, X), _predictions(model, X))


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


@pytest.mark.parametrize("name", [_name(e) for e in AUTOENCODERS])
def test_torch_state_is_loaded_weights_only(fitted, name):
    state = fitted[name].__getstate__()
    assert isinstance(state["_module_state"], bytes)  # no torch objects in the pickle
    weights = torch_state_from_bytes(state["_module_state"])
    assert all(isinstance(value, torch.Tensor) for value in weights.values())
    # Bytes that would run code (here os.system) are refused by the
    # weights-only unpickler instead of being executed.
    buffer = io.BytesIO()
    torch.save({"weight": _Evil()}, buffer)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch_state_from_bytes(buffer.getvalue())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("estimator", AUTOENCODERS, ids=_name)
def test_cuda_model_round_trip(estimator, X, tmp_path):
    model = clone(estimator).set_params(device="cuda").fit(X)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert loaded.device_.type == "cuda"
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))


# --------------------------------------------------------------------------
# Reproducibility
# --------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
def test_same_random_state_gives_identical_models(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first, second = clone(estimator).fit(X), clone(estimator).fit(X)
    np.testing.assert_array_equal(_predictions(first, X), _predictions(second, X))
    for attribute in ("connectivity_", "coef_", "item_popularity_"):
        if hasattr(first, attribute):
            a, b = getattr(first, attribute), getattr(second, attribute)
            np.testing.assert_array_equal(a.toarray() if sp.issparse(a) else a, b.toarray() if sp.issparse(b) else b)
    if hasattr(first, "module_"):
        for (key, a), b in zip(first.module_.state_dict().items(), second.module_.state_dict().values()):
            assert torch.equal(a, b), key
        assert [r["train_loss"] for r in first.history_] == [r["train_loss"] for r in second.history_]


@pytest.mark.parametrize("estimator", AUTOENCODERS, ids=_name)
def test_different_random_states_give_different_weights(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = clone(estimator).fit(X)
        second = clone(estimator).set_params(random_state=1).fit(X)
    assert not np.array_equal(first.decision_function(X), second.decision_function(X))


# --------------------------------------------------------------------------
# Interrupted training
# --------------------------------------------------------------------------


def _checkpoint_model(**params):
    params = {
        "grouper": _grouper(n_clusters=6),
        "max_iter": 6,
        "batch_size": 40,
        "validation_fraction": 0.25,
        "device": "cpu",
        "random_state": 0,
        **params,
    }
    return SparseWideDAERecommender(**params)


@pytest.fixture(scope="module")
def checkpoint_data():
    X, _ = make_interactions(240, 30, 3, density=0.25, random_state=2)
    return X


def _assert_same_training(resumed, reference, X):
    assert resumed.best_epoch_ == reference.best_epoch_
    assert resumed.n_iter_ == reference.n_iter_

    def strip(history):
        return [{k: v for k, v in record.items() if k != "dur"} for record in history]

    assert strip(resumed.history_) == strip(reference.history_)
    for (key, a), b in zip(resumed.module_.state_dict().items(), reference.module_.state_dict().values()):
        assert torch.equal(a, b), key  # bit for bit
    np.testing.assert_array_equal(resumed.decision_function(X), reference.decision_function(X))


class _Interrupt(Callback):
    """Stands for a crash right after the checkpoint of epoch ``after``."""

    def __init__(self, after):
        self.after = after

    def on_epoch_end(self, engine, record):
        if record["epoch"] == self.after:
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    "make",
    [
        _checkpoint_model,
        lambda **p: _checkpoint_model(n_iter_no_change=2, **p),
        lambda **p: MultVAERecommender(
            n_hidden=8,
            n_latent=3,
            total_anneal_steps=20,
            max_iter=5,
            batch_size=40,
            validation_fraction=0.25,
            device="cpu",
            random_state=0,
            **p,
        ),
    ],
    ids=["swdae", "swdae-early-stopping", "multvae-annealing"],
)
def test_resumed_training_equals_uninterrupted(checkpoint_data, tmp_path, make):
    X = checkpoint_data
    reference = make().fit(X)
    with pytest.raises(KeyboardInterrupt):
        make(callbacks=[Checkpoint(tmp_path), _Interrupt(after=2)]).fit(X)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert saved["engine"]["epoch"] == 2
    checkpoint = Checkpoint(tmp_path)
    resumed = make(callbacks=[checkpoint]).fit(X)
    assert checkpoint.resumed_epoch_ == 2
    _assert_same_training(resumed, reference, X)
    if isinstance(reference, MultVAERecommender):
        assert (resumed.beta_, resumed.n_updates_) == (reference.beta_, reference.n_updates_)
    assert list(tmp_path.iterdir()) == [tmp_path / "checkpoint.pt"]  # no temporary file left


def test_stale_temporary_checkpoint_files_are_removed(checkpoint_data, tmp_path):
    # What a process killed in the middle of torch.save leaves behind.
    stale = tmp_path / ".checkpoint.pt.12345.tmp"
    stale.write_bytes(b"truncated")
    _checkpoint_model(max_iter=1, callbacks=[Checkpoint(tmp_path)]).fit(checkpoint_data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_checkpoint_of_another_run_is_refused(checkpoint_data, tmp_path):
    X = checkpoint_data
    _checkpoint_model(max_iter=1, callbacks=[Checkpoint(tmp_path)]).fit(X)
    for other in (
        _checkpoint_model(max_iter=2, random_state=1, callbacks=[Checkpoint(tmp_path)]),
        _checkpoint_model(max_iter=2, random_state=None, callbacks=[Checkpoint(tmp_path)]),
        _checkpoint_model(max_iter=2, learning_rate=1e-2, callbacks=[Checkpoint(tmp_path)]),
    ):
        with pytest.raises(ValueError, match="was written by another run.*int random_state"):
            other.fit(X)
    with pytest.raises(ValueError, match="was written by another run"):
        _checkpoint_model(max_iter=2, callbacks=[Checkpoint(tmp_path)]).fit(X[:200])
    # resume=False starts afresh and overwrites it.
    model = _checkpoint_model(max_iter=2, random_state=1, callbacks=[Checkpoint(tmp_path, resume=False)]).fit(X)
    assert model.n_iter_ == 2
    torch.save({"something": "else"}, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="is not a checkpoint of this version"):
        _checkpoint_model(max_iter=2, callbacks=[Checkpoint(tmp_path)]).fit(X)


def test_resuming_a_finished_run_restores_its_result(checkpoint_data, tmp_path):
    X = checkpoint_data
    first = _checkpoint_model(max_iter=3, callbacks=[Checkpoint(tmp_path)]).fit(X)
    again = _checkpoint_model(max_iter=3, callbacks=[Checkpoint(tmp_path)]).fit(X)
    _assert_same_training(again, first, X)
    longer = _checkpoint_model(max_iter=5, callbacks=[Checkpoint(tmp_path)]).fit(X)
    _assert_same_training(longer, _checkpoint_model(max_iter=5).fit(X), X)


_KILLED_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import torch
    torch.set_num_threads(int(sys.argv[2]))
    sys.path.insert(0, sys.argv[3])
    from test_reliability import _checkpoint_model, make_interactions
    from sklearn_swdae.checkpoint import Checkpoint
    from sklearn_swdae.training import Callback

    folder = Path(sys.argv[1])

    class HangInEpoch3(Callback):
        # Blocks in the middle of epoch 3 (first training batch), after the
        # checkpoint of epoch 2 was written, so that the kill lands mid-epoch.
        def on_train_begin(self, engine):
            def hook(module, inputs):
                if module.training and engine.epoch >= 2:
                    (folder / "in-epoch-3").write_text("x")
                    time.sleep(600)
            engine.module.register_forward_pre_hook(hook)

    X, _ = make_interactions(240, 30, 3, density=0.25, random_state=2)
    _checkpoint_model(callbacks=[Checkpoint(folder), HangInEpoch3()]).fit(X)
    """
)


@pytest.mark.slow
def test_training_killed_mid_epoch_resumes_to_the_same_model(checkpoint_data, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_KILLED_SCRIPT)
    folder = tmp_path / "ckpt"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, str(script), str(folder), str(torch.get_num_threads()), str(REPO / "tests")],
        env=env,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 300
        while not (folder / "in-epoch-3").exists():
            assert process.poll() is None, "the training process ended before epoch 3"
            assert time.monotonic() < deadline, "epoch 3 never started"
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert torch.load(folder / "checkpoint.pt", weights_only=True)["engine"]["epoch"] == 2
    checkpoint = Checkpoint(folder)
    resumed = _checkpoint_model(callbacks=[checkpoint]).fit(checkpoint_data)
    assert checkpoint.resumed_epoch_ == 2
    _assert_same_training(resumed, _checkpoint_model().fit(checkpoint_data), checkpoint_data)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_resumes(checkpoint_data, tmp_path):
    X = checkpoint_data
    with pytest.raises(KeyboardInterrupt):
        _checkpoint_model(device="cuda", callbacks=[Checkpoint(tmp_path), _Interrupt(after=2)]).fit(X)
    resumed = _checkpoint_model(device="cuda", callbacks=[Checkpoint(tmp_path)]).fit(X)
    reference = _checkpoint_model(device="cuda").fit(X)
    assert resumed.n_iter_ == reference.n_iter_
    # Same RNG streams; the arithmetic itself may differ in the last bits on CUDA.
    np.testing.assert_allclose(resumed.decision_function(X), reference.decision_function(X), rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------


def test_available_memory_is_reported():
    available = _memory.available_memory(torch.device("cpu"))
    assert available is None or available > 0


@pytest.mark.parametrize("estimator", AUTOENCODERS, ids=_name)
def test_training_too_large_for_memory_fails_with_advice(estimator, X, monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda device: 10_000)
    with pytest.raises(InsufficientMemoryError, match=r"Training needs at least .* batch_size \(now 32\)"):
        clone(estimator).fit(X)


def test_training_memory_estimate_grows_with_batch_and_items(X, monkeypatch):
    # Room for a batch of 32 users but not for one of 120: only the batch size changes.
    model = FCDAERecommender(n_hidden=6, max_iter=1, device="cpu", validation_fraction=None, random_state=0)
    n_params = 2 * 6 * N_ITEMS + 6 + N_ITEMS
    limit = 4 * (4 * n_params + 4 * 64 * N_ITEMS)  # float32 state + 4 dense batch tensors
    monkeypatch.setattr(_memory, "available_memory", lambda device: limit)
    clone(model).set_params(batch_size=32).fit(X)
    with pytest.raises(InsufficientMemoryError, match="smaller batch_size"):
        clone(model).set_params(batch_size=N_USERS).fit(X)


@pytest.mark.parametrize("name", [_name(e) for e in AUTOENCODERS])
def test_prediction_too_large_for_memory_fails_with_advice(fitted, X, monkeypatch, name):
    monkeypatch.setattr(_memory, "available_memory", lambda device: 1_000)
    with pytest.raises(InsufficientMemoryError, match=r"Prediction needs at least.*To proceed"):
        fitted[name].predict(X)


def test_ease_too_large_for_memory_fails_with_advice(X, monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda device: 1_000)
    with pytest.raises(InsufficientMemoryError, match="item-item matrices, float64 and float32.*fewer items"):
        EASERecommender().fit(X)


@pytest.mark.parametrize(
    "error",
    [
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"),
        MemoryError(),
    ],
    ids=["cuda", "torch-cpu", "numpy"],
)
def test_out_of_memory_during_training_is_reported_with_advice(X, monkeypatch, error):
    def loss(output, targets):
        raise error

    model = FCDAERecommender(n_hidden=4, max_iter=2, device="cpu", random_state=0)
    monkeypatch.setattr("sklearn_swdae.autoencoders._fully_connected.make_loss", lambda *args: loss)
    with pytest.raises(InsufficientMemoryError, match=r"Ran out of memory on cpu during training.*batch_size") as info:
        model.fit(X)
    assert info.value.__cause__ is error


def test_out_of_memory_during_prediction_is_reported_with_advice(fitted, X, monkeypatch):
    model = pickle.loads(pickle.dumps(fitted["FCDAERecommender"]))  # a copy to break

    def forward(x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(model.module_, "forward", forward)
    with pytest.raises(InsufficientMemoryError, match="Ran out of memory on cpu during prediction"):
        model.predict(X)


def test_other_errors_during_training_are_not_rewritten(X, monkeypatch):
    def loss(output, targets):
        raise RuntimeError("shape mismatch")

    model = FCDAERecommender(n_hidden=4, max_iter=2, device="cpu", random_state=0)
    monkeypatch.setattr("sklearn_swdae.autoencoders._fully_connected.make_loss", lambda *args: loss)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        model.fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_real_cuda_out_of_memory_is_reported_with_advice(X, monkeypatch):
    assert _memory.available_memory(torch.device("cuda")) > 0

    def loss(output, targets):
        return torch.empty(2**50, device=output.logits.device).sum()  # 4 PiB: never fits

    model = FCDAERecommender(n_hidden=4, max_iter=1, device="cuda", random_state=0)
    monkeypatch.setattr("sklearn_swdae.autoencoders._fully_connected.make_loss", lambda *args: loss)
    with pytest.raises(InsufficientMemoryError, match=r"Ran out of memory on cuda.*smaller batch_size") as info:
        model.fit(X)
    assert isinstance(info.value.__cause__, torch.cuda.OutOfMemoryError)
