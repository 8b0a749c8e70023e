"""benchmarks/bench_epochs.py: its replay of (max_iter, patience) rules on one
long run is what shorter runs and early stopping would have kept."""

import numpy as np
import pytest
from conftest import load_benchmark

from sklearn_swdae import SparseWideDAERecommender
from sklearn_swdae.metrics import evaluate_rankings


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_epochs")


def test_replay_follows_early_stopping(bench):
    holdout = [0.10, 0.20, 0.15, 0.19, 0.25, 0.25001]
    history = [{"epoch": e, "ndcg@100": v} for e, v in enumerate(holdout, start=1)]
    for e in (1, 2, 5, 6):  # strict improvements, as BestEpoch flags them
        history[e - 1]["best"] = True
    scores = {1: 0.11, 2: 0.21, 5: 0.31, 6: 0.32}
    assert bench.replay(history, scores, 6, 0, 1e-4) == (6, 6, 0.32)
    assert bench.replay(history, scores, 3, 0, 1e-4) == (3, 2, 0.21)
    assert bench.replay(history, scores, 6, 2, 1e-4) == (4, 2, 0.21)  # epochs 3 and 4 do not improve
    # Epoch 6 improves by less than tol: it is kept when reached, but counts as no improvement.
    assert bench.replay(history, scores, 6, 1, 1e-4) == (3, 2, 0.21)
    assert bench.replay(history, scores, 6, 3, 1e-4) == (6, 6, 0.32)


def test_a_shorter_rule_is_the_shorter_fit(bench, capsys):
    result = bench.main(["--dataset", "synthetic", "--max-iter", "6", "--rules", "3:0", "6:0", "6:2"])
    assert "| max_iter | patience |" in capsys.readouterr().out
    rules = {(row["max_iter"], row["patience"]): row for row in result["rules"]}
    assert rules[(6, 0)]["kept_epoch"] == result["holdout_best_epoch"]
    assert rules[(6, 2)]["stops_at"] <= 6
    # Nothing at the defaults depends on max_iter: a 3-epoch fit keeps the
    # epoch the replay says, with the same validation-user score.
    X = bench.load_dataset("synthetic", None)[1]
    split = bench.strong_generalization_split(X, n_validation=0.1, n_test=0.1)
    short = SparseWideDAERecommender(max_iter=3, device="cpu", random_state=0).fit(split.train)
    assert short.best_epoch_ == rules[(3, 0)]["kept_epoch"]
    ndcg = evaluate_rankings(short.decision_function, split.validation_fold_in, split.validation_held_out, ["ndcg@100"])
    np.testing.assert_allclose(np.nanmean(ndcg["ndcg@100"]), rules[(3, 0)]["validation_ndcg@100"], atol=1e-5)


@pytest.mark.parametrize("rule", ["abc", "0:5", "100:-1", "100:x"])
def test_bad_rules_are_usage_errors(bench, rule, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--dataset", "synthetic", "--max-iter", "4", "--rules", rule])
    assert "MAX_ITER:PATIENCE" in capsys.readouterr().err
