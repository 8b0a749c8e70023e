"""Autoencoder recommenders, all trained by :mod:`sklearn_swdae.training`."""

import sys
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ._memory import check_prediction_memory, is_out_of_memory, out_of_memory_error
from ._persistence import torch_state_from_bytes, torch_state_to_bytes
from ._parallel import inner_thread_limit, limit_torch_threads
from ._torch_utils import csr_to_torch, resolve_device
from ._validation import check_interactions
from .base import BaseRecommender, _cosine_similarities
from .defaults import auto_batch_size
from .grouping import ItemGrouper
from .layers import (
    LAYER_BACKENDS,
    _ACTIVATIONS,
    DenoisingAutoencoder,
    MaskedLinear,
    StackedDenoisingAutoencoder,
    VariationalAutoencoder,
    _WeightsToBeLoaded,
    count_flops,
    count_parameters,
    glorot_uniform,
    resolve_layer_backend,
    sparse_dropout,
)
from .model_selection import split_fold_in
from .training import PRECISIONS, PrintLog, TrainingEngine, precision_context

__all__ = [
    "CDAERecommender",
    "FCDAERecommender",
    "MultDAERecommender",
    "MultVAERecommender",
    "PrunedDAERecommender",
    "SparseWideDAERecommender",
    "n_clusters_for_parameters",
]


def _multinomial_loss(logits, targets, module):
    """Negative multinomial log-likelihood (Mult-DAE), mean over users.

    ``targets`` is the dense batch or the coalesced sparse COO batch; the
    sparse form reads the log-probabilities at the non-zeros only, which
    saves building and multiplying a dense (batch, n_items) matrix.
    """
    log_probs = F.log_softmax(logits, dim=1)
    if targets.is_sparse:
        rows, items = targets.indices()
        picked = log_probs.reshape(-1).index_select(0, rows * logits.shape[1] + items)
        return -(picked * targets.values()).sum() / logits.shape[0]
    return -(log_probs * targets).sum(dim=1).mean()


_multinomial_loss.accepts_sparse_targets = True


def _bernoulli_loss(logits, targets, module):
    """Negative Bernoulli log-likelihood of a sigmoid output, mean over users."""
    return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(dim=1).mean()


_LOSSES = {"multinomial": _multinomial_loss, "bernoulli": _bernoulli_loss}


class _HiddenRecordingDAE(DenoisingAutoencoder):
    """A DenoisingAutoencoder that keeps the hidden activations of its last
    training batch, so that a loss can penalize them (FC-reg)."""

    hidden = None

    def encode(self, x):
        h = super().encode(x)
        self.hidden = h if self.training else None
        return h


class _ActivityL1Loss:
    """``base_loss + l1 * sum_k |h_k|``, mean over users (FC-reg, section 5.6).

    ``h`` are the hidden activations before hidden dropout, recorded by
    :class:`_HiddenRecordingDAE` in the forward pass of the same batch.
    """

    def __init__(self, base_loss, l1):
        self.base_loss = base_loss
        self.l1 = l1

    @property
    def accepts_sparse_targets(self):
        return getattr(self.base_loss, "accepts_sparse_targets", False)

    def __call__(self, logits, targets, module):
        penalty = module.hidden.abs().sum(dim=1).mean()
        return self.base_loss(logits, targets, module) + self.l1 * penalty


# Docstring sections every autoencoder shares, written once and filled into
# each class docstring by ``_fill_doc`` (numpydoc needs them in each class).
_DOC_SECTIONS = {
    "selection_parameters": """validation_fraction : float or None, default=0.1
        Fraction of the training users held out to select the epoch by
        NDCG@100 (80/20 fold-in split of their histories).  None or 0 keeps
        the last epoch and trains on every user.
    n_iter_no_change : int or None, default=None
        Stop when validation NDCG@100 has not improved by ``tol`` for this
        many epochs.  None trains all ``max_iter`` epochs (still keeping the
        best one).
    tol : float, default=1e-4
        Minimum improvement for early stopping.
    top_n : int, default=100
        Length of the lists of :meth:`predict`, and of :meth:`recommend`
        without ``top_n``; capped to the number of items.
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; "cpu", "cuda" and
        "cuda:N" are accepted.
    precision : {"float32", "tf32", "bfloat16"}, default="float32"
        Arithmetic of training and prediction.  "tf32" lets CUDA matrix
        products use TensorFloat-32 (10-bit mantissa inputs, float32
        accumulation); "bfloat16" runs the forward pass under bfloat16
        autocast (weights and optimizer stay float32).  Both only speed up
        GPUs with tensor cores; their effect on accuracy is measured in
        ``benchmarks/RESULTS.md``.
    callbacks : list of :class:`~sklearn_swdae.training.Callback` or None, default=None
        Observers of training (see :mod:`sklearn_swdae.training`).""",
    "training_attributes": """history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, validation ``ndcg@100``,
        ``recall@20``, ``recall@50`` (when validating), ``dur`` (seconds)
        and ``best`` on improving epochs.
    best_epoch_ : int
        The epoch whose weights were kept.
    n_iter_ : int
        Epochs run.
    n_flops_ : int
        Floating-point operations of one forward pass for one user: twice
        the live weights multiplied (the convention of the paper's Table 2,
        see :func:`~sklearn_swdae.layers.count_flops`).""",
}


def _fill_doc(cls):
    """Insert the shared docstring sections into ``cls.__doc__``."""
    for key, text in _DOC_SECTIONS.items():
        cls.__doc__ = cls.__doc__.replace("{" + key + "}", text)
    return cls


class _BaseAutoencoderRecommender(BaseRecommender):
    """Shared fit / predict machinery of the torch autoencoder recommenders.

    Subclasses implement ``_build_module(n_items, random_state)`` returning
    the torch module (called at fit, and again when unpickling), and
    ``__init__`` storing their parameters.  They may override
    ``_prepare_structure`` to learn anything the module needs before
    training, ``_make_loss`` (default: the multinomial likelihood) and
    ``_after_training`` to record what the loss tracked,
    ``_training_input`` to change the matrix the engine trains on (CDAE's
    user nodes) and ``_refine`` for a second training phase (pruning).
    ``n_parameters_`` (live weights and biases) and ``n_flops_`` (see
    :func:`~sklearn_swdae.layers.count_flops`) are set for every subclass.
    """

    # Parameters every autoencoder shares; subclasses add their architecture's.
    _parameter_constraints: dict = {
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "top_n": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "precision": [StrOptions(set(PRECISIONS))],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _set_params_from_init(self, params):
        """Store the arguments of a subclass ``__init__`` (its ``locals()``)."""
        for name, value in params.items():
            if name != "self":
                setattr(self, name, value)

    def _make_loss(self):
        """The ``loss_fn(logits, targets, module)`` given to the engine."""
        return _multinomial_loss

    def _after_training(self, loss_fn):
        """Hook: record fitted attributes that the loss tracked."""

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the autoencoder on the users' histories.

        A model with a learned structure (SW-DAE) learns its item groups
        first, unless they are given.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Training users' implicit feedback; positive means consumed.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted recommender.
        """
        # In a worker of a parallel sweep, torch keeps to the worker's share
        # of the cores (see sklearn_swdae._parallel).
        with limit_torch_threads(inner_thread_limit()):
            return self._fit_autoencoder(X)

    def _prepare_structure(self, X, random_state, carried_connectivity):
        """Hook: learn structure (e.g. item groups) from the training matrix.

        ``carried_connectivity`` is the mask that a Pipeline's ItemGrouper
        attached to X (see :class:`~sklearn_swdae.grouping.GroupedInteractions`),
        or None.
        """

    def _split_validation(self, X, random_state):
        """Hold out ``validation_fraction`` of the users for epoch selection."""
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
            import warnings

            warnings.warn(
                f"None of the {n_val} validation users has the 5 items needed for a "
                "held-out set, so the last epoch is kept. Use more data or "
                "validation_fraction=None.",
                UserWarning,
                stacklevel=3,
            )
            return X, None
        return X[train_users], (fold_in, held_out)

    def _fit_autoencoder(self, X):
        """Validate X, prepare the structure, train; the body of every ``fit``."""
        # Read before validation: scipy operations drop the attribute.
        carried_connectivity = getattr(X, "connectivity", None)
        X = check_interactions(self, X, reset=True)
        random_state = check_random_state(self.random_state)
        self.device_ = resolve_device(self.device)
        self._prepare_structure(X, random_state, carried_connectivity)
        X_train, validation = self._split_validation(X, random_state)
        self.batch_size_ = auto_batch_size(X_train.shape[0]) if self.batch_size == "auto" else self.batch_size
        if self.verbose:
            self._print_settings(X_train.shape[0], X.shape[1])
        X_train = self._training_input(X_train)
        self.__dict__.pop("layer_backends_", None)  # chosen anew by _build_module
        self.module_ = self._build_module(X.shape[1], random_state)
        loss_fn = self._make_loss()
        engine = self._train_module(self.module_, loss_fn, X_train, validation, random_state)
        self.best_epoch_ = engine.best_epoch
        self.history_ = engine.history
        self.n_iter_ = len(engine.history)
        self._after_training(loss_fn)
        self._refine(X_train, validation, random_state)
        self._fit_deeper(X_train, validation, random_state, loss_fn)
        self.n_parameters_ = count_parameters(self.module_)
        self.n_flops_ = count_flops(self.module_)
        self.module_.generator = None  # generators do not pickle; only training needs one
        return self

    def _resolved_settings(self):
        """``{name: (value used, whether it was "auto")}`` for ``verbose``."""
        return {"batch_size": (self.batch_size_, self.batch_size == "auto")}

    def _print_settings(self, n_train_users, n_items):
        chosen = ", ".join(
            f"{name}={value}{' (auto)' if auto else ''}"
            for name, (value, auto) in self._resolved_settings().items()
        )
        print(
            f"{type(self).__name__}: {n_train_users} training users x {n_items} items; {chosen}",
            file=sys.stdout,
            flush=True,
        )

    def _train_module(self, module, loss_fn, X_train, validation, random_state, max_iter=None):
        """Train ``module`` with the shared engine; returns the engine.

        ``engine.best_epoch`` is the epoch whose weights the module holds.
        """
        engine = self._make_engine(module, loss_fn, random_state, validation is not None, max_iter)
        engine.best_epoch = engine.fit(X_train, validation)
        return engine

    def _make_engine(self, module, loss_fn, random_state, validating, max_iter=None):
        """The TrainingEngine of one training run with this estimator's settings."""
        callbacks = list(self.callbacks or [])
        if self.verbose:
            callbacks.append(PrintLog())
        return TrainingEngine(
            module,
            loss_fn,
            device=self.device_,
            learning_rate=self.learning_rate,
            alpha=self.alpha,
            batch_size=self.batch_size_,
            max_iter=self.max_iter if max_iter is None else max_iter,
            n_iter_no_change=self.n_iter_no_change if validating else None,
            tol=self.tol,
            precision=self.precision,
            callbacks=callbacks,
            random_state=random_state,
        )

    def _training_input(self, X_train):
        """Hook: the matrix the engine trains on (default: the histories)."""
        return X_train

    def _refine(self, X_train, validation, random_state):
        """Hook: a further training phase after the first (e.g. pruning)."""

    def _fit_deeper(self, X_train, validation, random_state, loss_fn):
        """Hook: grow and fine-tune a deeper network from the trained module_."""

    def _check_query(self, X):
        X = super()._check_query(X)
        check_prediction_memory(
            self.module_, min(X.shape[0], self._batch_rows(X.shape[1])), X.shape[1], self.device_
        )
        return X

    def _score_batch(self, X_batch):
        return self._device_scores(X_batch).float().cpu().numpy()

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
            return super()._top_n_batch(X_batch, top_n, exclude_seen, candidates, excluded)
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
        layer = next(
            getattr(module, name) for name in ("decoder", "decoder_out", "decoders") if hasattr(module, name)
        )
        layer = layer[0] if isinstance(layer, torch.nn.ModuleList) else layer
        weight = layer.effective_weight().detach().float().cpu().numpy()
        return _cosine_similarities(weight, items)

    # Pickling: weights travel as torch.save bytes of CPU tensors, read back
    # with weights_only=True (no code runs), and the module is rebuilt on
    # load, on the training device if present, else on the CPU, so a model
    # trained on a GPU predicts on a CPU-only machine.
    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never alter the live model
        module = state.get("module_")
        if module is not None:
            state["module_"] = None
            state["_module_state"] = torch_state_to_bytes(
                {k: v.detach().cpu() for k, v in module.state_dict().items()}
            )
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state):
        state = dict(state)
        module_state = state.pop("_module_state", None)
        super().__setstate__(state)
        if module_state is not None:
            if isinstance(module_state, bytes):
                module_state = torch_state_from_bytes(module_state)
            device = torch.device(self.device_)
            if device.type == "cuda" and not torch.cuda.is_available():
                device = torch.device("cpu")
            self.device_ = device
            module = self._build_module(self.n_features_in_, _WeightsToBeLoaded())
            module.load_state_dict(module_state)
            self.module_ = module.to(device).eval()


class _BaseDAERecommender(_BaseAutoencoderRecommender):
    """One-hidden-layer denoising autoencoders of the paper (SW-DAE, FC-DAE).

    Subclasses implement ``_encoder_mask(n_items)`` returning
    ``(n_hidden, mask)``, mask being None for full connectivity.
    """

    _parameter_constraints: dict = {
        **_BaseAutoencoderRecommender._parameter_constraints,
        "activation": [StrOptions({"sigmoid", "tanh", "relu", "identity"})],
        "loss": [StrOptions(set(_LOSSES))],
        "hidden_dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def _make_loss(self):
        return _LOSSES[self.loss]

    #: The torch module class built by ``_build_module``.
    _module_class = DenoisingAutoencoder

    def _layer_backends(self, n_items):
        """(encoder, decoder) backends of :class:`~sklearn_swdae.layers.MaskedLinear`."""
        return ("dense", "dense")

    def __setstate__(self, state):
        # Models saved before layer backends existed hold dense weights.
        if "module_" in state and "layer_backends_" not in state:
            state = {**state, "layer_backends_": ("dense", "dense")}
        super().__setstate__(state)

    def _build_module(self, n_items, random_state):
        n_hidden, mask = self._encoder_mask(n_items)
        # Fixed at fit so that unpickling rebuilds the same parameter layout.
        if not hasattr(self, "layer_backends_"):
            self.layer_backends_ = self._layer_backends(n_items)
        return self._module_class(
            n_items,
            n_hidden,
            mask,
            self.activation,
            self.input_dropout,
            self.hidden_dropout,
            random_state,
            backends=self.layer_backends_,
        )


@_fill_doc
class SparseWideDAERecommender(_BaseDAERecommender):
    """Sparse and wide denoising autoencoder recommender (SW-DAE).

    One hidden layer of K units, each connected only to the items of one
    overlapping item group learned by :class:`ItemGrouper` (section 3.2 of
    Khawar et al., WWW 2020); the decoder uses the same connectivity,
    transposed (section 3.3).  Trained as a denoising autoencoder on the
    training users, it scores items for any user from their history.

    Parameters
    ----------
    grouper : ItemGrouper or None, default=None
        Learns the connectivity at fit (it is cloned first).  None means
        ``ItemGrouper()``, whose "auto" K, R and F follow the catalogue
        (:mod:`sklearn_swdae.defaults`).  Its parameters are searched as
        ``grouper__n_clusters``, ``grouper__overlap`` and
        ``grouper__n_components`` (``set_params`` and ``GridSearchCV``) also
        when ``grouper`` is None: setting one of them sets ``grouper`` to a
        default ``ItemGrouper`` with that parameter changed.  A grouper
        whose ``random_state`` is None receives one drawn from this
        estimator's ``random_state``, so one seed makes the whole fit
        reproducible.  Ignored
        when ``connectivity`` is given or when X comes from
        :meth:`ItemGrouper.transform` in a Pipeline (it then carries the
        connectivity); passing both ``grouper`` and such an X is an error.
    connectivity : {array-like, sparse matrix} of shape (K, n_items) of bool, default=None
        A precomputed mask; every item needs at least one link.
    stacked_layer_sizes : sequence of int or None, default=None
        Widths K_2, ..., K_d of hidden layers stacked under the first one
        (section 3.4, "Going deeper"); None or ``()`` is the paper's
        one-hidden-layer SW-DAE.  The stack is built greedily: the first
        layer is trained as usual; the training users are encoded to its
        K_1 hidden activations; these are grouped like items by a clone of
        ``grouper`` (the default grouper when None) with ``n_clusters=K_2``,
        ``n_components`` capped below K_1 and ``binarize=False``; a
        one-hidden-layer autoencoder with that connectivity is trained to
        reconstruct the activations (Bernoulli cross-entropy, the sigmoid
        decoder of equations 4-5); and so on for every K_l.  The layers' weights are
        copied into a :class:`~sklearn_swdae.layers.StackedDenoisingAutoencoder`
        (decoder masks are the transposes, in reverse order) that is
        fine-tuned end to end with ``loss`` (equation 5).  Every run (each
        layer, then the fine-tuning) takes up to ``max_iter`` epochs.  Each
        K_l must not exceed K_{l-1}; needs ``activation="sigmoid"``.
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        Hidden activation; the paper uses the sigmoid.
    loss : {"multinomial", "bernoulli"}, default="multinomial"
        ``"multinomial"``: softmax output with the multinomial likelihood of
        Mult-DAE, which the paper's evaluation implies ("the output at the
        decoder before the softmax").  ``"bernoulli"``: sigmoid output with
        the negative log-likelihood of the paper's equations 4-5.  Items are
        ranked by the decoder's logits either way.  The default was chosen on
        validation users (K = 1000, the paper's other settings;
        ``benchmarks/RESULTS.md``): validation NDCG@100 multinomial /
        Bernoulli was 0.378 / 0.370 on ML-1M, 0.370 / 0.357 on ML-100K and
        0.230 / 0.178 on ml-latest-small.
    input_dropout : float, default=0.6
        Probability of dropping each consumed item from the input (the
        denoising corruption).
    hidden_dropout : float, default=0.2
        Dropout on the hidden layer during training.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay).  The paper uses none.
    learning_rate : float, default=1e-3
        Adam learning rate.
    batch_size : int or "auto", default="auto"
        Users per mini-batch.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
        users: about 40 Adam steps per epoch within [32, 500], so the
        paper's 500 on data of its size (ML-20M) and smaller batches, hence
        more steps, on small data.  The value used is ``batch_size_``.
    max_iter : int, default=100
        Number of epochs.
    {selection_parameters}
    layer_backend : {"auto", "dense", "sparse"}, default="auto"
        How the masked encoder and decoder store and multiply their weights
        (:class:`~sklearn_swdae.layers.MaskedLinear`).  "sparse" keeps the
        live weights only: the encoder multiplies the sparse histories by a
        gather-scatter over their non-zeros and links, the decoder by
        sparse products; no (K, n_items) dense array is allocated and Adam
        updates a tenth of the weights.  "dense" multiplies by the dense
        weight times the mask.  "auto" (see
        :func:`~sklearn_swdae.layers.resolve_layer_backend`) uses the sparse
        encoder everywhere and the sparse decoder on the CPU, keeping the
        decoder dense on a GPU.  Both compute the same model; the choice
        only changes speed and memory (``benchmarks/RESULTS.md``).
    random_state : int, RandomState instance or None, default=None
        Seeds the grouper, the validation split, the weights, shuffling and
        dropout.  With an int, fit on the CPU is reproducible.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    layer_backends_ : tuple of two {"dense", "sparse"}
        Backends of the encoder and the decoder chosen at fit.
    batch_size_ : int
        Users per mini-batch used (``batch_size`` resolved).
    connectivity_ : scipy.sparse.csr_array of shape (K, n_items), dtype bool
        The encoder's mask (the decoder uses its transpose); of the first
        layer when stacked.
    connectivities_ : list of scipy.sparse.csr_array of bool
        Every layer's encoder mask, ``connectivities_[l]`` of shape
        (K_{l+1}, K_l) with K_0 = n_items; ``[connectivity_]`` without
        ``stacked_layer_sizes``.
    hidden_groupers_ : list of ItemGrouper
        The fitted groupers of the hidden units, one per stacked layer
        (empty without ``stacked_layer_sizes``).
    pretraining_histories_ : list of list of dict
        The engine history of every layer's greedy training, first layer
        first (``history_`` is then the fine-tuning's); empty without
        ``stacked_layer_sizes``.
    grouper_ : ItemGrouper or None
        The fitted grouper, when the connectivity was learned here.
    module_ : torch.nn.Module
        The trained :class:`~sklearn_swdae.layers.DenoisingAutoencoder`, or
        :class:`~sklearn_swdae.layers.StackedDenoisingAutoencoder` when stacked.
    {training_attributes}
    device_ : torch.device
        Where the module lives.
    n_parameters_ : int
        Live weights and biases: ``2 * nnz(connectivity_) + K + n_items``
        for one hidden layer.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = SparseWideDAERecommender(
    ...     grouper=ItemGrouper(n_clusters=12, overlap=0.25, n_components=6, random_state=0),
    ...     max_iter=5, device="cpu", random_state=0,
    ... ).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 60)
    >>> model.connectivity_.shape
    (12, 60)
    """

    _parameter_constraints: dict = {
        **_BaseDAERecommender._parameter_constraints,
        "grouper": [HasMethods(["fit"]), None],
        "connectivity": ["array-like", "sparse matrix", None],
        "layer_backend": [StrOptions(set(LAYER_BACKENDS))],
        "stacked_layer_sizes": [list, tuple, None],
    }

    def __init__(
        self,
        grouper=None,
        connectivity=None,
        *,
        stacked_layer_sizes=None,
        activation="sigmoid",
        loss="multinomial",
        input_dropout=0.6,
        hidden_dropout=0.2,
        alpha=0.0,
        learning_rate=1e-3,
        batch_size="auto",
        max_iter=100,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        layer_backend="auto",
        random_state=None,
        verbose=0,
    ):
        self._set_params_from_init(locals())

    def _check_connectivity(self, mask, n_items, source):
        mask = sp.csr_array(mask) if sp.issparse(mask) else sp.csr_array(np.asarray(mask))
        if mask.ndim != 2 or mask.shape[1] != n_items:
            raise ValueError(
                f"{source} must have shape (n_hidden, n_items={n_items}), got {mask.shape}."
            )
        if mask.shape[0] < 1:
            raise ValueError(f"{source} must have at least one hidden unit (row).")
        if mask.dtype != bool and not np.isfinite(mask.data).all():
            raise ValueError(f"{source} contains NaN or infinity; pass a boolean mask.")
        mask = (mask != 0).astype(bool)
        unlinked = np.flatnonzero(np.asarray(mask.sum(axis=0)).ravel() == 0)
        if unlinked.size:
            raise ValueError(
                f"{source} leaves {unlinked.size} item(s) without any link (e.g. item "
                f"{unlinked[0]}); every column needs at least one True entry."
            )
        return mask

    def _prepare_structure(self, X, random_state, carried):
        n_users, n_items = X.shape
        self.grouper_ = None
        if self.connectivity is not None:
            self.connectivity_ = self._check_connectivity(self.connectivity, n_items, "connectivity")
        elif carried is not None:
            if self.grouper is not None:
                raise ValueError(
                    "X carries a connectivity from ItemGrouper.transform (a Pipeline step) "
                    "and grouper is also set; use one or the other (grouper=None)."
                )
            self.connectivity_ = self._check_connectivity(carried, n_items, "X.connectivity")
        else:
            if self.grouper is None:
                grouper = ItemGrouper(random_state=random_state)
            else:
                grouper = clone(self.grouper)
                if grouper.get_params().get("random_state", 0) is None:
                    grouper.set_params(random_state=random_state)
            self.grouper_ = grouper.fit(X)
            self.connectivity_ = sp.csr_array(self.grouper_.connectivity_)
        self.connectivities_ = [self.connectivity_]
        self.hidden_groupers_ = []
        self.pretraining_histories_ = []
        self._check_stacked_layer_sizes()

    def set_params(self, **params):
        """Set parameters, ``grouper__*`` ones included when ``grouper`` is None.

        A ``grouper__`` parameter on an estimator whose ``grouper`` is None
        (the default) first sets ``grouper`` to ``ItemGrouper()``, what None
        stands for, so that ``GridSearchCV(SparseWideDAERecommender(),
        {"grouper__n_clusters": [...]})`` works on the default estimator.

        Examples
        --------
        >>> from sklearn_swdae import SparseWideDAERecommender
        >>> model = SparseWideDAERecommender().set_params(grouper__n_clusters=5)
        >>> model.grouper
        ItemGrouper(n_clusters=5)
        """
        grouper = params.get("grouper", self.grouper)
        if grouper is None and any(key.startswith("grouper__") for key in params):
            params = {**params, "grouper": ItemGrouper()}
        return super().set_params(**params)

    def _resolved_settings(self):
        settings = super()._resolved_settings()
        if self.grouper_ is not None:
            grouper = self.grouper_.get_params()
            settings["n_clusters"] = (self.grouper_.n_clusters_, grouper["n_clusters"] == "auto")
            settings["overlap"] = (self.grouper_.overlap_, grouper["overlap"] == "auto")
            settings["n_components"] = (self.grouper_.n_components_, grouper["n_components"] == "auto")
        else:
            settings["n_clusters"] = (self.connectivity_.shape[0], False)
        return settings

    def _encoder_mask(self, n_items):
        return self.connectivity_.shape[0], self.connectivity_

    def _layer_backends(self, n_items):
        density = self.connectivity_.nnz / (self.connectivity_.shape[0] * n_items)
        return (
            resolve_layer_backend(self.layer_backend, density, self.device_, sparse_input=True),
            resolve_layer_backend(self.layer_backend, density, self.device_, sparse_input=False),
        )

    def _check_stacked_layer_sizes(self):
        sizes = list(self.stacked_layer_sizes or [])
        width = self.connectivity_.shape[0]
        for position, size in enumerate(sizes):
            if isinstance(size, bool) or not isinstance(size, (Integral, np.integer)) or size < 1:
                raise ValueError(
                    f"stacked_layer_sizes must hold positive ints, got {size!r} at position {position}."
                )
            if size > width:
                raise ValueError(
                    f"stacked_layer_sizes[{position}]={size} exceeds the width of the layer below "
                    f"(K={width}): each stacked layer groups the hidden units of the one below."
                )
            width = size
        if sizes and self.activation != "sigmoid":
            raise ValueError(
                f"stacked_layer_sizes needs activation='sigmoid' (got {self.activation!r}): deeper "
                "layers reconstruct the activations of the layer below as probabilities."
            )
        return [int(size) for size in sizes]

    def _build_module(self, n_items, random_state):
        if len(self.connectivities_) == 1:
            return super()._build_module(n_items, random_state)
        return StackedDenoisingAutoencoder(
            n_items,
            [mask.toarray() for mask in self.connectivities_],
            self.activation,
            self.input_dropout,
            self.hidden_dropout,
            random_state,
        )

    def _encode(self, module, X):
        """Hidden activations of the rows of X as a CSR array (eval mode)."""
        module.eval()
        blocks = []
        with torch.no_grad():
            for start in range(0, X.shape[0], self._prediction_batch_size):
                batch = csr_to_torch(X[start : start + self._prediction_batch_size], self.device_)
                blocks.append(module.encode(batch).float().cpu().numpy())
        return sp.csr_array(np.vstack(blocks))

    def _hidden_grouper(self, n_clusters, H, random_state):
        """The grouping procedure of the first layer, applied to hidden units."""
        grouper = ItemGrouper() if self.grouper is None else clone(self.grouper)
        params = grouper.get_params()
        n_components = params.get("n_components", 50)
        grouper.set_params(
            n_clusters=n_clusters,
            n_components=max(1, min(n_components, H.shape[1] - 1, H.shape[0] - 1)),
            binarize=False,
        )
        if params.get("random_state", 0) is None:
            grouper.set_params(random_state=random_state)
        return grouper.fit(H)

    def _fit_deeper(self, X_train, validation, random_state, loss_fn):
        sizes = self._check_stacked_layer_sizes()
        if not sizes:
            return
        layers, H = [self.module_], X_train
        self.pretraining_histories_ = [self.history_]
        for size in sizes:
            H = self._encode(layers[-1], H)
            grouper = self._hidden_grouper(size, H, random_state)
            mask = sp.csr_array(grouper.connectivity_)
            layer = DenoisingAutoencoder(
                H.shape[1],
                size,
                mask.toarray(),
                self.activation,
                self.input_dropout,
                self.hidden_dropout,
                random_state,
            )
            # The activations are soft targets in (0, 1): no ranking to
            # validate, so every epoch is kept.
            engine = self._make_engine(layer, _bernoulli_loss, random_state, validating=False)
            engine.fit(H, None)
            layer.generator = None
            layers.append(layer)
            self.hidden_groupers_.append(grouper)
            self.connectivities_.append(mask)
            self.pretraining_histories_.append(engine.history)
        self.module_ = self._build_module(X_train.shape[1], random_state).load_pretrained(layers)
        self.n_parameters_ = count_parameters(self.module_)
        engine = self._make_engine(self.module_, loss_fn, random_state, validation is not None)
        self.best_epoch_ = engine.fit(X_train, validation)
        self.history_ = engine.history
        self.n_iter_ = len(engine.history)


@_fill_doc
class FCDAERecommender(_BaseDAERecommender):
    """Fully connected denoising autoencoder recommender (FC-DAE).

    SW-DAE with every hidden unit connected to every item: the paper's
    dense baseline of the same width (section 4.4, Table 2), trained the
    same way (sigmoid hidden layer, input dropout 0.6, hidden dropout 0.2,
    multinomial loss, Adam at 1e-3, batches of 500 users).

    Parameters
    ----------
    n_hidden : int, default=1000
        Number of hidden units K.
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        Hidden activation.
    loss : {"multinomial", "bernoulli"}, default="multinomial"
        Likelihood of the output, as for :class:`SparseWideDAERecommender`.
    input_dropout : float, default=0.6
        Probability of dropping each consumed item from the input.
    hidden_dropout : float, default=0.2
        Dropout on the hidden layer during training.
    activity_l1 : float, default=0.0
        L1 penalty on the hidden activations (before hidden dropout): the
        loss gains ``activity_l1 * sum_k |h_k|`` per user, averaged over
        the batch like the likelihood.  Positive values give FC-reg, the
        "sparsely activated" structure learning of the paper's section 5.6
        (Table 5 searches 1e-5 to 1e-1; 1e-3 was best on ML-20M).
    alpha : float, default=0.0
        L2 penalty (Adam weight decay, on weights and biases).
    learning_rate : float, default=1e-3
        Adam learning rate.
    batch_size : int or "auto", default=500
        Users per mini-batch.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
        users (about 40 steps per epoch, within [32, 500]); the value used
        is ``batch_size_``.
    max_iter : int, default=100
        Number of epochs.
    {selection_parameters}
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weights, shuffling and dropout.
        With an int, fit on the CPU is reproducible.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    {training_attributes}
    n_parameters_ : int
        Number of trainable weights and biases: ``2 * n_hidden * n_items + n_hidden + n_items``.
    device_ : torch.device
        Where the module lives.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    PrunedDAERecommender : FC-DAE pruned to a sparse structure and retrained.

    Examples
    --------
    >>> from sklearn_swdae import FCDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = FCDAERecommender(n_hidden=8, max_iter=3, device="cpu", random_state=0).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 60)
    >>> model.n_parameters_ == 2 * 8 * 60 + 8 + 60
    True
    """

    _parameter_constraints: dict = {
        **_BaseDAERecommender._parameter_constraints,
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "activity_l1": [Interval(Real, 0, None, closed="left")],
    }

    _module_class = _HiddenRecordingDAE

    def __init__(
        self,
        n_hidden=1000,
        *,
        activation="sigmoid",
        loss="multinomial",
        input_dropout=0.6,
        hidden_dropout=0.2,
        activity_l1=0.0,
        alpha=0.0,
        learning_rate=1e-3,
        batch_size=500,
        max_iter=100,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self._set_params_from_init(locals())

    def _encoder_mask(self, n_items):
        return self.n_hidden, None

    def _make_loss(self):
        loss = super()._make_loss()
        return _ActivityL1Loss(loss, self.activity_l1) if self.activity_l1 else loss

    def _after_training(self, loss_fn):
        self.module_.hidden = None  # frees the last batch's graph


def _magnitude_mask(weight, sparsity):
    """Boolean mask keeping the ``1 - sparsity`` largest-magnitude entries."""
    magnitudes = weight.detach().abs().flatten()
    n_keep = max(1, int(round((1.0 - sparsity) * magnitudes.numel())))
    mask = torch.zeros(magnitudes.numel(), dtype=torch.bool, device=magnitudes.device)
    mask[torch.topk(magnitudes, n_keep, sorted=False).indices] = True
    return mask.reshape(weight.shape).cpu().numpy()


@_fill_doc
class PrunedDAERecommender(FCDAERecommender):
    """FC-DAE whose structure is learned by magnitude pruning (FC-Prune).

    The structure learning of Han et al. (2015) that the paper compares
    SW-DAE with (section 5.6, Tables 3 and 4): train the fully connected
    DAE, remove the ``sparsity`` fraction of smallest-magnitude weights of
    the encoder and, separately, of the decoder (one threshold per layer, as
    Han et al.), then retrain the surviving weights, starting from their
    trained values, with the pruned connections held at zero by the
    layers' masks.  Both phases run on the shared training engine with the
    same settings; each keeps its best epoch on the validation users.

    Parameters
    ----------
    n_hidden : int, default=1000
        Number of hidden units K.
    sparsity : float in (0, 1), default=0.5
        Fraction of each layer's weights removed.  0.9 leaves 10% of the
        connections, the density of SW-DAE at R = 0.1 K (the paper's
        FC-Prune-90); the paper's best was 0.5 (FC-Prune-50).
    retrain_iter : int or None, default=None
        Epochs of the retraining phase; None uses ``max_iter``.
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        Hidden activation.
    loss : {"multinomial", "bernoulli"}, default="multinomial"
        Likelihood of the output, as for :class:`SparseWideDAERecommender`.
    input_dropout : float, default=0.6
        Probability of dropping each consumed item from the input.
    hidden_dropout : float, default=0.2
        Dropout on the hidden layer during training.
    activity_l1 : float, default=0.0
        L1 penalty on the hidden activations, as for :class:`FCDAERecommender`.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay, on weights and biases).
    learning_rate : float, default=1e-3
        Adam learning rate (both phases).
    batch_size : int or "auto", default=500
        Users per mini-batch.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
        users (about 40 steps per epoch, within [32, 500]); the value used
        is ``batch_size_``.
    max_iter : int, default=100
        Epochs of the first (fully connected) phase.
    {selection_parameters}
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split (the same users in both phases), the
        weights, shuffling and dropout.  With an int, fit on the CPU is
        reproducible.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    encoder_mask_ : scipy.sparse.csr_array of shape (n_hidden, n_items), dtype bool
        Connections of the encoder kept by pruning.
    decoder_mask_ : scipy.sparse.csr_array of shape (n_items, n_hidden), dtype bool
        Connections of the decoder kept by pruning.
    pretrain_history_ : list of dict
        The history of the fully connected phase (``history_`` is the
        retraining's).
    pretrain_best_epoch_ : int
        The epoch of the fully connected phase whose weights were pruned.
    module_ : torch.nn.Module
        The retrained, pruned network.
    {training_attributes}
    n_parameters_ : int
        Live weights and biases after pruning: ``nnz(encoder_mask_) +
        nnz(decoder_mask_) + n_hidden + n_items``.
    device_ : torch.device
        Where the module lives.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> from sklearn_swdae import PrunedDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = PrunedDAERecommender(
    ...     n_hidden=8, sparsity=0.9, max_iter=3, device="cpu", random_state=0
    ... ).fit(X)
    >>> model.encoder_mask_.nnz, model.decoder_mask_.nnz
    (48, 48)
    >>> model.n_parameters_ == 48 + 48 + 8 + 60
    True
    """

    _parameter_constraints: dict = {
        **FCDAERecommender._parameter_constraints,
        "sparsity": [Interval(Real, 0, 1, closed="neither")],
        "retrain_iter": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        n_hidden=1000,
        sparsity=0.5,
        *,
        retrain_iter=None,
        activation="sigmoid",
        loss="multinomial",
        input_dropout=0.6,
        hidden_dropout=0.2,
        activity_l1=0.0,
        alpha=0.0,
        learning_rate=1e-3,
        batch_size=500,
        max_iter=100,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self._set_params_from_init(locals())

    def _prepare_structure(self, X, random_state, carried_connectivity):
        # A refit starts fully connected: forget the previous fit's masks.
        for name in ("encoder_mask_", "decoder_mask_"):
            self.__dict__.pop(name, None)

    def _build_module(self, n_items, random_state):
        module = super()._build_module(n_items, random_state)
        if hasattr(self, "encoder_mask_"):
            # The pruned structure (retraining, or rebuilding when unpickled);
            # the weights are loaded or copied in by the caller.
            for name in ("encoder", "decoder"):
                mask = getattr(self, name + "_mask_").toarray()
                setattr(module, name, MaskedLinear(np.zeros(mask.shape, dtype=np.float32), mask))
        return module

    def _refine(self, X_train, validation, random_state):
        trained = self.module_
        for name in ("encoder", "decoder"):
            weight = getattr(trained, name).effective_weight()
            setattr(self, name + "_mask_", sp.csr_array(_magnitude_mask(weight, self.sparsity)))
        module = super()._build_module(self.n_features_in_, random_state)
        with torch.no_grad():
            for name in ("encoder", "decoder"):
                old, new = getattr(trained, name), getattr(module, name)
                weight = old.effective_weight().detach().cpu().numpy()
                pruned = MaskedLinear(weight, getattr(self, name + "_mask_").toarray())
                pruned.bias.copy_(old.bias.detach().cpu())
                setattr(module, name, pruned)
        self.pretrain_history_, self.pretrain_best_epoch_ = self.history_, self.best_epoch_
        loss_fn = self._make_loss()
        engine = self._train_module(
            module, loss_fn, X_train, validation, random_state, max_iter=self.retrain_iter
        )
        self.module_ = module
        self.best_epoch_ = engine.best_epoch
        self.history_ = engine.history
        self.n_iter_ = len(self.pretrain_history_) + len(engine.history)
        self._after_training(loss_fn)


class _UserNodeDAE(DenoisingAutoencoder):
    """CDAE's network: a DAE whose hidden layer also receives a per-user node.

    Columns ``n_items + u`` of the input are the one-hot node of training
    user ``u``: its weights ``user_weights[u]`` are added to the hidden
    pre-activation (Wu et al. 2016, equation 3).  Only the item entries are
    corrupted.  A batch without user columns (a new user) adds nothing.
    """

    def __init__(self, n_items, n_users, n_hidden, activation, input_dropout, hidden_dropout, random_state):
        super().__init__(n_items, n_hidden, None, activation, input_dropout, hidden_dropout, random_state)
        self.n_items = n_items
        self.user_weights = torch.nn.Parameter(
            torch.from_numpy(glorot_uniform((n_users, n_hidden), n_items, n_hidden, random_state))
        )

    def encode(self, x):
        indices, values = x.indices(), x.values()
        is_user = indices[1] >= self.n_items
        is_item = ~is_user
        items = torch.sparse_coo_tensor(
            indices[:, is_item],
            values[is_item],
            (x.shape[0], self.n_items),
            is_coalesced=True,
            check_invariants=False,
        )
        if self.training:
            items = sparse_dropout(items, self.input_dropout, self.generator)
        pre = self.encoder(items)
        users = indices[:, is_user]
        user_terms = self.user_weights[users[1] - self.n_items].to(pre.dtype)  # pre may be autocast
        pre = pre.index_add(0, users[0], user_terms)
        return _ACTIVATIONS[self.activation](pre)


class _ItemTargets:
    """Restrict the engine's targets to the item columns (CDAE's input also
    holds the user nodes, which are not reconstructed)."""

    def __init__(self, loss):
        self.loss = loss

    def __call__(self, logits, targets, module):
        return self.loss(logits, targets[:, : logits.shape[1]], module)


@_fill_doc
class CDAERecommender(_BaseDAERecommender):
    """Collaborative denoising autoencoder (CDAE, Wu et al. 2016).

    A one-hidden-layer DAE whose hidden layer also receives a learned vector
    per training user (the "user node" of CDAE's input layer), so the number
    of parameters grows with the number of training users.

    Under strong generalization the test users were not trained on, so they
    have no node: a user unseen in fit is encoded with a zero user vector,
    which makes the network the plain DAE learned alongside the user
    vectors.  Zero is the mean of the vectors' prior (they start random
    around zero and ``alpha`` shrinks them towards it) and needs no
    fold-in optimization; the histories of new users are used as in every
    other model of the package.  The same holds for the users that
    ``validation_fraction`` holds out for epoch selection, so validation
    measures exactly what test users will see.  The paper trains CDAE with
    a weighted square loss; this implementation offers the package's
    multinomial and Bernoulli (Wu et al.'s logistic) likelihoods instead.

    Parameters
    ----------
    n_hidden : int, default=200
        Number of hidden units.
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        Hidden activation (Wu et al. use the sigmoid).
    loss : {"multinomial", "bernoulli"}, default="multinomial"
        Likelihood of the output, as for :class:`SparseWideDAERecommender`.
    input_dropout : float, default=0.5
        Probability of dropping each consumed item from the input (the user
        node is never dropped).
    hidden_dropout : float, default=0.0
        Dropout on the hidden layer during training.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay) on every weight, user vectors
        included.
    learning_rate : float, default=1e-3
        Adam learning rate.
    batch_size : int or "auto", default=500
        Users per mini-batch.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
        users (about 40 steps per epoch, within [32, 500]); the value used
        is ``batch_size_``.
    max_iter : int, default=100
        Number of epochs.
    {selection_parameters}
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weights, shuffling and dropout.
        With an int, fit on the CPU is reproducible.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    n_train_users_ : int
        Users with a node (the training users less the validation users).
    module_ : torch.nn.Module
        The trained network; ``module_.user_weights`` holds the user
        vectors.
    {training_attributes}
    n_parameters_ : int
        ``2 * n_hidden * n_items + n_hidden * n_train_users_ + n_hidden +
        n_items``.  ``n_flops_`` does not count the user vectors (a lookup,
        and zero for new users).
    device_ : torch.device
        Where the module lives.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> from sklearn_swdae import CDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = CDAERecommender(n_hidden=8, max_iter=3, device="cpu", random_state=0).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 60)
    >>> model.n_train_users_, model.n_parameters_ == 2 * 8 * 60 + 8 * 270 + 8 + 60
    (270, True)
    """

    _parameter_constraints: dict = {
        **_BaseDAERecommender._parameter_constraints,
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_hidden=200,
        *,
        activation="sigmoid",
        loss="multinomial",
        input_dropout=0.5,
        hidden_dropout=0.0,
        alpha=0.0,
        learning_rate=1e-3,
        batch_size=500,
        max_iter=100,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self._set_params_from_init(locals())

    def _training_input(self, X_train):
        # One-hot user nodes as extra input columns: the engine shuffles and
        # batches them with the histories, and the module adds their weights.
        self.n_train_users_ = X_train.shape[0]
        nodes = sp.eye_array(X_train.shape[0], dtype=X_train.dtype, format="csr")
        return sp.hstack([X_train, nodes], format="csr")

    def _build_module(self, n_items, random_state):
        return _UserNodeDAE(
            n_items,
            self.n_train_users_,
            self.n_hidden,
            self.activation,
            self.input_dropout,
            self.hidden_dropout,
            random_state,
        )

    def _make_loss(self):
        return _ItemTargets(super()._make_loss())


@_fill_doc
class MultDAERecommender(_BaseAutoencoderRecommender):
    """Mult-DAE of Liang et al. (2018), "Variational Autoencoders for
    Collaborative Filtering".

    Architecture [n_items, n_hidden, n_items] with a tanh hidden layer.
    Each history is scaled to unit L2 norm and then corrupted by input
    dropout (Liang's order), at prediction only normalized; the output is
    trained with the multinomial likelihood and ranks items by its logits.

    Parameters
    ----------
    n_hidden : int, default=200
        Number of hidden units (200 in Liang et al.).
    input_dropout : float, default=0.5
        Dropout probability on the normalized input.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay, on weights and biases).  Liang et
        al.'s published notebook adds ``lam * ||W||^2`` with
        ``lam = 0.01 / batch_size`` on the weights; ``alpha = 2 * lam = 4e-5``
        gives the same gradient on the weights.
        The default applies none.
    learning_rate : float, default=1e-3
        Adam learning rate.
    batch_size : int or "auto", default=500
        Users per mini-batch.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
        users (about 40 steps per epoch, within [32, 500]); the value used
        is ``batch_size_``.
    max_iter : int, default=100
        Number of epochs.  Liang et al. train 200 epochs; 100 is the
        package's default for every autoencoder.
    {selection_parameters}
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weights, shuffling and dropout.
        With an int, fit on the CPU is reproducible.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    {training_attributes}
    n_parameters_ : int
        Number of trainable weights and biases: ``2 * n_hidden * n_items + n_hidden + n_items``.
    device_ : torch.device
        Where the module lives.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> from sklearn_swdae import MultDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = MultDAERecommender(n_hidden=8, max_iter=3, device="cpu", random_state=0).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 60)
    """

    _parameter_constraints: dict = {
        **_BaseAutoencoderRecommender._parameter_constraints,
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_hidden=200,
        *,
        input_dropout=0.5,
        alpha=0.0,
        learning_rate=1e-3,
        batch_size=500,
        max_iter=100,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self._set_params_from_init(locals())

    def _build_module(self, n_items, random_state):
        return DenoisingAutoencoder(
            n_items,
            self.n_hidden,
            None,
            "tanh",
            self.input_dropout,
            0.0,
            random_state,
            normalize_input=True,
        )


class _AnnealedNegativeELBO:
    """Mult-VAE loss: multinomial NLL + beta * KL, beta annealed per step.

    ``beta = min(anneal_cap, step / total_anneal_steps)``, ``step`` counting
    the updates before this one (Liang et al.'s schedule).  The module
    records the batch's KL divergence in its forward pass.
    """

    accepts_sparse_targets = True

    def __init__(self, anneal_cap, total_anneal_steps):
        self.anneal_cap = anneal_cap
        self.total_anneal_steps = total_anneal_steps
        self.step = 0
        self.beta = 0.0

    def state_dict(self):
        """The annealing step, saved in training checkpoints."""
        return {"step": self.step, "beta": self.beta}

    def load_state_dict(self, state):
        self.step, self.beta = state["step"], state["beta"]

    def __call__(self, logits, targets, module):
        self.beta = min(self.anneal_cap, self.step / self.total_anneal_steps)
        self.step += 1
        return _multinomial_loss(logits, targets, module) + self.beta * module.kl


@_fill_doc
class MultVAERecommender(_BaseAutoencoderRecommender):
    """Mult-VAE of Liang et al. (2018), "Variational Autoencoders for
    Collaborative Filtering".

    Architecture [n_items, n_hidden, n_latent, n_hidden, n_items]
    (600 / 200 in the paper) with tanh hidden layers.  The encoder maps the
    L2-normalized, dropped-out history to the mean and log-variance of a
    Gaussian posterior; training decodes a reparameterized sample and
    minimizes the multinomial negative log-likelihood plus ``beta`` times
    the KL divergence to the standard normal prior, with ``beta`` annealed
    linearly from 0 at every update:
    ``beta = min(anneal_cap, step / total_anneal_steps)``.  Prediction
    decodes the posterior mean (no sampling), so it is deterministic.

    Parameters
    ----------
    n_hidden : int, default=600
        Units of the encoder's and decoder's hidden layers.
    n_latent : int, default=200
        Dimension of the latent code.
    input_dropout : float, default=0.5
        Dropout probability on the normalized input.
    anneal_cap : float, default=0.2
        Largest KL weight ``beta``.
    total_anneal_steps : int, default=200000
        Number of updates over which ``beta`` would grow from 0 to 1.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay, on weights and biases).  Liang et al. use none for Mult-VAE.
    learning_rate : float, default=1e-3
        Adam learning rate.
    batch_size : int or "auto", default=500
        Users per mini-batch.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
        users (about 40 steps per epoch, within [32, 500]); the value used
        is ``batch_size_``.
    max_iter : int, default=100
        Number of epochs.  Liang et al. train 200 epochs; 100 is the
        package's default for every autoencoder.
    {selection_parameters}
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weights, shuffling and dropout, and the reparameterization noise.
        With an int, fit on the CPU is reproducible.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    {training_attributes}
    n_parameters_ : int
        Number of trainable weights and biases: ``(n_items + 1) * n_hidden +
        (n_hidden + 1) * 2 * n_latent + (n_latent + 1) * n_hidden +
        (n_hidden + 1) * n_items``.
    device_ : torch.device
        Where the module lives.
    n_features_in_ : int
        Number of items.
    beta_ : float
        The KL weight of the last training update.
    n_updates_ : int
        Number of training updates (mini-batches), the annealing step.

    Examples
    --------
    >>> from sklearn_swdae import MultVAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = MultVAERecommender(
    ...     n_hidden=16, n_latent=4, max_iter=3, device="cpu", random_state=0
    ... ).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 60)
    """

    _parameter_constraints: dict = {
        **_BaseAutoencoderRecommender._parameter_constraints,
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "n_latent": [Interval(Integral, 1, None, closed="left")],
        "anneal_cap": [Interval(Real, 0, None, closed="left")],
        "total_anneal_steps": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_hidden=600,
        n_latent=200,
        *,
        input_dropout=0.5,
        anneal_cap=0.2,
        total_anneal_steps=200000,
        alpha=0.0,
        learning_rate=1e-3,
        batch_size=500,
        max_iter=100,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self._set_params_from_init(locals())

    def _build_module(self, n_items, random_state):
        return VariationalAutoencoder(
            n_items, self.n_hidden, self.n_latent, "tanh", self.input_dropout, random_state
        )

    def _make_loss(self):
        return _AnnealedNegativeELBO(self.anneal_cap, self.total_anneal_steps)

    def _after_training(self, loss_fn):
        self.beta_ = loss_fn.beta
        self.n_updates_ = loss_fn.step
        self.module_.kl = None  # frees the last batch's graph


@validate_params(
    {
        "n_parameters": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 1, None, closed="left")],
        "overlap": [Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="right")],
        "max_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "rtol": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def n_clusters_for_parameters(n_parameters, n_items, *, overlap=0.1, max_clusters=None, rtol=0.01):
    """The K that gives SW-DAE a parameter budget (the paper's SW-DAE-p).

    With every item linked to R of K
    groups, SW-DAE has ``2 * n_items * R + K + n_items`` parameters (the
    encoder's and decoder's live weights, then the biases).  This returns
    the K whose count is closest to ``n_parameters``, e.g. the
    ``n_parameters_`` of a fitted :class:`MultVAERecommender`, as for
    SW-DAE-p in Table 2 of the paper (ML-20M: about 24.2M parameters, K =
    6,000 at R = 0.1 K; the 600-200 Mult-VAE of this package has
    24,511,308 on ML-20M's 20,108 items, which gives K = 6,085).

    Parameters
    ----------
    n_parameters : int
        The parameter budget.
    n_items : int
        Number of items.
    overlap : int or float, default=0.1
        R, or a fraction of K, as ``ItemGrouper(overlap=...)``.
    max_clusters : int or None, default=None
        Largest K allowed; None means ``n_items`` (K-means needs at least
        as many items as clusters).
    rtol : float, default=0.01
        Largest relative distance to the budget accepted.

    Returns
    -------
    n_clusters : int
        K for ``ItemGrouper(n_clusters=K, overlap=overlap)``.

    Raises
    ------
    ValueError
        When no K up to ``max_clusters`` comes within ``rtol`` of the
        budget; the message gives the closest count.  On data with few
        items a budget such as Mult-VAE's may need K > n_items at R = 0.1 K:
        a larger ``overlap`` reaches it.

    Examples
    --------
    >>> from sklearn_swdae import n_clusters_for_parameters
    >>> n_clusters_for_parameters(24_511_308, 20108)
    6085
    >>> K = n_clusters_for_parameters(50_000, 500)
    >>> K, 2 * 500 * 49 + K + 500
    (494, 49994)
    """
    max_clusters = n_items if max_clusters is None else max_clusters
    if isinstance(overlap, Integral):
        candidates = np.arange(int(overlap), max_clusters + 1)
        links = np.full(candidates.shape, int(overlap))
    else:
        candidates = np.arange(1, max_clusters + 1)
        links = np.maximum(1, np.floor(float(overlap) * candidates + 0.5)).astype(np.int64)
    if candidates.size == 0:
        raise ValueError(f"overlap={overlap!r} needs more than max_clusters={max_clusters} clusters.")
    counts = 2 * n_items * links + candidates + n_items
    best = int(np.argmin(np.abs(counts - n_parameters)))
    K = int(candidates[best])
    if abs(counts[best] - n_parameters) > rtol * n_parameters:
        raise ValueError(
            f"No K <= max_clusters={max_clusters} gives SW-DAE about n_parameters={n_parameters} "
            f"with overlap={overlap!r} on {n_items} items: the closest is K={K} with "
            f"{int(counts[best])} parameters. Use a larger overlap (R) or max_clusters."
        )
    return K
