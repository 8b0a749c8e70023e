"""Make tests/data/fingerprints.npz and tests/data/autoencoders_pre18.pkl.z.

Behaviour fingerprints recorded before the architecture refactor of issue 18:
every estimator of the package fitted on generated data with a fixed seed on
the CPU, with the top-10 lists and float32 scores of held-out users.
``tests/test_fingerprints.py`` refits with the same specs (it imports
``SPECS`` and ``make_data`` from here) and compares; it also loads the
pickled autoencoders, which stand for models saved by the release before the
refactor.

Run from the repository root only to record new fingerprints, on purpose:
``python tests/data/make_fingerprints.py``.  Nothing runs on import (pytest
imports every module for its doctests).
"""

import os
import time

import numpy as np
import scipy.sparse as sp

from sklearn_swdae import (
    CDAERecommender,
    EASERecommender,
    FCDAERecommender,
    ItemGrouper,
    MultDAERecommender,
    MultVAERecommender,
    PopularityRecommender,
    PrunedDAERecommender,
    SLIMRecommender,
    SparseWideDAERecommender,
    WMFRecommender,
)
from sklearn_swdae.datasets import make_interactions

FOLDER = os.path.dirname(os.path.abspath(__file__))
FINGERPRINTS = os.path.join(FOLDER, "fingerprints.npz")
PICKLES = os.path.join(FOLDER, "autoencoders_pre18.pkl.z")

N_TRAIN = 240
TOP_N = 10


def make_data():
    """(training users, held-out users) as CSR arrays."""
    X, _ = make_interactions(300, 80, 6, density=0.1, random_state=0)
    X = sp.csr_array(X)
    return X[:N_TRAIN], X[N_TRAIN:]


def _grouper():
    return ItemGrouper(n_clusters=12, overlap=3, n_components=6, random_state=0)


def _autoencoder_settings(**overrides):
    # The learning rate the fingerprints were recorded with: SW-DAE's default
    # became 3e-3 afterwards (an intended change, issue 16), the others' is 1e-3.
    # Likewise SW-DAE averages its weights by default since then.
    settings = dict(max_iter=4, batch_size=48, learning_rate=1e-3, average_half_life=None, device="cpu", random_state=0)
    return {**settings, **overrides}


def _swdae_settings(**overrides):
    # SW-DAE's hidden dropout became "auto" afterwards (0.5 on this few users).
    return _autoencoder_settings(hidden_dropout=0.2, **overrides)


# name -> (factory, whether the model is a torch autoencoder)
SPECS = {
    "swdae_sparse": (
        lambda: SparseWideDAERecommender(grouper=_grouper(), layer_backend="sparse", **_swdae_settings()),
        True,
    ),
    "swdae_dense": (
        lambda: SparseWideDAERecommender(grouper=_grouper(), layer_backend="dense", **_swdae_settings()),
        True,
    ),
    "swdae_bernoulli_early_stop": (
        lambda: SparseWideDAERecommender(
            grouper=_grouper(),
            loss="bernoulli",
            **_swdae_settings(max_iter=8, n_iter_no_change=1, tol=0.5),
        ),
        True,
    ),
    "swdae_no_validation": (
        lambda: SparseWideDAERecommender(
            grouper=_grouper(), **_swdae_settings(validation_fraction=None, batch_size="auto")
        ),
        True,
    ),
    "swdae_stacked": (
        lambda: SparseWideDAERecommender(grouper=_grouper(), stacked_layer_sizes=[6], **_swdae_settings(max_iter=3)),
        True,
    ),
    "fcdae": (lambda: FCDAERecommender(n_hidden=16, **_autoencoder_settings()), True),
    "fcreg": (lambda: FCDAERecommender(n_hidden=16, activity_l1=1e-2, **_autoencoder_settings()), True),
    "pruned": (
        lambda: PrunedDAERecommender(n_hidden=16, sparsity=0.8, retrain_iter=3, **_autoencoder_settings()),
        True,
    ),
    "pruned_fcreg": (
        lambda: PrunedDAERecommender(
            n_hidden=16, sparsity=0.5, activity_l1=1e-2, loss="bernoulli", **_autoencoder_settings(max_iter=3)
        ),
        True,
    ),
    "cdae": (lambda: CDAERecommender(n_hidden=16, **_autoencoder_settings()), True),
    "multdae": (lambda: MultDAERecommender(n_hidden=16, **_autoencoder_settings()), True),
    "multvae": (
        lambda: MultVAERecommender(n_hidden=24, n_latent=8, total_anneal_steps=10, **_autoencoder_settings()),
        True,
    ),
    "ease": (lambda: EASERecommender(), False),
    "slim": (lambda: SLIMRecommender(max_iter=50), False),
    "popularity": (lambda: PopularityRecommender(), False),
    "wmf": (lambda: WMFRecommender(n_factors=8, n_jobs=1, random_state=0), False),
}


def _wmf_available():
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True


def available_specs():
    """The specs this machine can fit (WMF needs the implicit package)."""
    return {name: spec for name, spec in SPECS.items() if name != "wmf" or _wmf_available()}


def fingerprint(model, X_query):
    """(top-10 lists, float32 scores of every item) of the query users."""
    top = model.recommend(X_query, top_n=TOP_N)
    scores = model.decision_function(X_query).astype(np.float32)
    return top, scores


def grouper_mask(X_train):
    return _grouper().fit(X_train).connectivity_.toarray()


def main():
    import joblib

    X_train, X_query = make_data()
    arrays = {"grouper_mask": grouper_mask(X_train)}
    pickled = {}
    for name, (factory, is_autoencoder) in available_specs().items():
        tic = time.perf_counter()
        model = factory().fit(X_train)
        arrays[name + "_top"], arrays[name + "_scores"] = fingerprint(model, X_query)
        if is_autoencoder:
            pickled[name] = model
        print(f"{name}: {time.perf_counter() - tic:.2f}s")
    np.savez_compressed(FINGERPRINTS, **arrays)
    joblib.dump(pickled, PICKLES, compress=3)
    for path in (FINGERPRINTS, PICKLES):
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
