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
import io
import os
import sys

import torch
import torch.distributed as dist

from ._commands import fit_model, load_preprocessed, make_model, run_command, save_model, say
from ._data_parallel import data_parallel
from ._options import add_data_options, add_model_options

__all__ = ["data_parallel", "main"]


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="torchrun --nproc-per-node N -m sklearn_swdae.distributed",
        description=(
            "Train SW-DAE data-parallel over the processes started by torchrun and save the "
            "model from rank 0 (the options of 'swdae fit'). Without torchrun, one process trains."
        ),
    )
    add_data_options(parser)
    add_model_options(parser)
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
    args = _build_parser().parse_args(argv)
    grouped = _init_process_group(args.backend, args.device)
    rank = dist.get_rank() if grouped else 0
    if rank:
        args.verbose = 0

    def train():
        # Only rank 0 reports progress; the others would repeat every line.
        with contextlib.redirect_stderr(io.StringIO()) if rank else contextlib.nullcontext():
            if grouped:
                say(f"data-parallel training on {dist.get_world_size()} ranks ({dist.get_backend()})")
            dataset = load_preprocessed(args)
            model = make_model(args)
            with data_parallel() if grouped else contextlib.nullcontext():
                fit_model(model, dataset.data)
            if rank == 0:
                save_model(model, dataset.item_ids, args.out, dataset.get("item_titles"))

    try:
        return run_command(train, label=f"error (rank {rank})")
    finally:
        if grouped:
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
