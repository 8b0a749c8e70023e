"""benchmarks/bench_variants.py: variants are the defaults with only their
parameters changed, and the summary pairs them with the defaults by seed."""

import json

import numpy as np
import pytest
from conftest import load_benchmark

from sklearn_swdae.defaults import auto_n_clusters, auto_overlap


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_variants")


def test_build_model_resolves_grouper_keys_against_the_rules(bench):
    X = bench.load_dataset("synthetic", None)[1]
    n_users, n_items = X.shape
    K = auto_n_clusters(n_items, n_users)
    model = bench.build_model({"n_clusters": "x0.5", "learning_rate": 6e-3}, X, seed=3, device="cpu")
    assert model.learning_rate == 6e-3
    assert model.random_state == 3
    assert model.grouper.n_clusters == max(1, int(0.5 * K + 0.5))
    assert model.grouper.overlap == "auto" and model.grouper.random_state is None
    model = bench.build_model({"overlap": "x2", "n_clusters": 40}, X, seed=0, device="cpu")
    assert model.grouper.overlap == int(2 * auto_overlap(40, n_items, n_users) + 0.5)
    model = bench.build_model({"method": "svd"}, X, seed=0, device="cpu")
    assert model.grouper.method == "svd" and model.grouper.n_clusters == "auto"
    # No grouper key: the estimator's own default grouper.
    assert bench.build_model({"hidden_dropout": 0.0}, X, seed=0, device="cpu").grouper is None


def test_a_grouper_variant_is_paired_with_the_defaults(bench):
    # Naming the default method must reproduce the defaults' fit: the
    # variant's grouper draws from the estimator's random stream, as the
    # default grouper does, so the weights start from the same draws.
    X = bench.load_dataset("synthetic", None)[1]
    fits = [
        bench.build_model({**params, "max_iter": 2}, X, seed=5, device="cpu").fit(X)
        for params in ({}, {"method": "laplacian"})
    ]
    assert (fits[0].connectivity_ != fits[1].connectivity_).nnz == 0
    np.testing.assert_allclose(fits[0].decision_function(X[:20]), fits[1].decision_function(X[:20]), rtol=1e-5)


def test_summary_pairs_variants_with_the_defaults_by_seed(bench):
    def record(variant, seed, score):
        return {
            "dataset": "d",
            "variant": variant,
            "seed": seed,
            "validation_ndcg@100": score,
            "validation_se": 0.01,
            "n_clusters": 10,
            "overlap": 3,
            "best_epoch": 5,
            "fit_seconds": 1.0,
        }

    records = [record("defaults", 0, 0.30), record("defaults", 1, 0.40), record("v", 0, 0.33), record("v", 1, 0.39)]
    records.append(record("v", 2, 0.50))  # no defaults fit with seed 2: not paired
    rows = {row["variant"]: row for row in bench.summarize(records)}
    assert rows["defaults"]["paired_difference"] is None
    assert rows["v"]["paired_difference"] == pytest.approx((0.03 - 0.01) / 2)
    assert (rows["v"]["paired_seeds"], rows["v"]["wins"]) == (2, 1)
    assert rows["v"]["mean"] == pytest.approx((0.33 + 0.39 + 0.50) / 3)


def test_end_to_end_on_synthetic_data(bench, tmp_path, capsys):
    out = tmp_path / "fits.jsonl"
    variant = 'short={"max_iter": 2, "learning_rate": 0.01}'
    rows = bench.main(["--dataset", "synthetic", "--seeds", "0", "--variant", variant, "--out", str(out)])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["variant"] for r in records] == ["defaults", "short"]
    assert records[1]["epochs"] <= 2 and records[1]["params"] == {"max_iter": 2, "learning_rate": 0.01}
    # One hold-out score per epoch, so a record shows whether the fit was still improving.
    assert len(records[1]["holdout_curve"]) == records[1]["epochs"]
    assert max(records[1]["holdout_curve"]) > 0
    assert {row["variant"] for row in rows} == {"defaults", "short"}
    assert "| synthetic | short |" in capsys.readouterr().out
    again = bench.main(["--summarize", str(out)])
    assert [row["mean"] for row in again] == [row["mean"] for row in rows]


@pytest.mark.parametrize(
    "texts",
    [
        ["noequals"],
        ["x=[1]"],
        ["x={bad"],
        ["defaults={}"],
        ['x={"hidden_dropuot": 0.5}'],
        ['x={"alpha": 0.1}', 'x={"alpha": 0.2}'],
    ],
)
def test_bad_variants_are_usage_errors(bench, texts, capsys):
    argv = ["--dataset", "synthetic"]
    for text in texts:
        argv += ["--variant", text]
    with pytest.raises(SystemExit):
        bench.main(argv)
    assert "--variant" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["half", "x", "xabc", "x0", "x-1"])
def test_bad_scale_factors_name_the_key(bench, value):
    X = bench.load_dataset("synthetic", None)[1]
    with pytest.raises(ValueError, match="n_clusters: expected a number or 'xF'"):
        bench.build_model({"n_clusters": value}, X, seed=0, device="cpu")
