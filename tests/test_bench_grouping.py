"""benchmarks/bench_grouping.py: the median over rounds and its argument checks
(the timings themselves are the benchmark's business, not a test's)."""

import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_grouping")


def _record(code, spectrum, kmeans, linking, k=15000):
    return {
        "method": "laplacian", "k": k, "r": k // 10, "f": 50, "solver": "arpack",
        "spectrum": spectrum, "kmeans": kmeans, "linking": linking, "phases": spectrum + kmeans + linking,
        "wall": spectrum + kmeans + linking + 0.1, "rss_before_gib": 0.4, "peak_gib": 2.15,
        "peak_kind": "VmHWM during fit", "max_residual": 4e-15, "inertia": 43.8489, "code": code,
    }  # fmt: skip


def test_rounds_are_merged_per_configuration_and_code(bench):
    rows = [
        _record("baseline", 13.0, 9.0, 6.0),
        _record("working tree", 14.0, 9.5, 4.0),
        _record("baseline", 30.0, 20.0, 12.0),  # a slow spell: the median drops it
        _record("working tree", 12.0, 9.0, 3.8),
        _record("baseline", 12.5, 9.2, 6.2),
        _record("working tree", 13.0, 30.0, 4.2),
        _record("working tree", 5.0, 3.0, 1.0, k=5000),
    ]
    merged = bench.median_rows(rows, bench._CONFIGURATION, bench._MEASURED)
    assert [(r["k"], r["code"], r["rounds"]) for r in merged] == [
        (15000, "baseline", 3),
        (15000, "working tree", 3),
        (5000, "working tree", 1),
    ]
    assert [r["spectrum"] for r in merged] == [13.0, 13.0, 5.0]
    assert [r["linking"] for r in merged] == [6.2, 4.0, 1.0]
    assert [r["phases"] for r in merged] == [28.0, 27.5, 9.0]  # the median of the totals, not a sum of medians
    table = bench._table(merged, quick=False)
    assert "| 13.0 | 9.5 | 4.0 | 27.5 |" in table


def test_rounds_below_one_is_a_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--rounds", "0"])
    assert exc.value.code == 2
    assert "--rounds must be at least 1 (fits of each configuration), got 0" in capsys.readouterr().err
