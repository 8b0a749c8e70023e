"""Checkpoints of interrupted training: save every epoch, resume where it stopped.

A :class:`Checkpoint` callback writes the whole state of the
:class:`~sklearn_swdae.training.TrainingEngine` (weights, optimizer moments,
epoch, history, best epoch and its weights, early-stopping counter and the
states of the random generators) after every epoch, atomically: the file is
written under a temporary name, flushed to disk and renamed over the
previous checkpoint, so a process killed at any moment leaves either the
previous checkpoint or the new one, never a truncated file.  When ``fit``
starts again with the same data, hyperparameters and ``random_state``, the
callback loads the checkpoint and training continues from the next epoch;
on the CPU the result is bit-for-bit that of an uninterrupted run.
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from .training import Callback

__all__ = ["Checkpoint"]

#: Version of the checkpoint layout; a file of another layout is refused.
_FORMAT = 1


def _hash_array(digest, array):
    array = np.ascontiguousarray(array)
    digest.update(str((array.dtype.str, array.shape)).encode())
    digest.update(memoryview(array).cast("B"))


def _hash_tensor(digest, tensor):
    tensor = tensor.detach().cpu()
    if tensor.is_sparse:
        tensor = tensor.coalesce()
        _hash_tensor(digest, tensor.indices())
        _hash_tensor(digest, tensor.values())
        return
    digest.update(str((tensor.dtype, tuple(tensor.shape))).encode())
    digest.update(memoryview(tensor.contiguous().reshape(-1).view(torch.uint8).numpy()))


def _hash_matrix(digest, X):
    X = sp.csr_array(X)
    digest.update(str(X.shape).encode())
    _hash_array(digest, X.indptr.astype(np.int64))
    _hash_array(digest, X.indices.astype(np.int64))


def _fingerprint(engine, X, validation):
    """What must be equal for a checkpoint to belong to this run.

    The training and validation matrices, the initial weights (which carry
    the connectivity and the ``random_state``), the module class, the device
    type (random generators differ by device) and the optimizer settings.
    The number of epochs and the early-stopping settings are not part of
    it: a run may be resumed with a larger ``max_iter``.
    """
    digest = hashlib.sha256()
    _hash_matrix(digest, X)
    for matrix in validation or ():
        _hash_matrix(digest, matrix)
    for name, tensor in engine.module.state_dict().items():
        digest.update(name.encode())
        _hash_tensor(digest, tensor)
    settings = (
        type(engine.module).__qualname__,
        engine.device.type,
        float(engine.learning_rate),
        float(engine.alpha),
        int(engine.batch_size),
    )
    if engine.average_half_life is not None:  # absent before averaging existed
        settings += (("average_half_life", float(engine.average_half_life)),)
    digest.update(repr(settings).encode())
    return digest.hexdigest()


def _atomic_save(obj, path):
    """torch.save to a temporary file in the same folder, fsync, then rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Checkpoint(Callback):
    """Save the training state every epoch; resume from it when fit restarts.

    Pass it in the ``callbacks`` of any autoencoder recommender.  After
    every ``every``-th epoch (and the last one) the complete state of
    training is written atomically to ``dirname/checkpoint.pt``.  When fit
    starts and that file exists (and ``resume`` is True), training continues
    from the saved epoch, so a job killed mid-training loses at most the
    epochs since the last save.  With the same data, hyperparameters and an
    int ``random_state``, the resumed fit ends with the same best model as
    an uninterrupted one, bit for bit on the CPU.

    The checkpoint is read with ``torch.load(..., weights_only=True)``: it
    holds only tensors, numbers, strings and plain containers, and loading
    it cannot execute code.  It is kept after training (resuming a finished
    run restores its result without training); delete the folder to start
    afresh.

    Parameters
    ----------
    dirname : str or path-like
        Folder of the checkpoint, created if needed.
    every : int, default=1
        Save after every ``every`` epochs (and always after the last one).
    resume : bool, default=True
        Resume from an existing checkpoint.  False overwrites it.

    Attributes
    ----------
    resumed_epoch_ : int
        The epoch the last fit resumed from (0 when it started afresh).

    Raises
    ------
    ValueError
        At the start of fit, when the existing checkpoint belongs to another
        run (other data, hyperparameters, device type or initial weights,
        e.g. because ``random_state`` is None) or has an unknown layout.

    Notes
    -----
    State of user callbacks other than the engine's history is not saved.
    One folder holds the checkpoint of one fit: do not share a Checkpoint
    between the fits of a cross-validation (the second fit would find the
    first one's checkpoint and refuse it).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_swdae import FCDAERecommender
    >>> from sklearn_swdae.checkpoint import Checkpoint
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(200, 30, 3, density=0.1, random_state=0)
    >>> folder = tempfile.TemporaryDirectory()
    >>> params = dict(n_hidden=8, device="cpu", random_state=0)
    >>> first = FCDAERecommender(max_iter=2, callbacks=[Checkpoint(folder.name)], **params).fit(X)
    >>> checkpoint = Checkpoint(folder.name)
    >>> resumed = FCDAERecommender(max_iter=4, callbacks=[checkpoint], **params).fit(X)
    >>> checkpoint.resumed_epoch_, resumed.n_iter_
    (2, 4)
    >>> folder.cleanup()
    """

    filename = "checkpoint.pt"

    def __init__(self, dirname, every=1, resume=True):
        self.dirname = dirname
        self.every = every
        self.resume = resume

    @property
    def path(self):
        """Where the checkpoint is written."""
        return Path(self.dirname).expanduser() / self.filename

    def on_train_data(self, engine, X, validation):
        # Before any resumed state is loaded: the initial weights are part of
        # what identifies the run.
        self._fingerprint = _fingerprint(engine, X, validation)

    def on_train_begin(self, engine):
        if isinstance(self.every, bool) or not isinstance(self.every, (int, np.integer)) or self.every < 1:
            raise ValueError(f"Checkpoint every must be a positive integer, got {self.every!r}.")
        folder = Path(self.dirname).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        # Temporary files of a process killed while saving: never a checkpoint.
        for stale in folder.glob(f".{self.filename}.*.tmp"):
            stale.unlink(missing_ok=True)
        self.resumed_epoch_ = 0
        if not (self.resume and self.path.is_file()):
            return
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(
                f"'{self.path}' is not a checkpoint of this version of sklearn-swdae; delete it or use another dirname."
            )
        if state["fingerprint"] != self._fingerprint:
            raise ValueError(
                f"The checkpoint '{self.path}' was written by another run (other training data, "
                "hyperparameters, device type or initial weights); it cannot be resumed. Use the "
                "same data and parameters with an int random_state, or delete the checkpoint "
                "(or pass resume=False) to start afresh."
            )
        engine.load_state_dict(state["engine"])
        self.resumed_epoch_ = engine.epoch

    def on_epoch_end(self, engine, record):
        epoch = record["epoch"]
        if epoch % self.every == 0 or epoch >= engine.max_iter or engine.stop_training:
            self.save(engine)

    def save(self, engine):
        """Write the engine's state now (atomically)."""
        state = {"format": _FORMAT, "fingerprint": self._fingerprint, "engine": engine.state_dict()}
        _atomic_save(state, self.path)
