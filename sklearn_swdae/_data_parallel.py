"""The data-parallel mode of the training engine (see :mod:`sklearn_swdae.distributed`).

Kept apart from the ``python -m sklearn_swdae.distributed`` entry point,
which the package must not import (runpy would then execute a second copy of
the module, with its own context variable).
"""

import contextlib
import contextvars

import torch
import torch.distributed as dist

__all__ = ["SingleProcess", "current_strategy", "data_parallel"]

_ACTIVE = contextvars.ContextVar("sklearn_swdae_data_parallel", default=None)


class _ShardGenerator:
    """Draws the random numbers of a whole mini-batch, returns one block's.

    The layers draw through :func:`sklearn_swdae.layers._draw`: a 1-D draw
    has one number per stored value of the sparse batch (input dropout), a
    draw of 2 or more dimensions one row per user (hidden dropout, Mult-VAE
    noise).  ``set_shard`` says where this rank's block lies in both.
    """

    def __init__(self, generator):
        self.generator = generator
        self.rows = self.values = None

    def set_shard(self, rows, values):
        """``rows`` and ``values``: ``(total, start, stop)`` of the block."""
        self.rows, self.values = rows, values

    def draw(self, sampler, shape, device, dtype=None):
        total, start, stop = self.values if len(shape) == 1 else self.rows
        if shape[0] != stop - start:
            raise RuntimeError(
                f"data-parallel training expected a draw of {stop - start} rows, got shape "
                f"{tuple(shape)}: a module must draw one number per stored value or one row per user."
            )
        full = sampler((total, *shape[1:]), generator=self.generator, device=device, dtype=dtype)
        return full[start:stop]


class SingleProcess:
    """The training engine's default strategy: the whole batch on this process.

    Every method is the identity or the plain step, so the engine's loop
    reads the same with or without data parallelism.
    """

    def shard_generator(self, generator):
        return generator

    def check_replicas(self, module, X):
        """Nothing to compare with."""

    def shard(self, batch, generator):
        """The whole batch, and its share of the batch: all of it."""
        return batch, 1.0

    def backward(self, loss, share, module):
        loss.backward()

    def all_reduce_sum(self, tensor):
        return tensor


class _DataParallel(SingleProcess):
    """What the training engine does differently on one rank of a group."""

    def __init__(self, group=None):
        self.group = group
        self.rank = dist.get_rank(group)
        self.world_size = dist.get_world_size(group)
        self.root = 0 if group is None else dist.get_global_rank(group, 0)

    def shard_generator(self, generator):
        return _ShardGenerator(generator)

    def shard(self, batch, generator):
        """This rank's block of rows of a CSR mini-batch, and its share of the batch."""
        n_rows = batch.shape[0]
        start = n_rows * self.rank // self.world_size
        stop = n_rows * (self.rank + 1) // self.world_size
        if isinstance(generator, _ShardGenerator):
            indptr = batch.indptr
            generator.set_shard((n_rows, start, stop), (batch.nnz, int(indptr[start]), int(indptr[stop])))
        return batch[start:stop], (stop - start) / n_rows

    def check_replicas(self, module, X):
        """Raise on every rank unless all ranks start from the same weights and data."""
        device = next(module.parameters()).device
        fingerprint = [float(X.shape[0]), float(X.shape[1]), float(X.nnz), float(X.indices.sum())]
        mine = torch.cat(
            [torch.tensor(fingerprint, dtype=torch.float64, device=device)]
            + [p.detach().reshape(-1).double() for p in module.parameters()]
        )
        root = mine.clone()
        dist.broadcast(root, src=self.root, group=self.group)
        differs = torch.tensor([float(not torch.equal(mine, root))], device=device)
        dist.all_reduce(differs, op=dist.ReduceOp.MAX, group=self.group)
        if differs.item():
            raise ValueError(
                "data-parallel training needs the same training data and the same initial "
                "weights on every rank: load the same data everywhere and give the estimator "
                "(and its grouper) an int random_state."
            )

    def backward(self, loss, share, module):
        """Gradients of the whole batch's loss, identical on every rank.

        ``loss`` is the mean over this rank's rows; weighted by the rows'
        share of the batch and summed over the ranks it is the mean over the
        batch.  A rank without rows contributes zeros.
        """
        if share > 0:
            (loss * share).backward()
        params = [p for p in module.parameters() if p.requires_grad]
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
        dist.all_reduce(flat, group=self.group)
        offset = 0
        for p in params:
            p.grad = flat[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()

    def all_reduce_sum(self, tensor):
        tensor = tensor.clone()
        dist.all_reduce(tensor, group=self.group)
        return tensor


@contextlib.contextmanager
def data_parallel(group=None):
    """Train every autoencoder fit in the block data-parallel over ``group``.

    Each process of the group runs the same code on the same data with the
    same ``random_state``; the fits exchange gradients and end with
    identical models (see :mod:`sklearn_swdae.distributed`).  The block raises
    ValueError at the start of a fit when the ranks' data or initial weights
    differ.

    Parameters
    ----------
    group : torch.distributed.ProcessGroup or None, default=None
        The processes that train together; None is the default group, which
        must be initialized (``torch.distributed.init_process_group``, as
        :func:`main` does under ``torchrun``).

    Examples
    --------
    A group of one process on the CPU trains exactly like no group:

    >>> import torch.distributed as dist
    >>> from sklearn_swdae import FCDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> from sklearn_swdae.distributed import data_parallel
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> X, _ = make_interactions(200, 30, 3, density=0.2, random_state=0)
    >>> model = FCDAERecommender(n_hidden=8, max_iter=2, device="cpu", random_state=0)
    >>> with data_parallel():
    ...     parallel = model.fit(X).module_.encoder.weight.detach().clone()
    >>> single = model.fit(X).module_.encoder.weight.detach()
    >>> bool((parallel == single).all())
    True
    >>> dist.destroy_process_group()
    """
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            "data_parallel() needs an initialized torch.distributed process group: start the "
            "script with torchrun and call torch.distributed.init_process_group first."
        )
    token = _ACTIVE.set(_DataParallel(group))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


_SINGLE_PROCESS = SingleProcess()


def current_strategy():
    """The strategy of the enclosing :func:`data_parallel` block, else :class:`SingleProcess`."""
    return _ACTIVE.get() or _SINGLE_PROCESS
