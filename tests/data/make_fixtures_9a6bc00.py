# Run on commit 9a6bc00 (before issue 19) to make tests/data/ fixtures.
# Kept for provenance: running it on later code makes files of that code, not these.
# The models are .pkl.z (joblib, zlib-compressed) because *.joblib is git-ignored.
import joblib, numpy as np, scipy.sparse as sp, os
from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.datasets import make_interactions
X, _ = make_interactions(150, 60, 4, density=0.15, random_state=0)
X = sp.csr_array(X)
grouper = ItemGrouper(n_clusters=8, overlap=2, n_components=5, random_state=0)
model = SparseWideDAERecommender(grouper=grouper, layer_backend="sparse", max_iter=3, batch_size=50,
                                 device="cpu", random_state=0).fit(X)
print(model.layer_backends_)
joblib.dump(model, "tests/data/swdae_sparse_9a6bc00.pkl.z", compress=3)
dense = SparseWideDAERecommender(grouper=grouper, layer_backend="dense", max_iter=3, batch_size=50,
                                 device="cpu", random_state=0).fit(X)
joblib.dump(dense, "tests/data/swdae_dense_9a6bc00.pkl.z", compress=3)
Xq = X[:20]
np.savez_compressed("tests/data/swdae_9a6bc00_scores.npz", X_data=Xq.data, X_indices=Xq.indices,
                    X_indptr=Xq.indptr, X_shape=np.array(Xq.shape),
                    sparse_scores=model.decision_function(Xq), dense_scores=dense.decision_function(Xq),
                    sparse_top=model.recommend(Xq, top_n=10), dense_top=dense.recommend(Xq, top_n=10))
for f in os.listdir("tests/data"): print(f, os.path.getsize("tests/data/"+f))
