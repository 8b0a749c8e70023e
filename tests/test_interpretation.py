"""Tests of sklearn_swdae.interpretation (paper Table 8, Figure 8, and explanations)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from sklearn_swdae import (  # noqa: E402
    FCDAERecommender,
    ItemGrouper,
    MultDAERecommender,
    MultVAERecommender,
    SparseWideDAERecommender,
)
from sklearn_swdae.datasets import make_interactions  # noqa: E402
from sklearn_swdae.interpretation import (  # noqa: E402
    explain_recommendation,
    group_genre_composition,
    plot_genre_heatmap,
    top_genres_of_units,
    top_units_for_genre,
)


@pytest.fixture(scope="module")
def data():
    X, planted = make_interactions(400, 60, 6, density=0.1, item_overlap=0.3, random_state=0)
    return X, planted.T.toarray()  # the planted groups as "genres", (n_items, 6)


@pytest.fixture(scope="module")
def swdae(data):
    X, _ = data
    grouper = ItemGrouper(n_clusters=12, overlap=2, n_components=6, random_state=0)
    return SparseWideDAERecommender(
        grouper=grouper, max_iter=3, validation_fraction=None, device="cpu", random_state=0
    ).fit(X)


def _random_mask(n_units, n_items, rng, p=0.3):
    mask = rng.random_sample((n_units, n_items)) < p
    mask[:, 0] = True
    mask[0] = False  # an empty group
    return mask


def _random_genres(n_items, n_genres, rng):
    genres = rng.random_sample((n_items, n_genres)) < 0.3
    genres[1] = False  # an item without a genre
    return genres


# ---------------------------------------------------------------- composition


def test_composition_matches_a_loop_over_groups():
    rng = np.random.RandomState(0)
    mask, genres = _random_mask(7, 30, rng), _random_genres(30, 5, rng)
    fractions = group_genre_composition(mask, genres)
    counts = group_genre_composition(mask, genres, normalize=None)
    shares = group_genre_composition(mask, genres, normalize="genres")
    for k in range(7):
        members = np.flatnonzero(mask[k])
        for g in range(5):
            n_with = sum(genres[i, g] for i in members)
            assert counts[k, g] == n_with
            assert fractions[k, g] == pytest.approx(n_with / members.size if members.size else 0.0)
            share = sum(genres[i, g] / genres[i].sum() for i in members if genres[i].any())
            total = sum(1.0 for i in members if genres[i].any())
            assert shares[k, g] == pytest.approx(share / total if total else 0.0)


def test_genre_shares_sum_to_one_per_unit_and_fractions_are_bounded():
    rng = np.random.RandomState(1)
    mask, genres = _random_mask(9, 40, rng), _random_genres(40, 6, rng)
    shares = group_genre_composition(sp.csr_array(mask), sp.csr_array(genres), normalize="genres")
    nonempty = (mask.astype(int) @ genres.any(axis=1).astype(int)) > 0
    np.testing.assert_allclose(shares[nonempty].sum(axis=1), 1.0)
    np.testing.assert_array_equal(shares[~nonempty], 0.0)
    fractions = group_genre_composition(mask, genres)
    assert fractions.min() >= 0 and fractions.max() <= 1
    np.testing.assert_array_equal(fractions[0], 0.0)  # the empty group


def test_composition_reads_a_fitted_estimator(data, swdae):
    _, genres = data
    np.testing.assert_array_equal(
        group_genre_composition(swdae, genres),
        group_genre_composition(swdae.connectivity_.toarray(), genres),
    )
    np.testing.assert_array_equal(
        group_genre_composition(swdae.grouper_, genres), group_genre_composition(swdae, genres)
    )


def test_learned_groups_are_purer_than_random_groups_of_the_same_sizes(data, swdae):
    # The planted groups play the genres: a unit learned from the data should
    # be dominated by one of them, a random group of the same size should not.
    _, genres = data
    mask = swdae.connectivity_.toarray()
    rng = np.random.RandomState(0)
    random_mask = np.array([rng.permutation(row) for row in mask])
    learned = group_genre_composition(mask, genres).max(axis=1).mean()
    shuffled = group_genre_composition(random_mask, genres).max(axis=1).mean()
    assert learned > shuffled + 0.2


def test_composition_bad_input():
    mask, genres = np.ones((2, 4), bool), np.ones((4, 3), bool)
    with pytest.raises(ValueError, match="normalize must be"):
        group_genre_composition(mask, genres, normalize="rows")
    with pytest.raises(ValueError, match=r"item_genres must have shape \(n_items=4"):
        group_genre_composition(mask, genres[:3])
    with pytest.raises(ValueError, match="item_genres must be boolean or numeric"):
        group_genre_composition(mask, np.full((4, 3), "a"))
    with pytest.raises(ValueError, match="has no connectivity_"):
        group_genre_composition(SparseWideDAERecommender(), genres)
    with pytest.raises(ValueError, match=r"connectivity must be 2D"):
        group_genre_composition(np.ones(4, bool), genres)


# ----------------------------------------------------------- top units / genres


def test_top_units_for_genre_ranks_by_share_then_size_then_index():
    mask = np.array(
        [
            [1, 1, 0, 0, 0, 0],  # 1/2 of genre 0
            [1, 0, 0, 0, 0, 0],  # 1/1
            [1, 1, 1, 1, 0, 0],  # 2/4 = 1/2, larger than unit 0
            [0, 0, 0, 0, 1, 1],  # none of genre 0
            [0, 1, 0, 1, 0, 0],  # 1/2, same size as unit 0
        ],
        dtype=bool,
    )
    genres = np.array([[1], [0], [0], [1], [0], [0]], dtype=bool)
    assert top_units_for_genre(mask, genres, 0).tolist() == [1, 2, 0, 4]
    assert top_units_for_genre(mask, genres, 0, n_units=2).tolist() == [1, 2]
    assert top_units_for_genre(mask, genres, 0, min_group_size=2).tolist() == [2, 0, 4]
    assert top_units_for_genre(mask, genres, "Drama", genre_names=["Drama"]).tolist() == [1, 2, 0, 4]


def test_top_units_for_genre_bad_input():
    mask, genres = np.ones((2, 4), bool), np.ones((4, 2), bool)
    with pytest.raises(ValueError, match="pass genre_names"):
        top_units_for_genre(mask, genres, "Drama")
    with pytest.raises(ValueError, match="is not one of genre_names"):
        top_units_for_genre(mask, genres, "Drama", genre_names=["Comedy", "War"])
    with pytest.raises(ValueError, match="genre_names has 1 names for 2"):
        top_units_for_genre(mask, genres, "Drama", genre_names=["Drama"])
    with pytest.raises(ValueError, match=r"genre must be in \[0, n_genres=2\)"):
        top_units_for_genre(mask, genres, 2)
    with pytest.raises(ValueError, match="n_units must be a positive integer"):
        top_units_for_genre(mask, genres, 0, n_units=0)
    with pytest.raises(ValueError, match="min_group_size must be a positive integer"):
        top_units_for_genre(mask, genres, 0, min_group_size=0)


def test_top_genres_of_units_lists_the_largest_nonzero_values():
    composition = np.array([[0.1, 0.7, 0.0, 0.4], [0.0, 0.0, 0.0, 0.3]])
    names = ["Action", "Drama", "War", "Comedy"]
    assert top_genres_of_units(composition, names) == {
        0: [("Drama", 0.7), ("Comedy", 0.4), ("Action", 0.1)],
        1: [("Comedy", 0.3)],
    }
    assert top_genres_of_units(composition, names, [1, 0], n_genres=1) == {
        1: [("Comedy", 0.3)],
        0: [("Drama", 0.7)],
    }
    with pytest.raises(ValueError, match=r"composition must have shape \(K, 3\)"):
        top_genres_of_units(composition, names[:3])
    with pytest.raises(ValueError, match=r"units must be in \[0, K=2\)"):
        top_genres_of_units(composition, names, [2])


def test_heatmap_draws_the_rows_of_the_units():
    composition = np.array([[0.1, 0.7], [0.5, 0.0], [1.0, 0.2]])
    fig, ax = plt.subplots()
    assert plot_genre_heatmap(composition, [2, 0], ["A", "B"], ax=ax, title="t") is ax
    np.testing.assert_array_equal(ax.images[0].get_array(), composition[[2, 0]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="units is empty"):
        plot_genre_heatmap(composition, [], ["A", "B"])
    with pytest.raises(ValueError, match=r"units must be in \[0, K=3\)"):
        plot_genre_heatmap(composition, [3], ["A", "B"])
    plt.close("all")


# ------------------------------------------------------------------ explanation


def test_contributions_sum_to_the_logit_minus_the_bias(data, swdae):
    X, _ = data
    scores = swdae.decision_function(X[:5])
    for user in range(5):
        for item in (0, 17, 59):
            why = explain_recommendation(swdae, X[[user]], item, n_units=3)
            # One user alone rounds as in a batch of five only up to float32.
            assert why.logit == pytest.approx(float(scores[user, item]), rel=1e-5, abs=1e-6)
            assert why.bias + why.contributions.sum() == pytest.approx(why.logit, abs=1e-4)


def test_only_units_linked_to_the_item_contribute_and_are_listed(data, swdae):
    X, _ = data
    mask = swdae.connectivity_.toarray()
    why = explain_recommendation(swdae, X[[3]], 10, n_units=100)
    np.testing.assert_array_equal(why.contributions[~mask[:, 10]], 0.0)
    assert sorted(why.units.tolist()) == np.flatnonzero(mask[:, 10]).tolist()
    assert np.all(np.diff(why.unit_contributions) <= 0)  # best first
    history = set(X[[3]].indices.tolist())
    for unit, items, consumed in zip(why.units, why.unit_items, why.unit_history):
        assert items.tolist() == np.flatnonzero(mask[unit]).tolist()
        assert set(consumed.tolist()) == history & set(items.tolist())


def test_default_item_is_the_top_recommendation_and_1d_input_works(data, swdae):
    X, _ = data
    why = explain_recommendation(swdae, X[[7]].toarray().ravel())
    assert why.item == swdae.recommend(X[[7]], top_n=1)[0, 0]
    assert why.item not in set(X[[7]].indices.tolist())
    assert why.activations.shape == (swdae.connectivity_.shape[0],)


@pytest.mark.parametrize(
    "model",
    [
        FCDAERecommender(n_hidden=6, max_iter=2, validation_fraction=None, device="cpu", random_state=0),
        MultDAERecommender(n_hidden=6, max_iter=2, validation_fraction=None, device="cpu", random_state=0),
    ],
)
def test_fully_connected_models_are_explained_too(data, model):
    X, _ = data
    model.fit(X)
    why = explain_recommendation(model, X[[2]], 5, n_units=6)
    assert why.bias + why.contributions.sum() == pytest.approx(why.logit, abs=1e-4)
    assert len(why.units) == 6 and why.unit_items == [None] * 6
    assert why.unit_history[0].tolist() == X[[2]].indices.tolist()


def test_explanation_bad_input(data, swdae):
    X, _ = data
    with pytest.raises(ValueError, match="one user"):
        explain_recommendation(swdae, X[:2], 0)
    with pytest.raises(ValueError, match=r"item must be an integer in \[0, n_items=60\)"):
        explain_recommendation(swdae, X[[0]], 60)
    with pytest.raises(ValueError, match="n_units must be a positive integer"):
        explain_recommendation(swdae, X[[0]], 0, n_units=0)
    with pytest.raises(ValueError, match="consumed every item"):
        explain_recommendation(swdae, np.ones((1, 60)))
    vae = MultVAERecommender(
        n_hidden=4, n_latent=2, max_iter=1, validation_fraction=None, device="cpu", random_state=0
    ).fit(X)
    with pytest.raises(ValueError, match="one-hidden-layer autoencoder"):
        explain_recommendation(vae, X[[0]], 0)


# ------------------------------------------------------------------ real data


def test_movielens_groups_have_more_coherent_genres_than_random_groups():
    from conftest import real_folder

    from sklearn_swdae.datasets import load_movielens, preprocess_interactions

    movielens = load_movielens(real_folder("ml-100k"))
    kept = preprocess_interactions(movielens, "ml-20m")
    X, genres = kept.data, kept.item_genres
    grouper = ItemGrouper(n_clusters=100, overlap=0.1, n_components=20, random_state=0).fit(X)
    mask = grouper.connectivity_.toarray()
    rng = np.random.RandomState(0)
    shuffled = np.array([rng.permutation(row) for row in mask])
    # Spread of the genre fractions across units: near zero for random
    # groups (every group mirrors the catalogue), large for learned ones.
    learned = group_genre_composition(mask, genres).std(axis=0).mean()
    random = group_genre_composition(shuffled, genres).std(axis=0).mean()
    assert learned > 1.5 * random  # 0.053 vs 0.026 with these settings
    horror = movielens.genre_names.tolist().index("Horror")
    top = top_units_for_genre(
        grouper, genres, "Horror", n_units=5, genre_names=movielens.genre_names, min_group_size=20
    )
    catalogue_share = genres[:, horror].mean()
    # 30% horror films in the best unit, 5.5% in the catalogue.
    assert group_genre_composition(grouper, genres)[top[0], horror] > 3 * catalogue_share
