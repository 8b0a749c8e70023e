"""Data-parallel training over several processes with ``torch.distributed``.

Every process (rank) holds a replica of the network and the whole training
matrix.  The :class:`~sklearn_swdae.training.TrainingEngine` gives each rank
a contiguous block of the rows of every mini-batch, so the effective batch
is the estimator's ``batch_size`` whatever the number of ranks; the
gradients of the blocks are weighted by their share of the batch and summed
over the ranks (one all-reduce per update), so every rank applies the same
Adam step as a single process training on the whole batch.  The dropout
masks and the Mult-VAE noise of the whole batch are drawn on every rank from
the same seeded generator and each rank keeps its rows, so the result equals
single-process training up to the order of floating-point sums.  Every rank
validates the same weights, so the best epoch and early stopping agree
without communication.

Run it with ``torchrun``, e.g. two processes on one machine::

    torchrun --nproc-per-node 2 -m sklearn_swdae.distributed \\
        --data ratings.csv --format csv --user-col user --item-col item --out model.joblib

which takes the data and model options of ``swdae fit`` and writes the same
model file from rank 0.  The gloo backend is used on the CPU and NCCL on
GPUs (each rank on ``cuda:LOCAL_RANK`` with ``--device auto``).  In a script
of one's own started by ``torchrun``, initialize the process group and fit
inside :func:`data_parallel`.
"""

import argparse
import contextlib
import contextvars
import io
import os
import sys

import torch
import torch.distributed as dist

__all__ = ["data_parallel", "main"]

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


class _DataParallel:
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
        flat = torch.cat(
            [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
        )
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
    identical models (see the module's description).  The block raises
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


def _current():
    """The data-parallel setting of the enclosing :func:`data_parallel` block, or None."""
    return _ACTIVE.get()


def _build_parser():
    from . import cli

    parser = argparse.ArgumentParser(
        prog="torchrun --nproc-per-node N -m sklearn_swdae.distributed",
        description=(
            "Train SW-DAE data-parallel over the processes started by torchrun and save the "
            "model from rank 0 (the options of 'swdae fit'). Without torchrun, one process trains."
        ),
    )
    cli._add_data_options(parser)
    cli._add_model_options(parser)
    parser.add_argument("--out", required=True, help="model file to write (joblib), by rank 0")
    parser.add_argument(
        "--backend",
        choices=["auto", "gloo", "nccl"],
        default="auto",
        help="torch.distributed backend; auto: NCCL when training on GPUs, else gloo",
    )
    return parser


def _init_process_group(backend, device):
    """Join the group that torchrun describes in the environment; False without one."""
    if "WORLD_SIZE" not in os.environ:
        return False
    on_gpu = device != "cpu" and torch.cuda.is_available()
    if backend == "auto":
        backend = "nccl" if on_gpu else "gloo"
    if on_gpu:
        from ._torch_utils import resolve_device

        # NCCL binds each rank to the current device: cuda:LOCAL_RANK with
        # several GPUs and device "auto" (see resolve_device).
        torch.cuda.set_device(resolve_device(device))
    dist.init_process_group(backend)
    return True


def main(argv=None):
    """Entry point of ``python -m sklearn_swdae.distributed``; returns the exit status.

    Under ``torchrun`` every rank reads the data, learns the same item groups
    (same seed) and trains its share of every mini-batch; rank 0 prints the
    progress and writes the model file, which is the same as the one of
    ``swdae fit``.
    """
    from . import cli

    args = _build_parser().parse_args(argv)
    grouped = _init_process_group(args.backend, args.device)
    rank = dist.get_rank() if grouped else 0
    quiet = contextlib.redirect_stderr(io.StringIO()) if rank else contextlib.nullcontext()
    if rank:
        args.verbose = 0
    try:
        with quiet:
            X, _, item_ids = cli._load_preprocessed(args)
            model = cli._make_model(args, X.shape[1], X.shape[0])
            with data_parallel() if grouped else contextlib.nullcontext():
                cli._fit(model, X)
            if rank == 0:
                cli._save_model(model, item_ids, args.out)
    except (cli.CommandError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"swdae: error (rank {rank}): {message}", file=sys.stderr)
        return 2
    finally:
        if grouped:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
