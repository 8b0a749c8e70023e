"""benchmarks/bench_training.py: the median over rounds and its argument checks
(the timings themselves are the benchmark's business, not a test's)."""

import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_training")


def _record(code, epoch, users_per_s, k=1000, model="swdae"):
    return {
        "model": model, "k": k, "link_fraction": 0.1 if model == "swdae" else None, "backend": "sparse/sparse",
        "precision": "float32", "train_users": 2000, "batch_size": 500, "epoch_s": epoch,
        "train_peak_gib": 1.0, "inference_users_per_s": users_per_s, "inference_peak_gib": 0.5, "code": code,
    }  # fmt: skip


def test_rounds_are_merged_per_configuration_and_code(bench):
    rows = [
        _record("baseline", 2.0, 4000),
        _record("working tree", 1.0, 5000),
        _record("baseline", 9.0, 100),  # a slow spell: the median drops it
        _record("working tree", 1.2, 5200),
        _record("baseline", 2.2, 4200),
        _record("working tree", 1.1, 9000),
        _record("working tree", 3.0, 1000, model="fcdae"),
    ]
    merged = bench._median_rows(rows)
    assert [(r["model"], r["code"], r["rounds"]) for r in merged] == [
        ("swdae", "baseline", 3),
        ("swdae", "working tree", 3),
        ("fcdae", "working tree", 1),
    ]
    assert [r["epoch_s"] for r in merged] == [2.2, 1.1, 3.0]
    assert [r["inference_users_per_s"] for r in merged] == [4000, 5200, 1000]
    table = bench._table(merged)
    assert "| 1.10 | 0.367x |" in table  # the ratio is taken between medians


def test_rounds_below_one_is_a_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--rounds", "0"])
    assert exc.value.code == 2
    assert "--rounds must be at least 1 (runs of each configuration), got 0" in capsys.readouterr().err
