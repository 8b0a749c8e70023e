"""Where a fit runs in a parallel sweep: its worker number and thread budget.

``GridSearchCV(..., n_jobs=N)`` runs fits in N worker processes (joblib's
loky backend by default, or Dask workers under joblib's Dask backend).  Each
fit must use only its share of the cores, and with several GPUs each worker
should use its own; these helpers tell a fit what its share is.
"""

import contextlib
import multiprocessing
import os
import sys

import torch
from threadpoolctl import threadpool_info

__all__ = ["worker_index", "worker_thread_limit", "inner_thread_limit", "limit_torch_threads"]


def _env_int(name):
    """An environment variable's non-negative integer value, or None."""
    text = os.environ.get(name, "").strip()
    return int(text) if text.isdigit() else None


def _dask_worker_name():
    # Only look when dask.distributed is already imported: a Dask task always
    # runs with it imported, and nothing else should pay for the import.
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker().name
    except ValueError:  # not inside a Dask task
        return None


def worker_index():
    """Number of the worker process this code runs in, or None in a main process.

    In order of precedence:

    * under ``torchrun``: the ``LOCAL_RANK`` of the process;
    * in a Dask task: the worker's name when it is an integer (``LocalCluster``
      names its workers 0, 1, ...);
    * in a joblib worker process (loky or multiprocessing backends): the
      process's number among the children of its parent, minus one.

    Returns
    -------
    index : int or None
        0-based; None when this is not a worker process.
    """
    local_rank = _env_int("LOCAL_RANK")
    if local_rank is not None:
        return local_rank
    name = _dask_worker_name()
    if isinstance(name, int) and not isinstance(name, bool):
        return name
    identity = getattr(multiprocessing.current_process(), "_identity", ())
    return identity[-1] - 1 if identity else None


def worker_thread_limit():
    """Threads that a parallel engine gives this worker process, or None.

    joblib's loky backend sets ``OMP_NUM_THREADS`` to ``cpu_count() //
    n_jobs`` in its workers (or to ``inner_max_num_threads`` of
    :func:`joblib.parallel_config`), Dask's nanny to 1; outside a worker
    process (:func:`worker_index` is None) this returns None.
    """
    if worker_index() is None:
        return None
    return _env_int("OMP_NUM_THREADS") or None


def inner_thread_limit():
    """Most threads that torch should use here.

    The smallest of :func:`worker_thread_limit` and of the current thread
    limit of every OpenMP runtime loaded in the process, which a
    :func:`threadpoolctl.threadpool_limits` block lowers.

    Returns
    -------
    n_threads : int or None
        None when nothing limits the threads.
    """
    limits = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp"]
    from_worker = worker_thread_limit()
    if from_worker is not None:
        limits.append(from_worker)
    return min(limits) if limits else None


@contextlib.contextmanager
def limit_torch_threads(n_threads):
    """Lower torch's intra-op threads to ``n_threads`` in the block, then restore them.

    torch's thread pool does not always follow the limits of the process
    (a pool created before they were set, a torch build whose pool is not
    the OpenMP runtime that threadpoolctl limits), so a fit sets it
    explicitly.  Never raises the number of threads.

    Parameters
    ----------
    n_threads : int or None
        None leaves torch's setting alone.
    """
    previous = torch.get_num_threads()
    if n_threads is None or n_threads >= previous:
        yield previous
        return
    torch.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        torch.set_num_threads(previous)
