"""Tests of data-parallel training (sklearn_swdae.distributed)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_swdae._data_parallel import _DataParallel, _ShardGenerator
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.distributed import data_parallel, main
from sklearn_swdae.layers import dense_dropout, sparse_dropout

REPO = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _FakeRank(_DataParallel):
    """The sharding of one rank, without a process group."""

    def __init__(self, rank, world_size):
        self.rank, self.world_size = rank, world_size


def test_shards_draw_the_whole_batch_dropout():
    """The blocks of the ranks, stacked, are dropped out exactly as the whole batch."""
    batch = sp.random_array((7, 20), density=0.3, format="csr", rng=0)
    batch.data[:] = 1.0
    h = torch.rand(7, 5, generator=torch.Generator().manual_seed(1))

    def dropped(rows, h_rows, generator):
        # Input dropout, then hidden dropout, in the order of the layers.
        x = torch.sparse_coo_tensor(np.vstack(rows.nonzero()), torch.ones(rows.nnz), rows.shape, check_invariants=True)
        return sparse_dropout(x.coalesce(), 0.5, generator).to_dense(), dense_dropout(h_rows, 0.3, generator)

    whole_x, whole_h = dropped(batch, h, torch.Generator().manual_seed(0))
    for world_size in (2, 3, 8):  # 8 ranks for 7 rows: one rank has no row
        parts_x, parts_h = [], []
        for rank in range(world_size):
            generator = _ShardGenerator(torch.Generator().manual_seed(0))
            block, share = _FakeRank(rank, world_size).shard(batch, generator)
            start = 7 * rank // world_size
            assert share == block.shape[0] / 7
            x, h_block = dropped(block, h[start : start + block.shape[0]], generator)
            parts_x.append(x)
            parts_h.append(h_block)
        torch.testing.assert_close(torch.cat(parts_x), whole_x, rtol=0, atol=0)
        torch.testing.assert_close(torch.cat(parts_h), whole_h, rtol=0, atol=0)


def test_shard_generator_rejects_a_draw_of_the_wrong_size():
    generator = _ShardGenerator(torch.Generator().manual_seed(0))
    generator.set_shard((10, 0, 5), (30, 0, 12))
    with pytest.raises(RuntimeError, match="expected a draw of 5 rows"):
        generator.draw(torch.rand, (6, 3), torch.device("cpu"))


def test_data_parallel_needs_a_process_group():
    with pytest.raises(RuntimeError, match="init_process_group"):
        with data_parallel():
            pass


def _write_log(path, n_users=301):
    X, _ = make_interactions(n_users, 40, 4, density=0.15, random_state=0)
    assert (X.sum(axis=1) > 0).all() and (X.sum(axis=0) > 0).all()
    users, items = X.nonzero()
    with open(path, "w") as fh:
        fh.write("user,item\n")
        fh.writelines(f"u{u},i{i}\n" for u, i in zip(users, items))


@pytest.mark.slow  # about a minute: three processes import torch
def test_torchrun_two_gloo_ranks_match_one_process(tmp_path, monkeypatch):
    """2 CPU ranks (gloo, loopback) train the model that 1 process trains.

    301 users: 30 validate, 271 train in batches of 54, so the last batch
    has one user and one rank gets no row of it.  Tolerance: weights within
    1e-5 (absolute) after 4 epochs; only the order of floating-point sums
    differs between the runs.
    """
    data = tmp_path / "log.csv"
    _write_log(data)
    options = [
        "--data", str(data), "--format", "csv", "--user-col", "user", "--item-col", "item",
        "--n-clusters", "8", "--overlap", "2", "--n-components", "4", "--max-iter", "4",
        "--batch-size", "54", "--learning-rate", "0.01", "--device", "cpu", "--seed", "0",
        "--verbose", "0",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OMP_NUM_THREADS": "1",
        "GLOO_SOCKET_IFNAME": "lo",
    }
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
        "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
        "-m", "sklearn_swdae.distributed", *options, "--out", str(tmp_path / "ddp.joblib"),
    ]  # fmt: skip
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "data-parallel training on 2 ranks (gloo)" in run.stderr

    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert main([*options, "--out", str(tmp_path / "single.joblib")]) == 0

    ddp = joblib.load(tmp_path / "ddp.joblib")["model"]
    single = joblib.load(tmp_path / "single.joblib")["model"]
    assert (ddp.connectivity_ != single.connectivity_).nnz == 0
    assert ddp.best_epoch_ == single.best_epoch_ and ddp.n_iter_ == single.n_iter_ == 4
    np.testing.assert_allclose(
        [r["train_loss"] for r in ddp.history_], [r["train_loss"] for r in single.history_], rtol=1e-5
    )
    ddp_state, single_state = ddp.module_.state_dict(), single.module_.state_dict()
    for name, value in single_state.items():
        torch.testing.assert_close(ddp_state[name], value, rtol=0, atol=1e-5, msg=name)
    # Not trivially equal: training moved the weights away from their start.
    assert single.history_[0]["train_loss"] != single.history_[-1]["train_loss"]


def test_main_without_torchrun_trains_one_process_and_writes_the_model_file(tmp_path, monkeypatch):
    """Without torchrun's environment, main is 'swdae fit' in one process.

    Guards the shared command layer: main once unpacked the preprocessed
    dataset (a Bunch) as a tuple and exited with status 2.
    """
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "log.csv"
    _write_log(data, n_users=80)
    out = tmp_path / "model.joblib"
    options = [
        "--data", str(data), "--format", "csv", "--user-col", "user", "--item-col", "item",
        "--n-clusters", "8", "--overlap", "2", "--n-components", "4", "--max-iter", "2",
        "--device", "cpu", "--verbose", "0", "--out", str(out),
    ]  # fmt: skip
    assert main(options) == 0
    bundle = joblib.load(out)
    assert bundle["kind"] == "sklearn-swdae model"
    assert bundle["model"].n_features_in_ == len(bundle["item_ids"]) == 40
    assert str(bundle["item_ids"][0]).startswith("i")


def test_main_reports_a_bad_input_as_one_line_with_the_rank(tmp_path, monkeypatch, capsys):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    status = main(["--data", str(tmp_path / "missing.csv"), "--format", "csv", "--user-col", "u",
                   "--item-col", "i", "--out", str(tmp_path / "m.joblib")])  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("swdae: error (rank 0): ")
