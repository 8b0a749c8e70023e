"""Smoke test of benchmarks/bench_prediction.py: every encoder path it times
agrees with the others (checked inside the script) and it prints its table."""

import pytest
import scipy.sparse as sp
from conftest import load_benchmark

from sklearn_swdae.datasets import make_interactions


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_prediction")


def test_prints_every_path(bench, tmp_path, capsys):
    X, _ = make_interactions(2100, 120, 6, density=0.08, random_state=0)
    sp.save_npz(tmp_path / "X.npz", sp.csr_matrix(X))
    bench.main(
        ["--cache", str(tmp_path / "X.npz"), "--k", "30", "--users", "100", "--repeats", "1", "--block-users", "8"]
    )
    out = capsys.readouterr().out
    for step in (
        "gather (uniform mask)",
        "scipy SMMP",
        "dense table",
        "decoder alone",
        "recommend, decoder blocks of 8 users",
    ):
        assert f"| {step}" in out


def test_rejects_too_few_users(bench, tmp_path):
    X, _ = make_interactions(300, 40, 4, density=0.1, random_state=0)
    sp.save_npz(tmp_path / "X.npz", sp.csr_matrix(X))
    with pytest.raises(SystemExit):
        bench.main(["--cache", str(tmp_path / "X.npz"), "--k", "10", "--users", "100"])


def test_rejects_a_block_of_no_users(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--block-users", "64", "0"])
    assert exc.value.code == 2
    assert "--block-users must be positive integers, got [64, 0]" in capsys.readouterr().err
