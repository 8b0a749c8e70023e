"""What every autoencoder recommender shares: ``fit`` and the private pieces its training is built from.

``fit`` validates the input, holds out validation users and resolves the
batch size (:meth:`_BaseAutoencoder._prepare_training`, which an estimator
that must do more before the split overrides from its three steps), then
calls the estimator's ``_fit``.  Each ``_fit`` builds the torch module,
then trains it with the shared engine and records what every fitted model
exposes (:meth:`~_BaseAutoencoder._fit_module`, or
:meth:`~_BaseAutoencoder._train` and :meth:`~_BaseAutoencoder._finish_fit`
for more than one training run).  A subclass implements ``_fit`` and
``_build_module(n_items, random_state)``, which rebuilds the fitted
architecture from the fitted attributes: unpickling calls it before
loading the saved weights.  Prediction and pickling are here.
"""

import sys
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._docstrings import fill_doc
from .._initialization import WeightsToBeLoaded
from .._kernels import frozen_weights
from .._memory import check_prediction_memory, is_out_of_memory, out_of_memory_error
from .._parallel import inner_thread_limit, limit_torch_threads
from .._persistence import torch_state_from_bytes, torch_state_to_bytes
from .._similarities import cosine_similarities
from .._torch_utils import csr_to_torch, resolve_device
from .._validation import check_interactions
from ..base import BaseRecommender
from ..defaults import auto_batch_size
from ..layers import count_flops, count_parameters
from ..model_selection import split_fold_in
from ..training import PRECISIONS, PrintLog, TrainingEngine, precision_context
from ._losses import LOSS_NAMES

# Parameters every autoencoder shares; each estimator adds its architecture's.
COMMON_CONSTRAINTS = {
    "input_dropout": [Interval(Real, 0, 1, closed="left")],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
    "tol": [Interval(Real, 0, None, closed="left")],
    "average_half_life": [Interval(Real, 0, None, closed="neither"), None],
    "top_n": [Interval(Integral, 1, None, closed="left")],
    "device": [str, torch.device],
    "precision": [StrOptions(set(PRECISIONS))],
    "callbacks": [list, None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

# Parameters of the one-hidden-layer DAEs of the paper (SW-DAE, FC-DAE, CDAE).
DAE_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "activation": [StrOptions({"sigmoid", "tanh", "relu", "identity"})],
    "loss": [StrOptions(set(LOSS_NAMES))],
    "hidden_dropout": [Interval(Real, 0, 1, closed="left")],
}


def torch_threads():
    """In a worker of a parallel sweep, torch keeps to the worker's share of
    the cores (see sklearn_swdae._parallel)."""
    return limit_torch_threads(inner_thread_limit())


@fill_doc
class _BaseAutoencoder(BaseRecommender):
    """``fit``, its shared pieces, prediction and pickling of the torch autoencoders.

    Subclasses implement ``_fit`` from the pieces below and
    ``_build_module(n_items, random_state)``, which builds the module the
    fitted attributes describe (also when unpickling).
    """

    _parameter_constraints: dict = COMMON_CONSTRAINTS

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the recommender on the training users' histories.

        {fit_parameters}
        """
        with torch_threads():
            return self._fit(*self._prepare_training(X))

    def _fit(self, X, X_train, validation, random_state):  # pragma: no cover - abstract
        """Build and train the module on what ``_prepare_training`` returned; returns self."""
        raise NotImplementedError

    # -- pieces of fit, in the order fit uses them ---------------------------

    def _prepare_training(self, X):
        """Validate X, hold out the validation users and set ``batch_size_``.

        Returns the CSR X, the training users, the validation pair (or
        None) and the RandomState.
        """
        X, random_state = self._start_fit(X)
        X_train, validation = self._split_validation(X, random_state)
        self._resolve_batch_size(X_train.shape[0], X.shape[1])
        return X, X_train, validation, random_state

    def _start_fit(self, X):
        """Validate X, pick the device; returns the CSR X and the RandomState."""
        X = check_interactions(self, X, reset=True)
        self.device_ = resolve_device(self.device)
        return X, check_random_state(self.random_state)

    def _split_validation(self, X, random_state):
        """Hold out ``validation_fraction`` of the users for epoch selection.

        Returns the training users and ``(fold_in, held_out)`` of the
        validation users, or X and None when there is no validation.
        """
        if not self.validation_fraction:
            return X, None
        n_users = X.shape[0]
        n_val = int(round(self.validation_fraction * n_users))
        if n_val < 1 or n_val >= n_users:
            return X, None
        perm = random_state.permutation(n_users)
        val_users, train_users = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        fold_in, held_out = split_fold_in(X[val_users], random_state=random_state)
        if held_out.nnz == 0:
            warnings.warn(
                f"None of the {n_val} validation users has the 5 items needed for a "
                "held-out set, so the last epoch is kept. Use more data or "
                "validation_fraction=None.",
                UserWarning,
                stacklevel=3,
            )
            return X, None
        return X[train_users], (fold_in, held_out)

    def _resolve_batch_size(self, n_train_users, n_items, **settings):
        """Set ``batch_size_``; with ``verbose``, print it and the other ``settings``.

        ``settings`` are ``name=(value used, whether it was "auto")``.
        """
        self.batch_size_ = auto_batch_size(n_train_users) if self.batch_size == "auto" else self.batch_size
        if self.verbose:
            settings = {"batch_size": (self.batch_size_, self.batch_size == "auto"), **settings}
            chosen = ", ".join(f"{name}={value}{' (auto)' if auto else ''}" for name, (value, auto) in settings.items())
            print(
                f"{type(self).__name__}: {n_train_users} training users x {n_items} items; {chosen}",
                file=sys.stdout,
                flush=True,
            )

    def _make_engine(self, module, loss, random_state, *, validating, max_iter=None):
        """The TrainingEngine of one training run with this estimator's settings."""
        callbacks = list(self.callbacks or [])
        if self.verbose:
            callbacks.append(PrintLog())
        return TrainingEngine(
            module,
            loss,
            device=self.device_,
            learning_rate=self.learning_rate,
            alpha=self.alpha,
            batch_size=self.batch_size_,
            max_iter=self.max_iter if max_iter is None else max_iter,
            n_iter_no_change=self.n_iter_no_change if validating else None,
            tol=self.tol,
            precision=self.precision,
            # Subclasses written before the parameter existed train as they did.
            average_half_life=getattr(self, "average_half_life", None),
            callbacks=callbacks,
            random_state=random_state,
        )

    def _train(self, module, loss, X_train, validation, random_state, max_iter=None):
        """Train ``module`` (it ends with the best epoch's weights); returns the engine."""
        engine = self._make_engine(module, loss, random_state, validating=validation is not None, max_iter=max_iter)
        engine.fit(X_train, validation)
        return engine

    def _fit_module(self, module, loss, X_train, validation, random_state):
        """Train ``module`` as ``module_`` in one run and record it; returns self."""
        self.module_ = module
        return self._finish_fit(self._train(module, loss, X_train, validation, random_state))

    def _finish_fit(self, engine, *, n_iter=None):
        """Record the training run ``engine`` and the size of ``module_``; returns self."""
        self.best_epoch_ = engine.best_epoch
        self.history_ = engine.history
        self.n_iter_ = len(engine.history) if n_iter is None else n_iter
        self.n_parameters_ = count_parameters(self.module_)
        self.n_flops_ = count_flops(self.module_)
        self.module_.generator = None  # generators do not pickle; only training needs one
        return self

    def _build_module(self, n_items, random_state):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- prediction ----------------------------------------------------------

    def _check_query(self, X):
        X = super()._check_query(X)
        check_prediction_memory(self.module_, min(X.shape[0], self._batch_rows(X.shape[1])), X.shape[1], self.device_)
        return X

    def _score_batch(self, X_batch):
        return self._device_scores(X_batch).float().cpu().numpy()

    def _prediction_context(self):
        return frozen_weights(self.module_)

    def _device_scores(self, X_batch):
        """Scores of a CSR batch as a tensor on the model's device."""
        self.module_.eval()
        try:
            with torch.no_grad(), precision_context(self.device_, self.precision):
                return self.module_(csr_to_torch(X_batch, self.device_))
        except Exception as exc:
            if is_out_of_memory(exc):
                raise out_of_memory_error(exc, None, self.device_, "prediction") from exc
            raise

    def _top_n_batch(self, X_batch, top_n, exclude_seen, candidates=None, excluded=None):
        # On a GPU only the top-N lists cross to the host, not the scores.
        if self.device_.type == "cpu":
            # The module's output is a fresh array, selected in place rather
            # than copied (a batch of scores: up to 24 MiB).
            return self._select_top_n(self._score_batch(X_batch), X_batch, top_n, exclude_seen, candidates, excluded)
        scores = self._device_scores(X_batch).float()
        if exclude_seen:
            rows, cols = (torch.from_numpy(i.astype(np.int64)).to(scores.device) for i in X_batch.nonzero())
            scores.index_put_((rows, cols), torch.tensor(-torch.inf, device=scores.device))
        if excluded is not None and excluded.size:
            scores[:, torch.from_numpy(excluded).to(scores.device)] = -torch.inf
        if candidates is not None:
            scores = scores[:, torch.from_numpy(candidates).to(scores.device)]
        top_scores, top = torch.topk(scores, top_n, dim=1)
        top = top.cpu().numpy()
        return (top if candidates is None else candidates[top]), top_scores.cpu().numpy()

    def _item_similarities(self, items):
        # Items are the output units: two items are alike when the output
        # layer weighs the last hidden layer alike (for SW-DAE, items of no
        # common group have similarity 0).
        module = self.module_
        layer = next(getattr(module, name) for name in ("decoder", "decoder_out", "decoders") if hasattr(module, name))
        layer = layer[0] if isinstance(layer, torch.nn.ModuleList) else layer
        weight = layer.effective_weight().detach().float().cpu().numpy()
        return cosine_similarities(weight, items)

    # -- pickling ------------------------------------------------------------

    # Weights travel as torch.save bytes of CPU tensors, read back with
    # weights_only=True (no code runs), and the module is rebuilt on load,
    # on the training device if present, else on the CPU, so a model
    # trained on a GPU predicts on a CPU-only machine.
    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never alter the live model
        module = state.get("module_")
        if module is not None:
            state["module_"] = None
            state["_module_state"] = torch_state_to_bytes({k: v.detach().cpu() for k, v in module.state_dict().items()})
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state):
        state = dict(state)
        # Pickled before the parameter existed: trained without averaging.
        state.setdefault("average_half_life", None)
        module_state = state.pop("_module_state", None)
        super().__setstate__(state)
        if module_state is not None:
            if isinstance(module_state, bytes):
                module_state = torch_state_from_bytes(module_state)
            device = torch.device(self.device_)
            if device.type == "cuda" and not torch.cuda.is_available():
                device = torch.device("cpu")
            self.device_ = device
            module = self._build_module(self.n_features_in_, WeightsToBeLoaded())
            module.load_state_dict(module_state)
            self.module_ = module.to(device).eval()
