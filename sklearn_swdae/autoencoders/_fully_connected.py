"""The fully connected DAE of the paper, with its two structure-learning
variants: FC-reg (an L1 penalty on the hidden activations) and FC-Prune
(magnitude pruning, then retraining)."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import Interval

from ..layers import DenoisingAutoencoder, MaskedLinear
from ._base import DAE_CONSTRAINTS, _BaseAutoencoder
from ._docs import fill_doc
from ._losses import make_loss

__all__ = ["FCDAERecommender", "PrunedDAERecommender"]

_FC_CONSTRAINTS = {
    **DAE_CONSTRAINTS,
    "n_hidden": [Interval(Integral, 1, None, closed="left")],
    "activity_l1": [Interval(Real, 0, None, closed="left")],
}


def _fully_connected_dae(estimator, n_items, random_state):
    """The fully connected DAE of an FC-DAE or FC-Prune estimator's parameters."""
    return DenoisingAutoencoder(
        n_items,
        estimator.n_hidden,
        None,
        estimator.activation,
        estimator.input_dropout,
        estimator.hidden_dropout,
        random_state,
    )


@fill_doc
class FCDAERecommender(_BaseAutoencoder):
    """Fully connected denoising autoencoder recommender (FC-DAE).

    SW-DAE with every hidden unit connected to every item: the paper's
    dense baseline of the same width (section 4.4, Table 2), trained the
    same way (sigmoid hidden layer, input dropout 0.6, hidden dropout 0.2,
    multinomial loss, Adam at 1e-3, batches of 500 users).

    Parameters
    ----------
    n_hidden : int, default=1000
        Number of hidden units K.
    {dae_parameters}
    activity_l1 : float, default=0.0
        L1 penalty on the hidden activations (before hidden dropout): the
        loss gains ``activity_l1 * sum_k |h_k|`` per user, averaged over
        the batch like the likelihood.  Positive values give FC-reg, the
        "sparsely activated" structure learning of the paper's section 5.6
        (Table 5 searches 1e-5 to 1e-1; 1e-3 was best on ML-20M).
    alpha : float, default=0.0
        L2 penalty (Adam weight decay, on weights and biases).
    {training_parameters}
    {tail_parameters}

    Attributes
    ----------
    {fitted_attributes}
    {dense_dae_attributes}

    See Also
    --------
    PrunedDAERecommender : FC-DAE pruned to a sparse structure and retrained.

    Examples
    --------
    >>> from sklearn_swdae import FCDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = FCDAERecommender(n_hidden=8, activity_l1=1e-3, max_iter=3, device="cpu", random_state=0).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 60)
    >>> model.n_parameters_ == 2 * 8 * 60 + 8 + 60
    True
    """

    _parameter_constraints: dict = _FC_CONSTRAINTS

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
        average_half_life=None,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_hidden = n_hidden
        self.activation = activation
        self.loss = loss
        self.input_dropout = input_dropout
        self.hidden_dropout = hidden_dropout
        self.activity_l1 = activity_l1
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
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X, X_train, validation, random_state):
        self.layer_backends_ = ("dense", "dense")
        module = self._build_module(X.shape[1], random_state)
        return self._fit_module(module, make_loss(self.loss, self.activity_l1), X_train, validation, random_state)

    def _build_module(self, n_items, random_state):
        return _fully_connected_dae(self, n_items, random_state)


def _magnitude_mask(weight, sparsity):
    """Boolean mask keeping the ``1 - sparsity`` largest-magnitude entries."""
    magnitudes = weight.detach().abs().flatten()
    n_keep = max(1, int(round((1.0 - sparsity) * magnitudes.numel())))
    mask = torch.zeros(magnitudes.numel(), dtype=torch.bool, device=magnitudes.device)
    mask[torch.topk(magnitudes, n_keep, sorted=False).indices] = True
    return mask.reshape(weight.shape).cpu().numpy()


@fill_doc
class PrunedDAERecommender(_BaseAutoencoder):
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
    {dae_parameters}
    activity_l1 : float, default=0.0
        L1 penalty on the hidden activations, as for :class:`FCDAERecommender`.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay, on weights and biases).
    learning_rate : float, default=1e-3
        Adam learning rate (both phases).
    {batch_size_parameter}
    max_iter : int, default=100
        Epochs of the first (fully connected) phase.
    {selection_parameters}
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split (the same users in both phases), the
        weights, shuffling and dropout.  With an int, fit on the CPU is
        reproducible.
    {verbose_parameter}

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
    {fitted_attributes}
    n_parameters_ : int
        Live weights and biases after pruning: ``nnz(encoder_mask_) +
        nnz(decoder_mask_) + n_hidden + n_items``.

    Examples
    --------
    >>> from sklearn_swdae import PrunedDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = PrunedDAERecommender(n_hidden=8, sparsity=0.9, max_iter=3, device="cpu", random_state=0)
    >>> model.fit(X).encoder_mask_.nnz, model.decoder_mask_.nnz
    (48, 48)
    >>> model.n_parameters_ == 48 + 48 + 8 + 60
    True
    """

    _parameter_constraints: dict = {
        **_FC_CONSTRAINTS,
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
        average_half_life=None,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_hidden = n_hidden
        self.sparsity = sparsity
        self.retrain_iter = retrain_iter
        self.activation = activation
        self.loss = loss
        self.input_dropout = input_dropout
        self.hidden_dropout = hidden_dropout
        self.activity_l1 = activity_l1
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
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X, X_train, validation, random_state):
        """Train the fully connected DAE, prune it, then retrain the surviving weights."""
        dense = _fully_connected_dae(self, X.shape[1], random_state)
        self.layer_backends_ = ("dense", "dense")
        engine = self._train(dense, make_loss(self.loss, self.activity_l1), X_train, validation, random_state)
        self.pretrain_history_, self.pretrain_best_epoch_ = engine.history, engine.best_epoch
        self.encoder_mask_, self.decoder_mask_ = (
            sp.csr_array(_magnitude_mask(layer.effective_weight(), self.sparsity))
            for layer in (dense.encoder, dense.decoder)
        )
        self.module_ = self._pruned_copy(dense, random_state)
        loss = make_loss(self.loss, self.activity_l1)
        engine = self._train(self.module_, loss, X_train, validation, random_state, max_iter=self.retrain_iter)
        return self._finish_fit(engine, n_iter=len(self.pretrain_history_) + len(engine.history))

    def _pruned_copy(self, trained, random_state):
        """A DAE with the pruned masks, starting from ``trained``'s surviving weights."""
        # Built with fresh weights first: its draws from random_state are
        # part of the fit's random stream, which fixes the shuffling after.
        module = _fully_connected_dae(self, self.n_features_in_, random_state)
        with torch.no_grad():
            for name in ("encoder", "decoder"):
                old = getattr(trained, name)
                weight = old.effective_weight().detach().cpu().numpy()
                pruned = MaskedLinear(weight, getattr(self, name + "_mask_").toarray())
                pruned.bias.copy_(old.bias.detach().cpu())
                setattr(module, name, pruned)
        return module

    def _build_module(self, n_items, random_state):
        # The pruned structure; the weights are loaded right after.
        module = _fully_connected_dae(self, n_items, random_state)
        for name in ("encoder", "decoder"):
            mask = getattr(self, name + "_mask_").toarray()
            setattr(module, name, MaskedLinear(np.zeros(mask.shape, dtype=np.float32), mask))
        return module
