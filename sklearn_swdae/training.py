"""The one training engine shared by every autoencoder recommender.

An estimator supplies a torch module whose ``forward`` maps a sparse batch
of user histories to item logits, and a loss of (logits, dense targets).
The engine owns everything else: shuffling, mini-batches, device transfer,
the optimizer, per-epoch validation under the paper's protocol, keeping the
best epoch's weights, early stopping, the history and callbacks (in the
spirit of skorch: callbacks observe and may stop training; nothing prints
except a callback).
"""

import copy
import sys
import time

import numpy as np
import torch

from ._data_parallel import _current as _data_parallel
from ._torch_utils import csr_to_torch, seeded_generator
from .metrics import evaluate_rankings

__all__ = ["Callback", "PrintLog", "TrainingEngine", "VALIDATION_METRICS"]

#: Metrics computed on the validation users every epoch; the first one
#: selects the best epoch (the paper selects on NDCG@100).
VALIDATION_METRICS = ("ndcg@100", "recall@20", "recall@50")


class Callback:
    """Base class of training callbacks.

    Subclasses override any of the hooks.  ``engine.history`` is the list of
    per-epoch records so far; setting ``engine.stop_training = True`` in
    :meth:`on_epoch_end` ends training after the current epoch.

    Examples
    --------
    >>> from sklearn_swdae import SparseWideDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> from sklearn_swdae.training import Callback
    >>> class StopAfter(Callback):
    ...     def __init__(self, n_epochs):
    ...         self.n_epochs = n_epochs
    ...     def on_epoch_end(self, engine, record):
    ...         engine.stop_training = record["epoch"] >= self.n_epochs
    >>> X, _ = make_interactions(200, 40, 4, density=0.1, random_state=0)
    >>> model = SparseWideDAERecommender(
    ...     connectivity=(X.T @ X)[:10] > 0, max_iter=50, callbacks=[StopAfter(2)], device="cpu"
    ... ).fit(X)
    >>> model.n_iter_
    2
    """

    def on_train_begin(self, engine):
        """Called once, after the module and optimizer are ready."""

    def on_epoch_end(self, engine, record):
        """Called after each epoch with its history record (a dict)."""

    def on_train_end(self, engine):
        """Called once, after the best weights are restored."""


class PrintLog(Callback):
    """Print one line per epoch: loss, validation metrics and seconds.

    Parameters
    ----------
    stream : file-like or None, default=None
        Where to print; None means ``sys.stdout`` at the time of printing.

    Examples
    --------
    >>> from sklearn_swdae.training import PrintLog
    >>> PrintLog().on_epoch_end(None, {"epoch": 3, "train_loss": 61.2, "ndcg@100": 0.31, "dur": 1.5})
    epoch    3  loss 61.2000  ndcg@100 0.3100  1.50s
    """

    def __init__(self, stream=None):
        self.stream = stream

    def on_epoch_end(self, engine, record):
        parts = [f"epoch {record['epoch']:>4d}", f"loss {record['train_loss']:.4f}"]
        parts += [f"{name} {record[name]:.4f}" for name in VALIDATION_METRICS if name in record]
        if record.get("best"):
            parts.append("*")
        parts.append(f"{record['dur']:.2f}s")
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)


class TrainingEngine:
    """Mini-batch training of an autoencoder with validation-based selection.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a sparse (batch, n_items) COO tensor to (batch, n_items) logits.
        If it has a ``generator`` attribute, the engine sets it to a seeded
        generator for dropout.
    loss_fn : callable
        ``loss_fn(logits, targets, module)`` -> scalar tensor, ``targets``
        being the dense binary batch.
    device : torch.device
        Where the module and the batches live.
    learning_rate, alpha : float
        Adam learning rate and L2 penalty (Adam's ``weight_decay``).
    batch_size, max_iter : int
        Users per mini-batch and number of epochs.
    n_iter_no_change : int or None
        Stop when the selection metric has not improved by ``tol`` for this
        many epochs; None trains all ``max_iter`` epochs.
    tol : float
        Minimum improvement of the selection metric for early stopping.
    callbacks : list of Callback
        Observers called at the start, after every epoch and at the end.
    random_state : numpy RandomState
        Shuffling and dropout.

    Notes
    -----
    Inside :func:`sklearn_swdae.distributed.data_parallel`, each process
    trains on its block of the rows of every mini-batch and the gradients
    are summed over the processes, so that all of them take the step of the
    whole batch (see :mod:`sklearn_swdae.distributed`).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_swdae.datasets import make_interactions
    >>> from sklearn_swdae.layers import DenoisingAutoencoder
    >>> from sklearn_swdae.training import TrainingEngine
    >>> X, _ = make_interactions(100, 20, 2, density=0.2, random_state=0)
    >>> rng = np.random.RandomState(0)
    >>> module = DenoisingAutoencoder(20, 8, None, "tanh", 0.5, 0.0, rng)
    >>> def loss(logits, targets, module):
    ...     return -(torch.log_softmax(logits, 1) * targets).sum(1).mean()
    >>> engine = TrainingEngine(
    ...     module, loss, device=torch.device("cpu"), learning_rate=1e-2, alpha=0.0,
    ...     batch_size=50, max_iter=3, n_iter_no_change=None, tol=0.0, callbacks=[],
    ...     random_state=rng,
    ... )
    >>> engine.fit(X), len(engine.history)
    (3, 3)
    """

    def __init__(
        self,
        module,
        loss_fn,
        *,
        device,
        learning_rate,
        alpha,
        batch_size,
        max_iter,
        n_iter_no_change,
        tol,
        callbacks,
        random_state,
    ):
        self.module = module
        self.loss_fn = loss_fn
        self.device = device
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = list(callbacks)
        self.random_state = random_state
        self.history = []
        self.stop_training = False
        self.global_step = 0

    def _scores(self, X_batch):
        with torch.no_grad():
            return self.module(csr_to_torch(X_batch, self.device)).float().cpu().numpy()

    def validate(self, X_fold_in, X_held_out):
        """Mean validation metrics of the current weights."""
        self.module.eval()
        results = evaluate_rankings(self._scores, X_fold_in, X_held_out, VALIDATION_METRICS)
        return {name: float(np.nanmean(values)) for name, values in results.items()}

    def fit(self, X, validation=None):
        """Train the module, selecting the epoch on validation users.

        Parameters
        ----------
        X : scipy.sparse.csr_array of shape (n_users, n_items)
            Binary training histories.
        validation : tuple of two CSR arrays or None
            ``(fold_in, held_out)`` of the validation users; None keeps the
            last epoch.

        Returns
        -------
        best_epoch : int
            1-based epoch whose weights the module holds at the end (the
            last one when there is no validation).
        """
        module = self.module.to(self.device)
        # Inside sklearn_swdae.distributed.data_parallel(): this rank trains
        # on its block of every mini-batch (None: the whole batch).
        parallel = _data_parallel()
        if hasattr(module, "generator"):
            module.generator = seeded_generator(self.random_state, self.device)
            if parallel is not None:
                module.generator = parallel.shard_generator(module.generator)
        if parallel is not None:
            parallel.check_replicas(module, X)
        optimizer = torch.optim.Adam(module.parameters(), lr=self.learning_rate, weight_decay=self.alpha)
        for callback in self.callbacks:
            callback.on_train_begin(self)

        n_users = X.shape[0]
        best_score, best_epoch, best_state, since_best = -np.inf, 0, None, 0
        for epoch in range(1, self.max_iter + 1):
            tic = time.perf_counter()
            module.train()
            order = self.random_state.permutation(n_users)
            # Losses stay on the device; one synchronization per epoch.
            total_loss = torch.zeros((), device=self.device)
            for start in range(0, n_users, self.batch_size):
                batch = X[np.sort(order[start : start + self.batch_size])]
                if parallel is not None:
                    batch, share = parallel.shard(batch, getattr(module, "generator", None))
                x = csr_to_torch(batch, self.device)
                logits = module(x)
                loss = self.loss_fn(logits, x.to_dense(), module)
                optimizer.zero_grad(set_to_none=True)
                if parallel is None:
                    loss.backward()
                else:
                    parallel.backward(loss, share, module)
                optimizer.step()
                if batch.shape[0]:  # a rank's block may be empty (and its mean NaN)
                    total_loss += loss.detach() * batch.shape[0]
                self.global_step += 1
            if parallel is not None:
                total_loss = parallel.all_reduce_sum(total_loss)
            record = {"epoch": epoch, "train_loss": float(total_loss) / n_users}
            if validation is not None:
                record.update(self.validate(*validation))
                score = record[VALIDATION_METRICS[0]]
                improved = score > best_score + self.tol
                if score > best_score:
                    best_score, best_epoch = score, epoch
                    best_state = copy.deepcopy(module.state_dict())
                    record["best"] = True
                since_best = 0 if improved else since_best + 1
            else:
                best_epoch = epoch
            record["dur"] = time.perf_counter() - tic
            self.history.append(record)
            for callback in self.callbacks:
                callback.on_epoch_end(self, record)
            if self.n_iter_no_change is not None and since_best >= self.n_iter_no_change:
                self.stop_training = True
            if self.stop_training:
                break
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
        for callback in self.callbacks:
            callback.on_train_end(self)
        return best_epoch
