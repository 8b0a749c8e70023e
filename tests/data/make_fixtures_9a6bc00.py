"""Make the tests/data fixtures: SW-DAE models pickled by the code of commit 9a6bc00.

Run from the repository root, on a checkout of 9a6bc00 (before issue 19):
``python tests/data/make_fixtures_9a6bc00.py``.  Run on later code it would
overwrite the fixtures with files of that code, which is why nothing runs on
import (pytest imports every module for its doctests).  The models are
``.pkl.z`` (joblib, zlib-compressed) because ``*.joblib`` is git-ignored.
"""

import os

import joblib
import numpy as np
import scipy.sparse as sp

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.datasets import make_interactions


def main():
    X, _ = make_interactions(150, 60, 4, density=0.15, random_state=0)
    X = sp.csr_array(X)
    grouper = ItemGrouper(n_clusters=8, overlap=2, n_components=5, random_state=0)
    settings = dict(grouper=grouper, max_iter=3, batch_size=50, device="cpu", random_state=0)
    model = SparseWideDAERecommender(layer_backend="sparse", **settings).fit(X)
    joblib.dump(model, "tests/data/swdae_sparse_9a6bc00.pkl.z", compress=3)
    dense = SparseWideDAERecommender(layer_backend="dense", **settings).fit(X)
    joblib.dump(dense, "tests/data/swdae_dense_9a6bc00.pkl.z", compress=3)
    Xq = X[:20]
    np.savez_compressed(
        "tests/data/swdae_9a6bc00_scores.npz",
        X_data=Xq.data, X_indices=Xq.indices, X_indptr=Xq.indptr, X_shape=np.array(Xq.shape),
        sparse_scores=model.decision_function(Xq), dense_scores=dense.decision_function(Xq),
        sparse_top=model.recommend(Xq, top_n=10), dense_top=dense.recommend(Xq, top_n=10),
    )  # fmt: skip
    for name in sorted(os.listdir("tests/data")):
        print(name, os.path.getsize(os.path.join("tests/data", name)))


if __name__ == "__main__":
    main()
