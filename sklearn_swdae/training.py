"""The one training engine shared by every autoencoder recommender.

An estimator supplies a torch module whose ``forward_output`` maps a sparse
batch of user histories to an :class:`~sklearn_swdae.layers.AutoencoderOutput`
(logits plus auxiliary terms), and a loss of (output, targets).  The engine
owns the loop: shuffling, mini-batches, device transfer, the optimizer,
per-epoch validation under the paper's protocol and the one ``history``.
Everything optional is a callback reading that history, in the spirit of
skorch: :class:`BestEpoch` keeps the best epoch's weights,
:class:`EarlyStopping` stops training, :class:`PrintLog` prints.  Data
parallelism is a strategy object (:mod:`sklearn_swdae.distributed`) whose
default does the plain single-process step.
"""

import contextlib
import copy
import sys
import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_scalar

from ._data_parallel import current_strategy
from ._kernels import frozen_weights
from ._memory import check_training_memory, is_out_of_memory, out_of_memory_error
from ._torch_utils import csr_to_torch, seeded_generator
from .layers import AutoencoderOutput
from .metrics import evaluate_rankings

__all__ = [
    "BestEpoch",
    "Callback",
    "EarlyStopping",
    "PRECISIONS",
    "PrintLog",
    "TrainingEngine",
    "VALIDATION_METRICS",
    "epoch_summary",
    "precision_context",
]

#: Metrics computed on the validation users every epoch; the first one
#: selects the best epoch (the paper selects on NDCG@100).
VALIDATION_METRICS = ("ndcg@100", "recall@20", "recall@50")


#: Arithmetic choices of training and prediction (see precision_context).
PRECISIONS = ("float32", "tf32", "bfloat16")


@contextlib.contextmanager
def precision_context(device, precision):
    """Run the enclosed torch code at the requested precision.

    ``"float32"`` changes nothing.  ``"tf32"`` lets CUDA matrix products use
    TensorFloat-32 for the duration (the previous setting is restored);
    ``"bfloat16"`` enables autocast to bfloat16 on ``device``.  On the CPU
    TF32 does not exist, so ``"tf32"`` is plain float32 there.

    Examples
    --------
    >>> import torch
    >>> from sklearn_swdae.training import precision_context
    >>> with precision_context(torch.device("cpu"), "bfloat16"):
    ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
    torch.bfloat16
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "bfloat16":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    elif precision == "tf32" and device.type == "cuda":
        previous = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high")
        try:
            yield
        finally:
            torch.set_float32_matmul_precision(previous)
    else:
        yield


def _adam(parameters, learning_rate, weight_decay):
    """Adam, with torch's fused kernel where this torch and device have one.

    The fused step reads every parameter, gradient and moment once; the
    default CPU implementation makes about eight passes (one per
    elementwise operation).  With small batches, as the "auto" batch size
    gives on small data, those passes were a third of an FC-DAE epoch on
    the CPU (``benchmarks/RESULTS.md``).  The update is the same up to
    float32 round-off.  Torch versions or devices without a fused Adam
    refuse ``fused=True``, and then get the default implementation.
    """
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=learning_rate, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(parameters, lr=learning_rate, weight_decay=weight_decay)


class _WeightAverage:
    """Exponential moving average of a module's parameters (Polyak averaging).

    After every optimizer step ``average += (1 - decay) * (weights -
    average)``, with ``decay = 0.5 ** (1 / (half_life * steps_per_epoch))``:
    a step's weights count half as much ``half_life`` epochs later,
    whatever the batch size.  The first steps use ``(1 + t) / (10 + t)``
    when that is smaller, so that the random initial weights are forgotten
    within a few steps (as TensorFlow's ExponentialMovingAverage does with
    ``num_updates``).  Small mini-batches make each step's weights noisy;
    their average scores validation users better than the last step's
    (measurements in ``benchmarks/RESULTS.md``).
    """

    def __init__(self, parameters, half_life, steps_per_epoch):
        # Detached views share the parameters' memory, so the optimizer's
        # in-place steps show in them; made once, not at every step.
        self.parameters = [p.detach() for p in parameters]
        self.average = [p.clone() for p in self.parameters]
        self.decay = 0.5 ** (1.0 / (half_life * max(1, steps_per_epoch)))

    def update(self, step):
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self.average, self.parameters, 1.0 - decay)

    @contextlib.contextmanager
    def in_module(self):
        """The averaged weights in the module for the block, the trained ones after."""
        trained = [p.clone() for p in self.parameters]
        self.copy_into_module()
        try:
            yield
        finally:
            _copy_all(self.parameters, trained)

    def copy_into_module(self):
        _copy_all(self.parameters, self.average)


def _copy_all(destinations, sources):
    with torch.no_grad():
        for destination, source in zip(destinations, sources):
            destination.copy_(source)


class Callback:
    """Base class of training callbacks.

    Subclasses override any of the hooks.  ``engine.history`` is the list of
    per-epoch records so far; setting ``engine.stop_training = True`` in
    :meth:`on_epoch_end` ends training after the current epoch.  The engine
    calls its own :class:`BestEpoch` and :class:`EarlyStopping` first, so a
    record already says whether it is the best epoch (``"best"``) and
    ``engine.stop_training`` whether training ends.  A callback with state
    to save in a :class:`~sklearn_swdae.checkpoint.Checkpoint` implements
    ``state_dict`` and ``load_state_dict``.

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

    def on_train_data(self, engine, X, validation):
        """Called once before :meth:`on_train_begin` with the training matrix
        and the ``(fold_in, held_out)`` validation pair (or None)."""

    def on_train_begin(self, engine):
        """Called once, after the module and optimizer are ready."""

    def on_epoch_end(self, engine, record):
        """Called after each epoch with its history record (a dict), the
        last entry of ``engine.history``."""

    def on_train_end(self, engine):
        """Called once at the end of training, in order (the engine's
        :class:`BestEpoch` first restores the best weights)."""


def _check_metric(metric):
    # A metric the engine never records would silently select the last
    # epoch (BestEpoch) or never stop (EarlyStopping).
    if metric not in VALIDATION_METRICS:
        raise ValueError(f"metric must be one of {list(VALIDATION_METRICS)}, got {metric!r}.")
    return metric


class BestEpoch(Callback):
    """Keep the weights of the epoch with the best validation score.

    Reads the selection metric (the first of ``VALIDATION_METRICS``) of
    every record; an epoch scoring above all earlier ones is flagged
    ``"best"`` and the weights it was scored with are copied (the averaged
    ones when the engine averages them).  At the end of training they are
    loaded back into the module.  Without validation the last epoch is the
    best.  The engine adds one itself; ``engine.best_epoch`` is its choice.

    Parameters
    ----------
    metric : str, default="ndcg@100"
        The record entry to maximize.
    """

    def __init__(self, metric=VALIDATION_METRICS[0]):
        self.metric = _check_metric(metric)
        self.best_score, self.best_state = -np.inf, None

    def on_epoch_end(self, engine, record):
        if self.metric not in record:
            engine.best_epoch = record["epoch"]
            return
        if record[self.metric] > self.best_score:
            self.best_score, engine.best_epoch = record[self.metric], record["epoch"]
            self.best_state = engine.evaluated_state_dict()
            record["best"] = True

    def on_train_end(self, engine):
        if self.best_state is not None:
            engine.module.load_state_dict(self.best_state)

    def state_dict(self):
        return {"best_score": float(self.best_score), "best_state": self.best_state}

    def load_state_dict(self, state):
        self.best_score, self.best_state = state["best_score"], state["best_state"]


class EarlyStopping(Callback):
    """Stop when the validation score has not improved by ``tol`` for ``n_iter_no_change`` epochs.

    An epoch improves when its score exceeds the best of the earlier epochs
    by more than ``tol``.  Everything is read from ``engine.history``, so a
    resumed run stops where the uninterrupted one would have.

    Parameters
    ----------
    n_iter_no_change : int
        Epochs without improvement that end training.
    tol : float
        Minimum improvement.
    metric : str, default="ndcg@100"
        The record entry to maximize.
    """

    def __init__(self, n_iter_no_change, tol, metric=VALIDATION_METRICS[0]):
        self.n_iter_no_change = check_scalar(n_iter_no_change, "n_iter_no_change", Integral, min_val=1)
        self.tol = check_scalar(tol, "tol", Real, min_val=0)
        self.metric = _check_metric(metric)

    def epochs_since_improvement(self, history):
        """Epochs since the last improvement by more than ``tol``."""
        best, since = -np.inf, 0
        for record in history:
            if self.metric not in record:
                continue
            since = 0 if record[self.metric] > best + self.tol else since + 1
            best = max(best, record[self.metric])
        return since

    def on_epoch_end(self, engine, record):
        if self.epochs_since_improvement(engine.history) >= self.n_iter_no_change:
            engine.stop_training = True


def epoch_summary(record):
    """The loss, validation metrics and improvement mark of one epoch's record, as words.

    The progress lines of :class:`PrintLog` and of the command line put
    these between their own epoch counter and duration.

    Parameters
    ----------
    record : dict
        One entry of the engine's ``history``.

    Returns
    -------
    parts : list of str

    Examples
    --------
    >>> from sklearn_swdae.training import epoch_summary
    >>> epoch_summary({"epoch": 3, "train_loss": 61.2, "ndcg@100": 0.31, "best": True, "dur": 1.5})
    ['loss 61.2000', 'ndcg@100 0.3100', '*']
    """
    parts = [f"loss {record['train_loss']:.4f}"]
    parts += [f"{name} {record[name]:.4f}" for name in VALIDATION_METRICS if name in record]
    if record.get("best"):
        parts.append("*")
    return parts


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
        parts = [f"epoch {record['epoch']:>4d}", *epoch_summary(record), f"{record['dur']:.2f}s"]
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)


class TrainingEngine:
    """Mini-batch training of an autoencoder with validation-based selection.

    Parameters
    ----------
    module : torch.nn.Module
        Its ``forward_output`` maps a sparse (batch, n_items) COO tensor to
        an :class:`~sklearn_swdae.layers.AutoencoderOutput`; a module with
        only ``forward`` (returning the logits) is accepted too.  If it has
        a ``generator`` attribute, the engine sets it to a seeded generator
        for dropout.
    loss_fn : callable
        ``loss_fn(output, targets)`` -> scalar tensor, ``output`` being the
        forward pass's :class:`~sklearn_swdae.layers.AutoencoderOutput` and
        ``targets`` the dense binary batch, or the sparse COO batch itself
        when ``loss_fn.sparse_targets`` is true (no dense (batch, n_items)
        copy is made then).
    device : torch.device
        Where the module and the batches live.
    learning_rate, alpha : float
        Adam learning rate and L2 penalty (Adam's ``weight_decay``).
    batch_size, max_iter : int
        Users per mini-batch and number of epochs.
    n_iter_no_change : int or None
        Stop when the selection metric has not improved by ``tol`` for this
        many epochs (an :class:`EarlyStopping` callback); None trains all
        ``max_iter`` epochs.
    tol : float
        Minimum improvement of the selection metric for early stopping.
    precision : {"float32", "tf32", "bfloat16"}, default="float32"
        Arithmetic of the forward and backward passes (:func:`precision_context`).
    average_half_life : float or None, default=None
        When set, an exponential moving average of the weights, with this
        half-life in epochs, is updated after every step; validation scores
        it, :class:`BestEpoch` keeps it and the module ends with it
        (training itself continues from the trained weights).  None
        validates and keeps the trained weights.
    callbacks : list of Callback
        Observers called at the start, after every epoch and at the end,
        after the engine's own :class:`BestEpoch` and :class:`EarlyStopping`.
    random_state : numpy RandomState
        Shuffling and dropout.

    Notes
    -----
    The loop state (``epoch``, ``history``, the optimizer, the random
    generators and the state of the callbacks) lives on the engine and its
    callbacks: :meth:`state_dict` and :meth:`load_state_dict` let a
    :class:`~sklearn_swdae.checkpoint.Checkpoint` save it every epoch and
    resume from it.  Running out of memory raises
    :class:`~sklearn_swdae.exceptions.InsufficientMemoryError` with advice.

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
    >>> def loss(output, targets):
    ...     return -(torch.log_softmax(output.logits, 1) * targets).sum(1).mean()
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
        precision="float32",
        average_half_life=None,
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
        self.precision = precision
        if average_half_life is not None:
            check_scalar(average_half_life, "average_half_life", Real, min_val=0, include_boundaries="neither")
            if not np.isfinite(average_half_life):
                raise ValueError(
                    f"average_half_life must be a finite number of epochs or None, got {average_half_life}."
                )
        self.average_half_life = average_half_life
        self.random_state = random_state
        self.selection = BestEpoch()
        stopping = [] if n_iter_no_change is None else [EarlyStopping(n_iter_no_change, tol)]
        # The engine's own callbacks run first: user callbacks (a
        # Checkpoint) see the record flagged and the decision to stop made.
        self.callbacks = [self.selection, *stopping, *callbacks]
        self.history = []
        self.stop_training = False
        self.global_step = 0
        self.epoch = 0
        self.best_epoch = 0
        self.optimizer = None
        self._average = None  # a _WeightAverage while fitting with average_half_life
        # Chosen when fit starts: the data_parallel() block is read then.
        self.strategy = None

    def _scores(self, X_batch):
        with torch.no_grad(), precision_context(self.device, self.precision):
            return self.module(csr_to_torch(X_batch, self.device)).float().cpu().numpy()

    def validate(self, X_fold_in, X_held_out):
        """Mean validation metrics of the current weights (their average, when averaging)."""
        self.module.eval()
        with self._evaluated_weights(), frozen_weights(self.module):
            results = evaluate_rankings(self._scores, X_fold_in, X_held_out, VALIDATION_METRICS)
        return {name: float(np.nanmean(values)) for name, values in results.items()}

    def _evaluated_weights(self):
        return contextlib.nullcontext() if self._average is None else self._average.in_module()

    def evaluated_state_dict(self):
        """A copy of the module's state with the weights validation scores (averaged, when averaging)."""
        state = copy.deepcopy(self.module.state_dict())
        if self._average is not None:
            # The average follows module.parameters(), the order of named_parameters().
            for (name, _), average in zip(self.module.named_parameters(), self._average.average):
                state[name].copy_(average)
        return state

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

        Raises
        ------
        InsufficientMemoryError
            Before training when it certainly does not fit in the device's
            free memory, and when torch or numpy runs out of memory during
            training; the message says how to proceed.
        """
        n_validation = 0 if validation is None else validation[0].shape[0]
        check_training_memory(
            self.module,
            X.shape[0],
            X.shape[1],
            self.batch_size,
            self.device,
            n_validation,
            averaged=self.average_half_life is not None,
        )
        try:
            return self._fit(X, validation)
        except Exception as exc:
            if is_out_of_memory(exc):
                raise out_of_memory_error(exc, self.batch_size, self.device) from exc
            raise

    def _fit(self, X, validation):
        # Inside sklearn_swdae.distributed.data_parallel() this rank trains
        # on its block of every mini-batch; otherwise on the whole batch.
        self.strategy = current_strategy()
        module = self.module = self.module.to(self.device)
        if hasattr(module, "generator"):
            module.generator = self.strategy.shard_generator(seeded_generator(self.random_state, self.device))
        self.strategy.check_replicas(module, X)
        self.optimizer = _adam(module.parameters(), self.learning_rate, self.alpha)
        if self.average_half_life is not None:
            steps_per_epoch = -(-X.shape[0] // self.batch_size)
            self._average = _WeightAverage(module.parameters(), self.average_half_life, steps_per_epoch)
        for callback in self.callbacks:
            callback.on_train_data(self, X, validation)
        for callback in self.callbacks:
            callback.on_train_begin(self)  # a Checkpoint may resume: load_state_dict()
        for epoch in range(self.epoch + 1, self.max_iter + 1):
            if self.stop_training:  # resumed from a run that had stopped
                break
            self.run_epoch(epoch, X, validation)
            if self.stop_training:
                break
        module.eval()
        if self._average is not None:
            # Without validation the module keeps the last average; with it,
            # BestEpoch loads the best epoch's average next.
            self._average.copy_into_module()
            self._average = None
        for callback in self.callbacks:
            callback.on_train_end(self)
        return self.best_epoch

    def run_epoch(self, epoch, X, validation):
        """One pass over the shuffled users, validation, the record and the callbacks."""
        tic = time.perf_counter()
        self.module.train()
        order = self.random_state.permutation(X.shape[0])
        # Losses stay on the device; one synchronization per epoch.
        total_loss = torch.zeros((), device=self.device)
        for start in range(0, X.shape[0], self.batch_size):
            total_loss += self.train_step(X[np.sort(order[start : start + self.batch_size])])
        total_loss = self.strategy.all_reduce_sum(total_loss)
        record = {"epoch": epoch, "train_loss": float(total_loss) / X.shape[0]}
        if validation is not None:
            record.update(self.validate(*validation))
        record["dur"] = time.perf_counter() - tic
        self.epoch = epoch
        self.history.append(record)
        for callback in self.callbacks:
            callback.on_epoch_end(self, record)

    def train_step(self, batch):
        """One optimizer step on a CSR mini-batch; returns its summed loss (a tensor)."""
        module = self.module
        batch, share = self.strategy.shard(batch, getattr(module, "generator", None))
        x = csr_to_torch(batch, self.device)
        sparse_targets = getattr(self.loss_fn, "sparse_targets", False)
        with precision_context(self.device, self.precision):
            output = module.forward_output(x) if hasattr(module, "forward_output") else AutoencoderOutput(module(x))
            loss = self.loss_fn(output, x if sparse_targets else x.to_dense())
        self.optimizer.zero_grad(set_to_none=True)
        self.strategy.backward(loss, share, module)
        self.optimizer.step()
        if self._average is not None:
            self._average.update(self.global_step)
        self.global_step += 1
        # A rank's block may be empty (and its mean NaN).
        return loss.detach() * batch.shape[0] if batch.shape[0] else torch.zeros((), device=self.device)

    def state_dict(self):
        """Everything needed to continue training exactly from the last epoch.

        Module and optimizer state, the epoch, the history, the best epoch
        and its weights, the weight average (when averaging), and the states
        of the numpy RandomState (shuffling)
        and of the module's torch generator (dropout), so that a resumed run
        draws what the uninterrupted one would have.  Only tensors, numbers,
        strings and plain containers: ``torch.load(..., weights_only=True)``
        reads it back.
        """
        _, keys, pos, has_gauss, cached_gaussian = self.random_state.get_state(legacy=True)
        generator = getattr(self.module, "generator", None)
        loss_state = self.loss_fn.state_dict() if hasattr(self.loss_fn, "state_dict") else None
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "stop_training": self.stop_training,
            "history": copy.deepcopy(self.history),
            "module": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "best_epoch": self.best_epoch,
            **self.selection.state_dict(),
            "numpy_rng": {
                "keys": torch.from_numpy(keys.astype(np.int64)),
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": float(cached_gaussian),
            },
            "torch_rng": None if generator is None else generator.get_state(),
            "loss": loss_state,
            "average": None if self._average is None else [a.clone() for a in self._average.average],
        }

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` saved (call it after ``on_train_begin`` started)."""
        self.module.load_state_dict(state["module"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        self.stop_training = state["stop_training"]
        self.history = list(state["history"])
        self.best_epoch = state["best_epoch"]
        self.selection.load_state_dict(state)
        rng = state["numpy_rng"]
        self.random_state.set_state(
            ("MT19937", rng["keys"].numpy().astype(np.uint32), rng["pos"], rng["has_gauss"], rng["cached_gaussian"])
        )
        if state["torch_rng"] is not None:
            self.module.generator.set_state(state["torch_rng"])
        if state["loss"] is not None:
            self.loss_fn.load_state_dict(state["loss"])
        if self._average is not None and state.get("average") is not None:
            _copy_all(self._average.average, state["average"])
