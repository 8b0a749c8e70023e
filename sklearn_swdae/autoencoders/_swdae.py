"""SW-DAE: the sparse and wide denoising autoencoder, one hidden layer or stacked."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from .._torch_utils import csr_to_torch
from ..defaults import auto_hidden_dropout
from ..grouping import ItemGrouper
from ..layers import LAYER_BACKENDS, DenoisingAutoencoder, StackedDenoisingAutoencoder, resolve_layer_backend
from ._base import DAE_CONSTRAINTS, _BaseAutoencoder
from ._docs import fill_doc
from ._losses import BernoulliLoss, make_loss

__all__ = ["SparseWideDAERecommender"]


@fill_doc
class SparseWideDAERecommender(_BaseAutoencoder):
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
    hidden_dropout : float or "auto", default="auto"
        Dropout on the hidden layer during training.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_hidden_dropout` of the training
        users: the paper's 0.2 from 3,000 users on, up to 0.5 on smaller
        data, where validation users preferred it.  The value used is
        ``hidden_dropout_``.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay).  The paper uses none.
    learning_rate : float, default=3e-3
        Adam learning rate.  The paper's is 1e-3
        (:func:`~sklearn_swdae.defaults.paper_settings`); 3e-3 was better on
        the validation users of all four datasets measured (ML-100K,
        ml-latest-small, ML-1M, citeulike-t), whose best epochs at 1e-3 came
        at 80 to 100 of 100 (``benchmarks/RESULTS.md``).
    batch_size : int or "auto", default="auto"
        Users per mini-batch.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
        users: about 40 Adam steps per epoch within [32, 500], so the
        paper's 500 on data of its size (ML-20M) and smaller batches, hence
        more steps, on small data.  The value used is ``batch_size_``.
    max_iter : int, default=100
        Number of epochs.
    {swdae_selection_parameters}
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
    {verbose_parameter}

    Attributes
    ----------
    layer_backends_ : tuple of two {"dense", "sparse"}
        Backends of the encoder and the decoder chosen at fit.
    batch_size_ : int
        Users per mini-batch used (``batch_size`` resolved).
    hidden_dropout_ : float
        Hidden dropout used (``hidden_dropout`` resolved).
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
    n_parameters_ : int
        Live weights and biases: ``2 * nnz(connectivity_) + K + n_items``
        for one hidden layer.
    {fitted_attributes}

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
        **DAE_CONSTRAINTS,
        "grouper": [HasMethods(["fit"]), None],
        "connectivity": ["array-like", "sparse matrix", None],
        "layer_backend": [StrOptions(set(LAYER_BACKENDS))],
        "stacked_layer_sizes": [list, tuple, None],
        "hidden_dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
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
        hidden_dropout="auto",
        alpha=0.0,
        learning_rate=3e-3,
        batch_size="auto",
        max_iter=100,
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        average_half_life=1.0,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        layer_backend="auto",
        random_state=None,
        verbose=0,
    ):
        self.grouper = grouper
        self.connectivity = connectivity
        self.stacked_layer_sizes = stacked_layer_sizes
        self.activation = activation
        self.loss = loss
        self.input_dropout = input_dropout
        self.hidden_dropout = hidden_dropout
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.average_half_life = average_half_life
        self.top_n = top_n
        self.device = device
        self.precision = precision
        self.callbacks = callbacks
        self.layer_backend = layer_backend
        self.random_state = random_state
        self.verbose = verbose

    def _prepare_training(self, X):
        """Learn the item groups (unless given) before the validation split."""
        # Read before validation: scipy operations drop the attribute.
        carried = getattr(X, "connectivity", None)
        X, random_state = self._start_fit(X)
        self.connectivity_ = self._learn_connectivity(X, carried, random_state)
        # Bad sizes fail here, before the split and verbose's report.
        self._check_stacked_layer_sizes()
        X_train, validation = self._split_validation(X, random_state)
        auto = self.hidden_dropout == "auto"
        self.hidden_dropout_ = auto_hidden_dropout(X_train.shape[0]) if auto else float(self.hidden_dropout)
        self._resolve_batch_size(
            X_train.shape[0], X.shape[1], **self._grouping_settings(), hidden_dropout=(self.hidden_dropout_, auto)
        )
        return X, X_train, validation, random_state

    def _fit(self, X, X_train, validation, random_state):
        """Train SW-DAE; with ``stacked_layer_sizes``, then pretrain the deeper layers and fine-tune the stack."""
        n_items, sizes = X.shape[1], self._check_stacked_layer_sizes()
        self.connectivities_, self.hidden_groupers_, self.pretraining_histories_ = [self.connectivity_], [], []
        self.layer_backends_ = self._layer_backends(n_items)
        self.module_ = self._build_module(n_items, random_state)
        loss = make_loss(self.loss)
        engine = self._train(self.module_, loss, X_train, validation, random_state)
        if sizes:
            self.pretraining_histories_.append(engine.history)
            layers = [self.module_] + self._pretrain_deeper_layers(X_train, sizes, random_state)
            self.module_ = self._build_module(n_items, random_state).load_pretrained(layers)
            engine = self._train(self.module_, loss, X_train, validation, random_state)
        return self._finish_fit(engine)

    def _build_module(self, n_items, random_state):
        connectivities = getattr(self, "connectivities_", [self.connectivity_])
        if len(connectivities) > 1:
            return StackedDenoisingAutoencoder(
                n_items,
                [mask.toarray() for mask in connectivities],
                self.activation,
                self.input_dropout,
                self.hidden_dropout_,
                random_state,
            )
        return DenoisingAutoencoder(
            n_items,
            self.connectivity_.shape[0],
            self.connectivity_,
            self.activation,
            self.input_dropout,
            self.hidden_dropout_,
            random_state,
            backends=self.layer_backends_,
        )

    def __setstate__(self, state):
        # Models saved before layer backends existed hold dense weights.
        if "module_" in state and "layer_backends_" not in state:
            state = {**state, "layer_backends_": ("dense", "dense")}
        # Models saved before "auto" existed trained with their float parameter.
        if "module_" in state and "hidden_dropout_" not in state:
            state = {**state, "hidden_dropout_": state["hidden_dropout"]}
        super().__setstate__(state)

    def _learn_connectivity(self, X, carried, random_state):
        """The encoder's mask: given, carried by X from a Pipeline, or learned (sets ``grouper_``)."""
        n_items = X.shape[1]
        self.grouper_ = None
        if self.connectivity is not None:
            return _check_connectivity(self.connectivity, n_items, "connectivity")
        if carried is not None:
            if self.grouper is not None:
                raise ValueError(
                    "X carries a connectivity from ItemGrouper.transform (a Pipeline step) "
                    "and grouper is also set; use one or the other (grouper=None)."
                )
            return _check_connectivity(carried, n_items, "X.connectivity")
        if self.grouper is None:
            grouper = ItemGrouper(random_state=random_state)
        else:
            grouper = clone(self.grouper)
            if grouper.get_params().get("random_state", 0) is None:
                grouper.set_params(random_state=random_state)
        self.grouper_ = grouper.fit(X)
        return sp.csr_array(self.grouper_.connectivity_)

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

    def _grouping_settings(self):
        """K, R and F used and whether each was "auto", for ``verbose``."""
        if self.grouper_ is None:
            return {"n_clusters": (self.connectivity_.shape[0], False)}
        params = self.grouper_.get_params()
        return {
            "n_clusters": (self.grouper_.n_clusters_, params["n_clusters"] == "auto"),
            "overlap": (self.grouper_.overlap_, params["overlap"] == "auto"),
            "n_components": (self.grouper_.n_components_, params["n_components"] == "auto"),
        }

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
                raise ValueError(f"stacked_layer_sizes must hold positive ints, got {size!r} at position {position}.")
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

    def _pretrain_deeper_layers(self, X_train, sizes, random_state):
        """Greedily train one autoencoder per stacked layer on the codes of the layer below.

        Appends each layer's mask, grouper and history to ``connectivities_``,
        ``hidden_groupers_`` and ``pretraining_histories_``; returns the
        trained autoencoders, shallowest first.
        """
        layers, below, H = [], self.module_, X_train
        for size in sizes:
            H = self._encode(below, H)
            grouper = self._hidden_grouper(size, H, random_state)
            mask = sp.csr_array(grouper.connectivity_)
            layer = DenoisingAutoencoder(
                H.shape[1],
                size,
                mask.toarray(),
                self.activation,
                self.input_dropout,
                self.hidden_dropout_,
                random_state,
            )
            # The activations are soft targets in (0, 1): no ranking to
            # validate, so every epoch is kept.
            engine = self._train(layer, BernoulliLoss(), H, None, random_state)
            layer.generator = None
            layers.append(layer)
            below = layer
            self.hidden_groupers_.append(grouper)
            self.connectivities_.append(mask)
            self.pretraining_histories_.append(engine.history)
        return layers

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


def _check_connectivity(mask, n_items, source):
    """``mask`` as a boolean CSR array of shape (K, n_items) linking every item."""
    mask = sp.csr_array(mask) if sp.issparse(mask) else sp.csr_array(np.asarray(mask))
    if mask.ndim != 2 or mask.shape[1] != n_items:
        raise ValueError(f"{source} must have shape (n_hidden, n_items={n_items}), got {mask.shape}.")
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
