"""Tests of the ranking metrics (paper section 4.2) and of the scorers."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_swdae.baselines import PopularityRecommender
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.metrics import (
    RecommendationScorer,
    evaluate_rankings,
    ndcg_at_k,
    recall_at_k,
    recommendation_scorers,
    score_recommender,
    top_k_items,
)
from sklearn_swdae.model_selection import split_fold_in

# --------------------------------------------------------------------------
# Reference implementation: plain python loops, straight from the paper.
# --------------------------------------------------------------------------


def _ref_ranking(row):
    """Item indices by decreasing score, ties broken by the smaller index."""
    return sorted(range(len(row)), key=lambda j: (-row[j], j))


def _ref_metrics(y_true, y_score, k):
    """Per-user (recall@k, ndcg@k) with NaN for users without relevant items.

    Natural logarithm on purpose: the base of the log cancels in NDCG.
    """
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=float)
    recalls, ndcgs = [], []
    for u in range(y_true.shape[0]):
        relevant = {j for j in range(y_true.shape[1]) if y_true[u, j] > 0}
        if not relevant:
            recalls.append(math.nan)
            ndcgs.append(math.nan)
            continue
        top = _ref_ranking(list(y_score[u]))[:k]
        hits = sum(1 for j in top if j in relevant)
        recalls.append(hits / min(k, len(relevant)))
        dcg = sum(1.0 / math.log(r + 1) for r, j in enumerate(top, start=1) if j in relevant)
        idcg = sum(1.0 / math.log(r + 1) for r in range(1, min(k, len(relevant)) + 1))
        ndcgs.append(dcg / idcg)
    return np.array(recalls), np.array(ndcgs)


def _random_problem(seed, n_users=30, n_items=25, ties=False, neg_inf=False):
    rng = np.random.RandomState(seed)
    y_true = (rng.random_sample((n_users, n_items)) < 0.2).astype(np.float64)
    y_true[0] = 0  # a user without relevant items
    y_true[1] = 1  # a user for whom every item is relevant
    if ties:
        y_score = rng.randint(0, 4, size=(n_users, n_items)).astype(np.float64)
    else:
        y_score = rng.standard_normal((n_users, n_items))
    if neg_inf:
        y_score[rng.random_sample(y_score.shape) < 0.3] = -np.inf
        y_score[2] = -np.inf  # nothing but excluded items in this row
    return y_true, y_score


# --------------------------------------------------------------------------
# Hand-computed examples
# --------------------------------------------------------------------------

# Scores of six items; the ranking is 0, 2, 3, 5, 4, 1.
SCORES = np.array([0.9, 0.1, 0.8, 0.7, 0.2, 0.3])


def test_top_k_items_simple_ranking():
    assert top_k_items(SCORES[None], 6).tolist() == [[0, 2, 3, 5, 4, 1]]
    assert top_k_items(SCORES[None], 3).tolist() == [[0, 2, 3]]
    # k larger than the number of items is clipped
    assert top_k_items(SCORES[None], 60).tolist() == [[0, 2, 3, 5, 4, 1]]
    assert top_k_items(SCORES[None], 3).dtype == np.int64


def test_recall_user_with_more_relevant_items_than_k():
    # Three relevant items (0, 1, 2); relevant at ranks 1, 2 and 6.
    y_true = np.array([[1, 1, 1, 0, 0, 0]])
    # k=2: both top items relevant, denominator min(2, 3) = 2 -> 1 (not 2/3)
    assert recall_at_k(y_true, SCORES[None], k=2) == pytest.approx(1.0)
    # k=1: 1 / min(1, 3)
    assert recall_at_k(y_true, SCORES[None], k=1) == pytest.approx(1.0)
    # k=4: hits 0 and 2, denominator min(4, 3) = 3
    assert recall_at_k(y_true, SCORES[None], k=4) == pytest.approx(2 / 3)
    assert recall_at_k(y_true, SCORES[None], k=6) == pytest.approx(1.0)


def test_recall_user_with_fewer_relevant_items_than_k():
    # Two relevant items at ranks 1 (item 0) and 3 (item 3).
    y_true = np.array([[1, 0, 0, 1, 0, 0]])
    assert recall_at_k(y_true, SCORES[None], k=2) == pytest.approx(1 / 2)
    assert recall_at_k(y_true, SCORES[None], k=3) == pytest.approx(2 / 2)
    assert recall_at_k(y_true, SCORES[None], k=5) == pytest.approx(1.0)
    # A single relevant item ranked last.
    y_true = np.array([[0, 1, 0, 0, 0, 0]])
    assert recall_at_k(y_true, SCORES[None], k=5) == 0.0
    assert recall_at_k(y_true, SCORES[None], k=6) == pytest.approx(1.0)


def test_ndcg_hand_computed():
    log = math.log  # any base: it cancels
    # Three relevant items (0, 1, 2) at ranks 1, 6, 2.
    y_true = np.array([[1, 1, 1, 0, 0, 0]])
    assert ndcg_at_k(y_true, SCORES[None], k=2) == pytest.approx(1.0)
    dcg4 = 1 / log(2) + 1 / log(3)
    idcg4 = 1 / log(2) + 1 / log(3) + 1 / log(4)  # min(4, 3) = 3 ideal hits
    assert ndcg_at_k(y_true, SCORES[None], k=4) == pytest.approx(dcg4 / idcg4)
    dcg6 = 1 / log(2) + 1 / log(3) + 1 / log(7)
    assert ndcg_at_k(y_true, SCORES[None], k=6) == pytest.approx(dcg6 / idcg4)

    # Two relevant items at ranks 1 and 3: fewer relevant items than k.
    y_true = np.array([[1, 0, 0, 1, 0, 0]])
    expected = (1 / log(2) + 1 / log(4)) / (1 / log(2) + 1 / log(3))
    assert ndcg_at_k(y_true, SCORES[None], k=4) == pytest.approx(expected)
    # k=2: one hit at rank 1, the ideal has min(2, 2) = 2 hits
    expected = (1 / log(2)) / (1 / log(2) + 1 / log(3))
    assert ndcg_at_k(y_true, SCORES[None], k=2) == pytest.approx(expected)

    # One relevant item ranked last.
    y_true = np.array([[0, 1, 0, 0, 0, 0]])
    assert ndcg_at_k(y_true, SCORES[None], k=5) == 0.0
    assert ndcg_at_k(y_true, SCORES[None], k=6) == pytest.approx(log(2) / log(7))


def test_several_users_averaged():
    y_true = np.array([[1, 1, 1, 0, 0, 0], [1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0]])
    y_score = np.tile(SCORES, (3, 1))
    per_user = recall_at_k(y_true, y_score, k=4, average=False)
    np.testing.assert_allclose(per_user[:2], [2 / 3, 1.0])
    assert np.isnan(per_user[2])
    assert recall_at_k(y_true, y_score, k=4) == pytest.approx((2 / 3 + 1.0) / 2)


# --------------------------------------------------------------------------
# Against the loop reference on random data
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("neg_inf", [False, True])
@pytest.mark.parametrize("k", [1, 3, 5, 10, 25, 100])
def test_metrics_match_loop_reference(seed, ties, neg_inf, k):
    y_true, y_score = _random_problem(seed, ties=ties, neg_inf=neg_inf)
    ref_recall, ref_ndcg = _ref_metrics(y_true, y_score, k)
    recall = recall_at_k(y_true, y_score, k=k, average=False)
    ndcg = ndcg_at_k(y_true, y_score, k=k, average=False)
    np.testing.assert_allclose(recall, ref_recall, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(ndcg, ref_ndcg, rtol=1e-12, equal_nan=True)
    assert recall_at_k(y_true, y_score, k=k) == pytest.approx(np.nanmean(ref_recall))
    assert ndcg_at_k(y_true, y_score, k=k) == pytest.approx(np.nanmean(ref_ndcg))
    assert np.all((recall[~np.isnan(recall)] >= 0) & (recall[~np.isnan(recall)] <= 1 + 1e-12))
    assert np.all((ndcg[~np.isnan(ndcg)] >= 0) & (ndcg[~np.isnan(ndcg)] <= 1 + 1e-12))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("neg_inf", [False, True])
def test_top_k_items_matches_stable_sort(seed, ties, neg_inf):
    _, y_score = _random_problem(seed, n_users=40, n_items=15, ties=ties, neg_inf=neg_inf)
    for k in range(1, 16):
        expected = np.array([_ref_ranking(list(row))[:k] for row in y_score])
        np.testing.assert_array_equal(top_k_items(y_score, k), expected)


# --------------------------------------------------------------------------
# Ties and excluded items
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_top_k_items_integer_scores_rank_like_floats(dtype):
    # Integer scores take numpy's selection, floats torch's: same rankings,
    # ties at the cut included.
    scores = np.random.RandomState(0).randint(0, 6, size=(30, 25))
    for k in (1, 5, 24, 25):
        expected = np.array([_ref_ranking(list(row))[:k] for row in scores.astype(float)])
        np.testing.assert_array_equal(top_k_items(scores.astype(dtype), k), expected)


def test_top_k_items_ties_broken_by_smaller_index():
    scores = np.array([[1.0, 2.0, 2.0, 2.0, 0.0]])
    assert top_k_items(scores, 1).tolist() == [[1]]
    assert top_k_items(scores, 2).tolist() == [[1, 2]]  # tie straddles the cut
    assert top_k_items(scores, 3).tolist() == [[1, 2, 3]]
    assert top_k_items(scores, 4).tolist() == [[1, 2, 3, 0]]
    assert top_k_items(scores, 5).tolist() == [[1, 2, 3, 0, 4]]
    # The tie straddling the cut is at the k-th place, after a strict leader.
    scores = np.array([[5.0, 1, 1, 1, 1, 0], [0.0, 1, 1, 1, 1, 5]])
    assert top_k_items(scores, 3).tolist() == [[0, 1, 2], [5, 1, 2]]
    # All equal: identity order.
    assert top_k_items(np.zeros((2, 7)), 4).tolist() == [[0, 1, 2, 3]] * 2
    # The docstring example.
    assert top_k_items(np.array([[0.1, 0.9, 0.5, 0.9]]), 3).tolist() == [[1, 3, 2]]


def test_top_k_items_ties_mixed_rows():
    # One row has a tie across the cut-off, the other has none: both must be
    # ranked correctly in the same call.
    scores = np.array([[3.0, 1.0, 2.0, 2.0, 0.5], [0.1, 0.5, 0.3, 0.9, 0.2]])
    assert top_k_items(scores, 2).tolist() == [[0, 2], [3, 1]]
    assert top_k_items(scores, 3).tolist() == [[0, 2, 3], [3, 1, 2]]


def test_top_k_items_deterministic():
    rng = np.random.RandomState(0)
    scores = rng.randint(0, 3, size=(50, 40)).astype(float)
    first = top_k_items(scores, 7)
    for _ in range(5):
        np.testing.assert_array_equal(top_k_items(scores.copy(), 7), first)
    # Row order does not change the per-row result.
    perm = rng.permutation(50)
    np.testing.assert_array_equal(top_k_items(scores[perm], 7), first[perm])
    # Nor does scoring one user at a time.
    for u in range(50):
        np.testing.assert_array_equal(top_k_items(scores[u : u + 1], 7)[0], first[u])


def test_neg_inf_items_ranked_last():
    scores = np.array([[-np.inf, 0.1, -np.inf, 0.0, -1e300]])
    assert top_k_items(scores, 1).tolist() == [[1]]
    assert top_k_items(scores, 3).tolist() == [[1, 3, 4]]
    # Only when nothing else remains, -inf items fill the list (by index).
    assert top_k_items(scores, 4).tolist() == [[1, 3, 4, 0]]
    assert top_k_items(scores, 5).tolist() == [[1, 3, 4, 0, 2]]


def test_neg_inf_items_not_counted_as_hits():
    y_true = np.array([[1, 0, 0, 0], [1, 1, 0, 0]])
    y_score = np.array([[-np.inf, 1.0, 2.0, 3.0], [-np.inf, -np.inf, 2.0, 3.0]])
    np.testing.assert_array_equal(recall_at_k(y_true, y_score, k=2, average=False), [0.0, 0.0])
    np.testing.assert_array_equal(ndcg_at_k(y_true, y_score, k=2, average=False), [0.0, 0.0])
    # k=3: the first row still has a finite item to fill the list; the second
    # row has run out, so its first -inf item (0, by index) takes rank 3.
    np.testing.assert_allclose(recall_at_k(y_true, y_score, k=3, average=False), [0.0, 0.5])
    np.testing.assert_allclose(
        ndcg_at_k(y_true, y_score, k=3, average=False),
        [0.0, (1 / np.log(4)) / (1 / np.log(2) + 1 / np.log(3))],
    )
    # k = n_items: nothing else remains, the excluded items are ranked last.
    # Second row ranking: 3, 2, 0, 1 (ties among -inf by index).
    np.testing.assert_allclose(recall_at_k(y_true, y_score, k=4, average=False), [1.0, 1.0])
    np.testing.assert_allclose(
        ndcg_at_k(y_true, y_score, k=4, average=False),
        [
            (1 / np.log(5)) / (1 / np.log(2)),
            (1 / np.log(4) + 1 / np.log(5)) / (1 / np.log(2) + 1 / np.log(3)),
        ],
    )


def test_metrics_tie_straddling_cut():
    # Items 1, 2, 3 tie; with k=2 the top list is [1, 2] by index, so only
    # relevant item 2 counts, not relevant item 3.
    y_true = np.array([[0, 0, 1, 1, 0]])
    y_score = np.array([[1.0, 2.0, 2.0, 2.0, 0.0]])
    assert recall_at_k(y_true, y_score, k=2) == pytest.approx(0.5)
    assert ndcg_at_k(y_true, y_score, k=2) == pytest.approx((1 / np.log(3)) / (1 / np.log(2) + 1 / np.log(3)))


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("container", [sp.csr_array, sp.csr_matrix, sp.coo_array, sp.csc_matrix, np.asarray])
@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_sparse_and_dense_y_true_agree(container, metric):
    y_true, y_score = _random_problem(3, ties=True)
    dense = metric(y_true, y_score, k=5, average=False)
    other = metric(container(y_true), y_score, k=5, average=False)
    np.testing.assert_array_equal(dense, other)
    assert metric(y_true, y_score, k=5) == metric(container(y_true), y_score, k=5)


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_y_true_counts_and_lists(metric):
    y_true, y_score = _random_problem(4)
    counts = y_true * np.random.RandomState(0).randint(1, 5, size=y_true.shape)
    expected = metric(y_true, y_score, k=5, average=False)
    np.testing.assert_array_equal(metric(counts, y_score, k=5, average=False), expected)
    # explicit zeros stored in a sparse matrix are not relevant
    with_zeros = sp.csr_array(np.ones_like(y_true))
    with_zeros.data = y_true.ravel().copy()  # every zero of y_true is stored
    assert with_zeros.nnz == y_true.size
    np.testing.assert_array_equal(metric(with_zeros, y_score, k=5, average=False), expected)
    # nested lists are array-likes too
    np.testing.assert_array_equal(metric(y_true.tolist(), y_score.tolist(), k=5, average=False), expected)


def test_average_false_nan_and_mean_ignores_them():
    y_true, y_score = _random_problem(5)
    y_true[3] = 0
    for metric in (recall_at_k, ndcg_at_k):
        values = metric(y_true, y_score, k=5, average=False)
        assert values.shape == (y_true.shape[0],)
        empty = y_true.sum(axis=1) == 0
        assert np.array_equal(np.isnan(values), empty)
        assert metric(y_true, y_score, k=5) == pytest.approx(values[~empty].mean())
        # Adding users without relevant items does not change the mean.
        padded_true = np.vstack([y_true, np.zeros((4, y_true.shape[1]))])
        padded_score = np.vstack([y_score, np.ones((4, y_true.shape[1]))])
        assert metric(padded_true, padded_score, k=5) == pytest.approx(metric(y_true, y_score, k=5))


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_all_empty_y_true_raises(metric):
    with pytest.raises(ValueError, match="No user has a relevant item"):
        metric(np.zeros((3, 4)), np.ones((3, 4)), k=2)
    with pytest.raises(ValueError, match="No user has a relevant item"):
        metric(sp.csr_array((3, 4)), np.ones((3, 4)), k=2)


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_invalid_inputs_raise(metric):
    y_true = np.eye(3)
    with pytest.raises(ValueError, match="same shape"):
        metric(y_true, np.ones((3, 4)), k=2)
    with pytest.raises(ValueError, match="same shape"):
        metric(sp.csr_array(y_true), np.ones((2, 3)), k=2)
    with pytest.raises(ValueError, match="2D"):
        metric(y_true, np.ones(3), k=2)
    scores = np.ones((3, 3))
    scores[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metric(y_true, scores, k=2)
    with pytest.raises(ValueError):
        metric(y_true, np.ones((3, 3)), k=0)


# --------------------------------------------------------------------------
# Cross-check with scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 3, 10, 25])
def test_ndcg_matches_sklearn_ndcg_score(seed, k):
    # sklearn's ndcg_score uses DCG = sum rel_r / log2(r + 1) over the top k
    # and the DCG of y_true sorted decreasingly as the ideal.  With binary
    # relevance the ideal puts min(k, |I_u|) ones first, exactly the paper's
    # IDCG.  Without ties in y_score the rankings coincide too.  They differ
    # only on users without relevant items: sklearn gives them 0 and counts
    # them in the mean, the paper (and we) leave them out, so those users are
    # removed before comparing.
    y_true, y_score = _random_problem(seed)  # continuous scores: no ties
    keep = y_true.sum(axis=1) > 0
    y_true, y_score = y_true[keep], y_score[keep]
    assert ndcg_at_k(y_true, y_score, k=k) == pytest.approx(ndcg_score(y_true, y_score, k=k))
    per_user = ndcg_at_k(y_true, y_score, k=k, average=False)
    expected = [ndcg_score(y_true[[u]], y_score[[u]], k=k) for u in range(len(y_true))]
    np.testing.assert_allclose(per_user, expected, rtol=1e-12)


# --------------------------------------------------------------------------
# evaluate_rankings
# --------------------------------------------------------------------------


def _fold_in_problem(seed=0, n_users=23, n_items=40):
    rng = np.random.RandomState(seed)
    X = (rng.random_sample((n_users, n_items)) < 0.3).astype(np.float64)
    X[0] = 0
    X[0, :3] = 1  # too few items to have a held-out part
    fold_in, held_out = split_fold_in(X, random_state=seed)
    item_scores = rng.standard_normal(n_items)
    return fold_in, held_out, item_scores


@pytest.mark.parametrize("exclude_seen", [True, False])
def test_evaluate_rankings_batch_size_invariant(exclude_seen):
    fold_in, held_out, item_scores = _fold_in_problem()

    def score_fn(batch):
        # Scores depend on the batch content, so wrong batch slicing would show.
        batch = sp.csr_array(batch)
        return item_scores + 0.5 * batch.toarray() + 0.1 * np.asarray(batch.sum(axis=1)).reshape(-1, 1) * item_scores

    metrics = ["recall@5", "recall@20", "ndcg@10", "ndcg@100"]
    reference = evaluate_rankings(score_fn, fold_in, held_out, metrics, batch_size=1000, exclude_seen=exclude_seen)
    assert list(reference) == metrics
    for batch_size in (1, 3, 7):
        results = evaluate_rankings(
            score_fn, fold_in, held_out, metrics, batch_size=batch_size, exclude_seen=exclude_seen
        )
        for name in metrics:
            np.testing.assert_array_equal(results[name], reference[name])

    # Same numbers as recall_at_k / ndcg_at_k on the full (masked) score matrix.
    scores = score_fn(fold_in)
    if exclude_seen:
        scores[fold_in.toarray() > 0] = -np.inf
    np.testing.assert_allclose(reference["recall@5"], recall_at_k(held_out, scores, k=5, average=False), equal_nan=True)
    np.testing.assert_allclose(
        reference["recall@20"], recall_at_k(held_out, scores, k=20, average=False), equal_nan=True
    )
    np.testing.assert_allclose(reference["ndcg@10"], ndcg_at_k(held_out, scores, k=10, average=False), equal_nan=True)
    # k larger than n_items (40) is clipped
    np.testing.assert_allclose(reference["ndcg@100"], ndcg_at_k(held_out, scores, k=100, average=False), equal_nan=True)
    # user 0 has no held-out items
    assert np.isnan(reference["ndcg@10"][0])
    assert not np.isnan(reference["ndcg@10"][1:]).any()


def test_evaluate_rankings_batches_passed_to_score_fn():
    fold_in, held_out, item_scores = _fold_in_problem(n_users=10)
    seen = []

    def score_fn(batch):
        seen.append(batch.copy())
        return np.tile(item_scores, (batch.shape[0], 1))

    evaluate_rankings(score_fn, fold_in, held_out, ["ndcg@5"], batch_size=3)
    assert [b.shape[0] for b in seen] == [3, 3, 3, 1]
    assert all(sp.issparse(b) for b in seen)
    np.testing.assert_array_equal(sp.vstack(seen).toarray(), fold_in.toarray())


def test_evaluate_rankings_exclude_seen():
    fold_in, held_out, item_scores = _fold_in_problem()
    n_items = fold_in.shape[1]

    # A model that puts the fold-in items first: without exclusion its top
    # items are all seen ones (never held out), so the recall is 0 as long as
    # k is at most the fold-in size.
    cached = []

    def score_fn(batch):
        scores = 10.0 * sp.csr_array(batch).toarray() + item_scores
        cached.append(scores.copy())
        return scores

    k = int(np.diff(fold_in.indptr).min())
    name = f"recall@{k}"
    not_excluded = evaluate_rankings(score_fn, fold_in, held_out, [name], exclude_seen=False)[name]
    assert np.nansum(not_excluded) == 0
    excluded = evaluate_rankings(score_fn, fold_in, held_out, [name], exclude_seen=True)[name]
    # With exclusion the ranking is by item_scores among unseen items only.
    masked = np.tile(item_scores, (fold_in.shape[0], 1))
    masked[fold_in.toarray() > 0] = -np.inf
    np.testing.assert_allclose(excluded, recall_at_k(held_out, masked, k=k, average=False), equal_nan=True)
    assert np.nansum(excluded) > 0

    # The top lists used never contain fold-in items.
    top = top_k_items(masked, n_items - int(np.diff(fold_in.indptr).max()))
    dense = fold_in.toarray()
    assert not np.take_along_axis(dense, top, axis=1).any()


def test_evaluate_rankings_does_not_modify_score_fn_output():
    fold_in, held_out, item_scores = _fold_in_problem()
    shared = np.tile(item_scores, (fold_in.shape[0], 1))
    before = shared.copy()
    evaluate_rankings(lambda batch: shared[: batch.shape[0]], fold_in, held_out, ["ndcg@5"], batch_size=1000)
    np.testing.assert_array_equal(shared, before)


def test_evaluate_rankings_docstring_example():
    fold_in = sp.csr_array(np.array([[1, 0, 0, 0]]))
    held_out = sp.csr_array(np.array([[0, 0, 1, 0]]))
    popularity = lambda X: np.tile([4.0, 3.0, 2.0, 1.0], (X.shape[0], 1))  # noqa: E731
    results = evaluate_rankings(popularity, fold_in, held_out, ["recall@1", "ndcg@3", "recall@2"])
    # Ranking of unseen items: 1, 2, 3; the held-out item 2 is second.
    assert results["recall@1"].tolist() == [0.0]
    assert results["recall@2"].tolist() == [1.0]
    np.testing.assert_allclose(results["ndcg@3"], [np.log(2) / np.log(3)])


@pytest.mark.parametrize("name", ["foo@10", "ndcg@0", "ndcg", "recall@-3", "ndcg@ten", "ndcg@10@2", "precision@5"])
def test_evaluate_rankings_bad_metric_names(name):
    fold_in, held_out, item_scores = _fold_in_problem()
    with pytest.raises(ValueError, match="recall@"):
        evaluate_rankings(lambda b: np.tile(item_scores, (b.shape[0], 1)), fold_in, held_out, [name])
    with pytest.raises(ValueError, match="recall@"):
        RecommendationScorer(name)


def test_evaluate_rankings_shape_mismatch():
    fold_in, held_out, item_scores = _fold_in_problem()
    with pytest.raises(ValueError, match="same shape"):
        evaluate_rankings(lambda b: np.tile(item_scores, (b.shape[0], 1)), fold_in, held_out[:-1], ["ndcg@5"])


# --------------------------------------------------------------------------
# Scorers and model selection
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def interactions():
    X, _ = make_interactions(160, 60, 4, density=0.15, random_state=0)
    return X


def test_recommendation_scorers_dict():
    scorers = recommendation_scorers()
    assert sorted(scorers) == ["ndcg@100", "recall@20", "recall@50"]
    assert all(isinstance(s, RecommendationScorer) for s in scorers.values())
    assert {name: s.metric for name, s in scorers.items()} == {n: n for n in scorers}
    assert repr(RecommendationScorer("recall@20")) == "RecommendationScorer(metric='recall@20')"
    custom = recommendation_scorers(["ndcg@5"])
    assert list(custom) == ["ndcg@5"]


def test_grid_search_with_recommendation_scorers(interactions):
    X = interactions
    cv = KFold(2)
    search = GridSearchCV(
        PopularityRecommender(),
        {"top_n": [5, 10]},
        scoring=recommendation_scorers(),
        refit="ndcg@100",
        cv=cv,
    )
    search.fit(X)  # y=None: the fold-in / held-out split happens in the scorer
    results = search.cv_results_
    for name in ("recall@20", "recall@50", "ndcg@100"):
        values = results[f"mean_test_{name}"]
        assert np.all(np.isfinite(values))
        assert np.all((values > 0) & (values <= 1))
    assert search.best_score_ == results["mean_test_ndcg@100"][search.best_index_]
    assert isinstance(search.best_estimator_, PopularityRecommender)
    assert search.best_estimator_.n_features_in_ == X.shape[1]

    # The split scores equal a manual fit and score on the same folds.
    for i, (train, test) in enumerate(cv.split(X)):
        est = PopularityRecommender().fit(X[train])
        for name in ("recall@20", "recall@50", "ndcg@100"):
            expected = score_recommender(est, X[test], metric=name)
            assert results[f"split{i}_test_{name}"][0] == pytest.approx(expected)
        # The default score of the estimator is NDCG@100 with the same split.
        assert results[f"split{i}_test_ndcg@100"][0] == pytest.approx(est.score(X[test]))

    # Single scorer and default scoring agree with the refit metric.
    single = GridSearchCV(PopularityRecommender(), {"top_n": [5, 10]}, scoring=RecommendationScorer(), cv=cv).fit(X)
    default = GridSearchCV(PopularityRecommender(), {"top_n": [5, 10]}, cv=cv).fit(X)
    np.testing.assert_allclose(single.cv_results_["mean_test_score"], results["mean_test_ndcg@100"])
    np.testing.assert_allclose(default.cv_results_["mean_test_score"], results["mean_test_ndcg@100"])


def test_score_with_explicit_held_out_equals_scorer(interactions):
    X = interactions
    est = PopularityRecommender().fit(X[:100])
    X_test = X[100:]
    fold_in, held_out = split_fold_in(X_test, held_out_fraction=0.2, min_items=5, random_state=0)
    explicit = est.score(fold_in, held_out)
    assert explicit == pytest.approx(RecommendationScorer("ndcg@100")(est, fold_in, held_out))
    # y=None: the scorer splits with the same fixed seed.
    assert explicit == pytest.approx(RecommendationScorer("ndcg@100")(est, X_test))
    assert explicit == pytest.approx(est.score(X_test))
    # dense inputs give the same score
    assert explicit == pytest.approx(est.score(fold_in.toarray(), held_out.toarray()))

    # And both equal the mean of evaluate_rankings over users with held-out items.
    for name in ("recall@20", "ndcg@10"):
        values = evaluate_rankings(est.decision_function, fold_in, held_out, [name])[name]
        assert RecommendationScorer(name)(est, fold_in, held_out) == pytest.approx(np.nanmean(values))

    # Another seed gives another split, hence (almost surely) another score.
    other = RecommendationScorer("ndcg@100", random_state=1)(est, X_test)
    assert other != pytest.approx(explicit, rel=1e-9)


def test_score_recommender_errors(interactions):
    X = interactions
    est = PopularityRecommender().fit(X)
    with pytest.raises(ValueError, match="held-out matrix of X's shape"):
        score_recommender(est, X[:10], X[:5])
    # With y=None nobody has held-out items when min_items is too large.
    with pytest.raises(ValueError, match="No user has held-out items"):
        score_recommender(est, X[:10], min_items=10_000)
    with pytest.raises(ValueError, match="No user has held-out items"):
        score_recommender(est, X[:10], sp.csr_array(X[:10].shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_k_items_only_tied_rows_change_path(dtype):
    # Rounded float32-like scores: some rows tie across the cut, others not;
    # every row must equal the stable (score, index) ranking.
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((50, 300)), 2).astype(dtype)
    scores[::3] = rng.random((17, 300)).astype(dtype)  # (almost surely) untied rows
    scores[5, :] = -np.inf  # nothing rankable
    scores[7, 10:] = -np.inf  # fewer rankable items than k
    for k in (1, 20, 150, 299):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_k_items(scores, k), expected)
