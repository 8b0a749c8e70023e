"""SW-DAE on real MovieLens data (slow, opt-in: ``pytest -m slow``).

Skipped when ``shared/data`` is absent.  The full measurements are made by
``benchmarks/bench_movielens.py`` and recorded in benchmarks/RESULTS.md.
"""

import numpy as np
import pytest
from conftest import real_folder

from sklearn_swdae import ItemGrouper, PopularityRecommender, SparseWideDAERecommender
from sklearn_swdae.datasets import load_movielens, preprocess_interactions
from sklearn_swdae.metrics import evaluate_rankings
from sklearn_swdae.model_selection import strong_generalization_split

pytestmark = pytest.mark.slow


def test_swdae_beats_popularity_on_ml100k():
    X = preprocess_interactions(load_movielens(real_folder("ml-100k")).data, "ml-20m").data
    split = strong_generalization_split(X, n_validation=0.1, n_test=0.1)
    model = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=500, random_state=0), max_iter=60, random_state=0
    ).fit(split.train)
    popularity = PopularityRecommender().fit(split.train)
    scores = {}
    for name, recommender in [("swdae", model), ("popularity", popularity)]:
        per_user = evaluate_rankings(
            recommender.decision_function, split.test_fold_in, split.test_held_out, ["ndcg@100"]
        )["ndcg@100"]
        scores[name] = np.nanmean(per_user)
    assert scores["swdae"] > scores["popularity"], scores
