"""Device resolution and sparse-batch transfer between scipy and torch."""

import numpy as np
import scipy.sparse as sp
import torch

from ._parallel import worker_index

__all__ = ["resolve_device", "worker_device", "csr_to_torch", "seeded_generator"]


def worker_device(worker_index, n_gpus):
    """The GPU of a worker of a parallel sweep: ``cuda:(worker_index mod n_gpus)``.

    Examples
    --------
    >>> from sklearn_swdae._torch_utils import worker_device
    >>> [str(worker_device(i, 2)) for i in range(4)]
    ['cuda:0', 'cuda:1', 'cuda:0', 'cuda:1']
    """
    return torch.device("cuda", worker_index % n_gpus)


def resolve_device(device):
    """Turn the ``device`` parameter of an estimator into a ``torch.device``.

    ``"auto"`` picks CUDA when torch sees a GPU and the CPU otherwise.
    ``"cpu"``, ``"cuda"`` and ``"cuda:N"`` are accepted; asking for a GPU
    that is not there raises a ValueError that says what is available,
    rather than a deep torch error at the first tensor transfer.

    With several GPUs, ``"auto"`` and ``"cuda"`` in a worker process of a
    parallel sweep (a joblib or Dask worker, a ``torchrun`` rank) mean
    ``cuda:(i mod n_gpus)`` for the worker's number ``i``
    (:func:`~sklearn_swdae._parallel.worker_index`), so the workers share
    the GPUs round-robin instead of all using the first.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ValueError(f"device must be a string such as 'auto', 'cpu' or 'cuda:0', got {device!r}.")
    if device in ("auto", "cuda") and torch.cuda.is_available() and torch.cuda.device_count() > 1:
        index = worker_index()
        if index is not None:
            return worker_device(index, torch.cuda.device_count())
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from None
    if resolved.type == "cpu":
        return resolved
    if resolved.type != "cuda":
        raise ValueError(f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'cuda:N'.")
    if not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but torch sees no CUDA device on this machine "
            f"(torch {torch.__version__}). Use device='auto' to fall back to the CPU."
        )
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device={device!r} does not exist: torch sees {torch.cuda.device_count()} CUDA device(s).")
    return resolved


def csr_to_torch(X, device):
    """A scipy CSR batch as a coalesced torch sparse COO tensor on ``device``.

    Only the non-zeros travel; on CUDA they go through pinned memory so the
    copy can overlap with compute.
    """
    X = sp.csr_array(X)
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    X = X.tocoo()  # row-major order without duplicates: already coalesced
    indices = torch.from_numpy(np.vstack([X.row, X.col]).astype(np.int64))
    values = torch.from_numpy(np.asarray(X.data, dtype=np.float32))
    if device.type == "cuda":
        indices = indices.pin_memory().to(device, non_blocking=True)
        values = values.pin_memory().to(device, non_blocking=True)
    return torch.sparse_coo_tensor(indices, values, X.shape, device=device, is_coalesced=True, check_invariants=False)


def seeded_generator(random_state, device):
    """A torch generator on ``device`` seeded from a numpy RandomState.

    Dropout masks draw from it, so training is reproducible without touching
    torch's global seed.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(int(random_state.randint(np.iinfo(np.int32).max)))
    return generator
