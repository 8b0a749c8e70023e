"""Tests of parallel sweeps: threads and GPUs of the workers, Pipeline caching, Dask."""

import multiprocessing

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae._parallel import inner_thread_limit, worker_index, worker_thread_limit
from sklearn_swdae._torch_utils import resolve_device, worker_device
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.training import Callback


@pytest.fixture
def in_worker(monkeypatch):
    """Pretend to be the third child process of a joblib pool (worker index 2)."""
    for name in ("LOCAL_RANK", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(multiprocessing.current_process(), "_identity", (3,))


def test_worker_index(monkeypatch, in_worker):
    assert worker_index() == 2
    monkeypatch.setenv("LOCAL_RANK", "0")  # torchrun's rank comes first
    assert worker_index() == 0
    monkeypatch.setattr(multiprocessing.current_process(), "_identity", ())
    monkeypatch.delenv("LOCAL_RANK")
    assert worker_index() is None


def test_worker_thread_limit_reads_omp_num_threads_only_in_a_worker(monkeypatch, in_worker):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert worker_thread_limit() == 3
    assert inner_thread_limit() <= 3
    monkeypatch.setattr(multiprocessing.current_process(), "_identity", ())
    assert worker_thread_limit() is None


def test_worker_device_round_robin():
    assert [worker_device(i, 3).index for i in range(7)] == [0, 1, 2, 0, 1, 2, 0]


def test_resolve_device_shares_gpus_among_workers(monkeypatch, in_worker):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    # Worker 2 of a joblib pool, 2 GPUs: cuda:0; an explicit index is kept.
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert resolve_device("auto") == torch.device("cuda", 1)
    # A main process keeps torch's current device.
    monkeypatch.delenv("LOCAL_RANK")
    monkeypatch.setattr(multiprocessing.current_process(), "_identity", ())
    assert resolve_device("auto") == torch.device("cuda")
    # One GPU: every worker uses it.
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert resolve_device("auto") == torch.device("cuda")


class _RecordThreads(Callback):
    def on_train_begin(self, engine):
        self.n_threads = torch.get_num_threads()


def _model(**params):
    defaults = dict(
        grouper=ItemGrouper(n_clusters=6, overlap=2, n_components=3, random_state=0),
        max_iter=2,
        batch_size=50,
        device="cpu",
        random_state=0,
    )
    return SparseWideDAERecommender(**{**defaults, **params})


def test_fit_in_a_worker_keeps_to_its_threads(monkeypatch, in_worker):
    """In a worker given 1 thread (joblib sets OMP_NUM_THREADS), torch trains
    on 1 thread even if its pool has more, and gets them back afterwards."""
    X, _ = make_interactions(120, 30, 3, density=0.15, random_state=0)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        record = _RecordThreads()
        _model(callbacks=[record]).fit(X)
        assert record.n_threads == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def sweep_data():
    X, _ = make_interactions(200, 40, 4, density=0.15, random_state=0)
    return X


def _pipeline(memory=None):
    return Pipeline(
        [
            ("group", ItemGrouper(n_clusters=6, overlap=2, n_components=3, random_state=0)),
            ("dae", SparseWideDAERecommender(max_iter=2, batch_size=50, device="cpu", random_state=0)),
        ],
        memory=memory,
    )


def test_pipeline_memory_fits_the_grouper_once_per_fold(sweep_data, tmp_path, monkeypatch):
    """With ``memory=``, a grid over the recommender's parameters learns the
    item groups once per fold, and the cached groups give the same scores."""
    calls = []
    fit = ItemGrouper.fit

    def counting_fit(self, X, y=None):
        calls.append(self.n_clusters)
        return fit(self, X, y)

    monkeypatch.setattr(ItemGrouper, "fit", counting_fit)
    grid = {"dae__hidden_dropout": [0.1, 0.3], "dae__learning_rate": [1e-3, 1e-2]}
    results = {}
    for memory in (None, joblib.Memory(tmp_path, verbose=0)):
        calls.clear()
        search = GridSearchCV(_pipeline(memory), grid, cv=KFold(2), refit=False).fit(sweep_data)
        results[memory is None] = search.cv_results_["mean_test_score"]
        assert len(calls) == (8 if memory is None else 2)
    np.testing.assert_array_equal(results[True], results[False])


@pytest.mark.slow  # 20 s to 90 s: starting the cluster, importing torch in each worker
def test_grid_search_on_a_dask_cluster_matches_sequential(sweep_data):
    """A 2-process LocalCluster on loopback, through joblib's Dask backend,
    gives the scores of the sequential sweep exactly (same random_state, one
    thread per fit in both)."""
    distributed = pytest.importorskip("distributed")
    grid = {"group__n_clusters": [4, 8], "group__overlap": [1, 2]}
    with threadpool_limits(limits=1):
        sequential = GridSearchCV(_pipeline(), grid, cv=KFold(2), refit=False).fit(sweep_data)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        joblib.parallel_config(backend="dask"),
    ):
        on_dask = GridSearchCV(_pipeline(), grid, cv=KFold(2), refit=False).fit(sweep_data)
        workers_used = client.run(lambda: __import__("sklearn_swdae").__file__)
    assert len(workers_used) == 2
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], sequential.cv_results_[key])
    assert np.ptp(sequential.cv_results_["mean_test_score"]) > 0  # the grid matters
