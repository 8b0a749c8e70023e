"""Smoke test of benchmarks/bench_accuracy.py: its --quick mode runs every
model of the comparison end to end and writes the table, the JSON and the
plot."""

import gc
import json
import weakref

import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_accuracy")


def test_quick_mode_runs_every_model(bench, tmp_path, capsys):
    bench.main(["--dataset", "synthetic", "--quick", "--device", "cpu", "--n-jobs", "1", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "SW-DAE" in printed and "selected" in printed  # progress lines
    result = json.loads((tmp_path / "synthetic.json").read_text())
    rows = {row["key"]: row for row in result["rows"]}
    # swdae-paper belongs to --settings defaults (the paper mode's swdae row is it).
    expected = set(bench.ALL_MODELS) - {"swdae-paper"}
    assert set(rows) == expected - ({"wmf"} if "skipped" in rows.get("wmf", {}) else set())
    meta = result["meta"]
    assert meta["validation_users"] == meta["test_users"] == 60 and meta["device"] == "cpu"
    for key, row in rows.items():
        if "skipped" in row:
            # Only SW-DAE-p may not apply: Mult-VAE is far larger than any SW-DAE on 120 items.
            assert key in ("swdae-p", "wmf"), row
            continue
        for metric in bench.METRICS:
            assert 0.0 <= row["test"][metric] <= 1.0 and row["test"][metric + "_se"] >= 0.0
        assert row["validation"]["ndcg@100"] == max(t["validation"]["ndcg@100"] for t in row["tried"])
        assert row["n_parameters"] > 0 or key == "popularity"
    assert rows["swdae"]["selected"] == {"K": 40, "R": 4}
    assert rows["fc-prune"]["selected"]["n_hidden"] == rows["fcdae"]["selected"]["n_hidden"] == 32
    assert rows["popularity"]["n_flops"] == 0
    table = (tmp_path / "synthetic.md").read_text()
    for key, label in bench.LABELS.items():
        assert (f"| {label} |" in table) == (key in expected), label
    pytest.importorskip("matplotlib")
    assert (tmp_path / "synthetic.png").stat().st_size > 0


def test_validation_only_never_touches_test_users(bench, tmp_path, monkeypatch):
    evaluated = []
    real = bench.evaluate

    def spy(model, fold_in, held_out):
        evaluated.append(fold_in.shape[0])
        return real(model, fold_in, held_out)

    monkeypatch.setattr(bench, "evaluate", spy)
    bench.main(
        [
            "--dataset",
            "synthetic",
            "--quick",
            "--validation-users",
            "50",
            "--test-users",
            "70",
            "--models",
            "ease",
            "fcdae",
            "--validation-only",
            "--device",
            "cpu",
            "--out",
            str(tmp_path),
        ]
    )
    assert evaluated and set(evaluated) == {50}
    result = json.loads((tmp_path / "synthetic.json").read_text())
    assert all("test" not in row for row in result["rows"])
    assert "50 validation users" in (tmp_path / "synthetic.md").read_text()


def test_parse_args_datasets_and_quick(bench):
    args = bench.parse_args(["--datasets", "ml-100k", "ml-1m", "--quick", "--k-grid", "500", "2000"])
    assert args.names == ["ml-100k", "ml-1m"] and args.k_grid == [500] and args.epochs == 3
    args = bench.parse_args(["--dataset", "ml-1m", "--validation-users", "600", "--test-users", "600"])
    assert args.validation_users == 600 and isinstance(args.validation_users, int)
    with pytest.raises(SystemExit):
        bench.parse_args([])


def test_defaults_mode_runs_each_model_once_with_personalisation(bench, tmp_path):
    bench.main(
        [
            "--dataset",
            "synthetic",
            "--quick",
            "--settings",
            "defaults",
            "--device",
            "cpu",
            "--n-jobs",
            "1",
            "--models",
            "swdae",
            "swdae-paper",
            "ease",
            "popularity",
            "--out",
            str(tmp_path),
        ]
    )
    result = json.loads((tmp_path / "synthetic.json").read_text())
    rows = {row["key"]: row for row in result["rows"]}
    assert set(rows) == {"swdae", "swdae-paper", "ease", "popularity"}
    assert all(len(row["tried"]) == 1 for row in rows.values())
    # What "auto" resolved is recorded; the paper row uses R = 0.1 K and batch 500.
    assert set(rows["swdae"]["selected"]) == {"defaults", "K", "R", "batch"}
    paper = rows["swdae-paper"]["selected"]
    assert paper["paper"] and paper["R"] == max(1, round(0.1 * paper["K"]))
    for row in rows.values():
        assert 0.0 < row["test"]["coverage@20"] <= 1.0 and row["test"]["popularity_rank@20"] >= 1.0
    # A popularity list is the least personal one.
    assert rows["popularity"]["test"]["coverage@20"] <= rows["swdae"]["test"]["coverage@20"]
    table = (tmp_path / "synthetic.md").read_text()
    assert "coverage@20" in table and "SW-DAE (paper)" in table


def test_validated_mode_adds_the_autoencoders_defaults_to_the_paper_grid(bench, tmp_path):
    bench.main(
        ["--dataset", "synthetic", "--quick", "--settings", "validated", "--device", "cpu", "--n-jobs", "1"]
        + ["--models", "swdae", "fcdae", "fc-prune", "ease", "--out", str(tmp_path)]
    )
    rows = {row["key"]: row for row in json.loads((tmp_path / "synthetic.json").read_text())["rows"]}
    tried = {key: [t["config"] for t in row["tried"]] for key, row in rows.items()}
    # The paper's candidates first, then the model's defaults (with what "auto" resolved).
    assert tried["swdae"][0] == {"K": 40, "R": 4}
    laplacian, svd = tried["swdae"][-2:]
    assert laplacian["defaults"] and set(laplacian) == {"defaults", "K", "R", "batch"}
    # ... and the defaults once more with Algorithm 2's embedding.
    assert svd["defaults"] and svd["method"] == "svd" and set(svd) == {"defaults", "method", "K", "R", "batch"}
    assert len(tried["fcdae"]) == 2 and tried["fcdae"][-1] == {"defaults": True}
    # Linear baselines and the FC-DAE-derived searches keep the paper's grids.
    assert not any(c.get("defaults") for c in tried["ease"] + tried["fc-prune"])
    selected_width = rows["fc-prune"]["selected"]["n_hidden"]
    fcdae = rows["fcdae"]["selected"]
    assert fcdae.get("n_hidden", bench.FCDAERecommender().n_hidden) == selected_width
    for key in rows:
        assert rows[key]["validation"]["ndcg@100"] == max(t["validation"]["ndcg@100"] for t in rows[key]["tried"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--settings", "tuned"])


def test_ease_grid_rejects_a_non_positive_penalty(bench, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(["--dataset", "synthetic", "--ease-grid", "50", "0"])
    assert "--ease-grid" in capsys.readouterr().err


def test_paper_grid_trains_at_the_papers_settings(bench):
    # The reproduction of Table 3 must not pick up the package's data-shaped
    # defaults (hidden_dropout="auto" gives 0.5 on a few hundred users).
    args = bench.parse_args(["--dataset", "synthetic", "--settings", "paper", "--k-grid", "20", "40"])
    split = bench.strong_generalization_split(
        bench.make_interactions(300, 60, 6, density=0.1, random_state=0)[0], n_validation=30, n_test=30
    )
    ctx = bench.Context(split, args, "cpu")
    paper = bench.paper_settings(n_clusters=20)
    for config, model in bench.paper_candidates("swdae", ctx):
        params = model.get_params(deep=False)
        for key, value in paper.items():
            if key != "grouper":
                assert params[key] == value, (config, key)
        assert model.grouper.overlap == paper["grouper"].overlap


def test_svd_candidate_is_the_defaults_but_for_the_embedding(bench):
    args = bench.parse_args(["--dataset", "synthetic", "--settings", "validated", "--k-grid", "20"])
    split = bench.strong_generalization_split(
        bench.make_interactions(300, 60, 6, density=0.1, random_state=0)[0], n_validation=30, n_test=30
    )
    ctx = bench.Context(split, args, "cpu")
    (_, defaults), (config, svd) = bench.candidates("swdae", ctx)[-2:]
    assert config == {"defaults": True, "method": "svd"}
    assert defaults.grouper is None and svd.grouper.method == "svd"
    # Unseeded, so that the estimator seeds it as it seeds the default grouper.
    assert svd.grouper.get_params() == {**bench.ItemGrouper().get_params(), "method": "svd"}
    assert {k: v for k, v in svd.get_params(deep=False).items() if k != "grouper"} == {
        k: v for k, v in defaults.get_params(deep=False).items() if k != "grouper"
    }


def test_search_frees_the_candidates_it_does_not_keep(bench, monkeypatch):
    # A fitted EASE holds an items x items matrix: a search that kept every
    # candidate alive ran out of memory on 24,103 items.
    args = bench.parse_args(["--dataset", "synthetic", "--ease-grid", "1", "10", "100"])
    assert args.ease_grid == [1.0, 10.0, 100.0]
    split = bench.strong_generalization_split(
        bench.make_interactions(300, 60, 6, density=0.1, random_state=0)[0], n_validation=30, n_test=30
    )
    ctx = bench.Context(split, args, "cpu")
    grid = bench.paper_candidates("ease", ctx)
    assert [config["alpha"] for config, _ in grid] == [1.0, 10.0, 100.0]
    refs = [weakref.ref(model) for _, model in grid]
    monkeypatch.setattr(bench, "candidates", lambda key, ctx: grid)
    row = bench.search("ease", ctx)
    gc.collect()
    kept = ctx.selected["ease"][1]
    assert row["selected"]["alpha"] == kept.alpha and len(row["tried"]) == 3
    assert [ref() for ref in refs if ref() is not None] == [kept]
