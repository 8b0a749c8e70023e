"""Width and sparsity sweeps (Figures 5-7) and the examples' data."""

import numpy as np
import pytest
from conftest import real_folder

from sklearn_swdae import FCDAERecommender, PopularityRecommender
from sklearn_swdae.analysis import load_example_split, sparsity_sweep, sweep, width_sweep
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.metrics import evaluate_rankings
from sklearn_swdae.model_selection import strong_generalization_split

FAST = {"max_iter": 2, "device": "cpu", "batch_size": 100}


@pytest.fixture(scope="module")
def split():
    X, _ = make_interactions(400, 50, 5, density=0.12, random_state=0)
    return strong_generalization_split(X, n_validation=40, n_test=40, random_state=0)


def _pairs(split):
    return (split.validation_fold_in, split.validation_held_out), (split.test_fold_in, split.test_held_out)


def test_sweep_scores_each_fit_like_a_direct_evaluation(split):
    validation, test = _pairs(split)
    models = {
        "FC-DAE": lambda k: FCDAERecommender(n_hidden=k, random_state=0, **FAST),
        "Popularity": lambda k: PopularityRecommender(),
    }
    records = sweep(models, [3, 6], split.train, validation, test, parameter="width")
    assert [(r["model"], r["width"]) for r in records] == [
        ("FC-DAE", 3),
        ("Popularity", 3),
        ("FC-DAE", 6),
        ("Popularity", 6),
    ]
    direct = FCDAERecommender(n_hidden=6, random_state=0, **FAST).fit(split.train)
    expected = evaluate_rankings(direct.decision_function, *test)
    assert records[2]["test_ndcg@100"] == pytest.approx(np.nanmean(expected["ndcg@100"]))
    assert records[2]["n_parameters"] == direct.n_parameters_
    assert records[1]["n_parameters"] == PopularityRecommender().fit(split.train).n_parameters_
    # popularity ignores the width
    assert records[1]["validation_recall@20"] == records[3]["validation_recall@20"]
    for record in records:
        assert all(
            0.0 <= record[f"{s}_{m}"] <= 1.0
            for s in ("validation", "test")
            for m in ("ndcg@100", "recall@20", "recall@50")
        )


def test_width_sweep_builds_the_four_families(split):
    validation, test = _pairs(split)
    records = width_sweep(
        split.train, validation, test, [4, 10], n_components=4, estimator_params=FAST, metrics=["ndcg@100"]
    )
    assert [r["model"] for r in records[:4]] == ["SW-DAE", "FC-DAE", "Mult-DAE", "Mult-VAE"]
    n_items = split.train.shape[1]
    by_key = {(r["model"], r["n_clusters"]): r for r in records}
    for K in (4, 10):
        R = max(1, int(np.floor(0.1 * K + 0.5)))
        assert by_key["SW-DAE", K]["n_parameters"] == 2 * R * n_items + K + n_items
        assert by_key["FC-DAE", K]["n_parameters"] == 2 * K * n_items + K + n_items
        assert by_key["Mult-DAE", K]["n_parameters"] == 2 * K * n_items + K + n_items
        L = max(1, K // 3)
        assert by_key["Mult-VAE", K]["n_parameters"] == (
            (n_items + 1) * K + (K + 1) * 2 * L + (L + 1) * K + (K + 1) * n_items
        )
    assert set(records[0]) == {
        "model",
        "n_clusters",
        "fit_time",
        "n_parameters",
        "validation_ndcg@100",
        "test_ndcg@100",
    }


def test_sparsity_sweep_resolves_R_over_K(split):
    validation, test = _pairs(split)
    records = sparsity_sweep(
        split.train, validation, None, [1, 0.5, 1.0], n_clusters=8, n_components=4, estimator_params=FAST
    )
    assert [r["sparsity"] for r in records] == [0.125, 0.5, 1.0]
    n_items = split.train.shape[1]
    assert [r["n_parameters"] for r in records] == [2 * R * n_items + 8 + n_items for R in (1, 4, 8)]
    assert not any(key.startswith("test_") for key in records[0])


def test_custom_model_factories(split):
    validation, _ = _pairs(split)
    records = width_sweep(
        split.train,
        validation,
        None,
        [2],
        models={"mine": lambda k: FCDAERecommender(n_hidden=k, **FAST)},
        metrics=["recall@20"],
    )
    assert records[0]["model"] == "mine" and records[0]["n_parameters"] == 2 * 2 * 50 + 2 + 50


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s, v: width_sweep(s.train, v, None, [4], models=["SW-DAE", "EASE"]), "models must be names"),
        (lambda s, v: width_sweep(s.train, v, None, []), "widths"),
        (lambda s, v: width_sweep(s.train, v, None, [0]), "widths"),
        (lambda s, v: sparsity_sweep(s.train, v, None, [9], n_clusters=8), "overlap=9"),
        (lambda s, v: sparsity_sweep(s.train, v, None, ["a"], n_clusters=8), "overlaps"),
        (lambda s, v: sparsity_sweep(s.train, v, None, [1], n_clusters=0), "n_clusters"),
        (lambda s, v: sweep({"m": lambda k: PopularityRecommender()}, [1], s.train, v[0]), "validation"),
        (lambda s, v: sweep({}, [1], s.train, v), "models"),
    ],
)
def test_bad_arguments(split, call, match):
    with pytest.raises(ValueError, match=match):
        call(split, _pairs(split)[0])


def test_load_example_split_generated_and_missing(tmp_path):
    fast = load_example_split(fast=True)
    assert fast.train.shape == (800, 150) and fast.test_fold_in.shape[0] == 100
    with pytest.raises(ValueError, match="no folder"):
        load_example_split("ml-100k", data_home=tmp_path)


def test_load_example_split_movielens():
    folder = real_folder("ml-100k")
    split = load_example_split("ml-100k", data_home=folder.parent)
    # 938 users x 1,447 items after the ML-20M preprocessing (datasets docs)
    n_users = split.train.shape[0] + split.validation_fold_in.shape[0] + split.test_fold_in.shape[0]
    assert n_users == 938 and split.train.shape[1] <= 1447
    assert split.item_ids.shape == (split.train.shape[1],)


def test_analyses_train_swdae_every_epoch_like_the_other_models(split):
    # SW-DAE's default patience would give it fewer epochs than the models
    # it is compared with; estimator_params may still set one for all.
    from sklearn_swdae.analysis import _swdae_factory

    make = _swdae_factory(split.train, 4, 0.5, 3, {"max_iter": 30}, 0)
    assert (make().n_iter_no_change, make().max_iter) == (None, 30)
    assert _swdae_factory(split.train, 4, 0.5, 3, {"n_iter_no_change": 5}, 0)().n_iter_no_change == 5
