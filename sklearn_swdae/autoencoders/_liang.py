"""Mult-DAE and Mult-VAE of Liang et al. (2018), "Variational Autoencoders
for Collaborative Filtering"."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from ..layers import DenoisingAutoencoder, VariationalAutoencoder
from ._base import COMMON_CONSTRAINTS, _BaseAutoencoder
from ._docs import fill_doc
from ._losses import AnnealedNegativeELBO, MultinomialLoss

__all__ = ["MultDAERecommender", "MultVAERecommender"]

_LIANG_CONSTRAINTS = {**COMMON_CONSTRAINTS, "n_hidden": [Interval(Integral, 1, None, closed="left")]}


@fill_doc
class MultDAERecommender(_BaseAutoencoder):
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
    {liang_training_parameters}
    {tail_parameters}

    Attributes
    ----------
    {fitted_attributes}
    {dense_dae_attributes}

    Examples
    --------
    >>> from sklearn_swdae import MultDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> model = MultDAERecommender(n_hidden=8, max_iter=3, device="cpu", random_state=0).fit(X[:250])
    >>> model.recommend(X[250:252], top_n=3).shape  # two users not seen in fit
    (2, 3)
    """

    _parameter_constraints: dict = _LIANG_CONSTRAINTS

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
        average_half_life=None,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_hidden = n_hidden
        self.input_dropout = input_dropout
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
        module = self._build_module(X.shape[1], random_state)
        return self._fit_module(module, MultinomialLoss(), X_train, validation, random_state)

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


@fill_doc
class MultVAERecommender(_BaseAutoencoder):
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
    {liang_training_parameters}
    {selection_parameters}
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weights, shuffling and dropout, and the reparameterization noise.
        With an int, fit on the CPU is reproducible.
    {verbose_parameter}

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    n_parameters_ : int
        Number of trainable weights and biases: ``(n_items + 1) * n_hidden +
        (n_hidden + 1) * 2 * n_latent + (n_latent + 1) * n_hidden +
        (n_hidden + 1) * n_items``.
    {fitted_attributes}
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
    ...     n_hidden=16, n_latent=4, total_anneal_steps=20, max_iter=3, device="cpu", random_state=0
    ... ).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 60)
    >>> model.n_updates_, model.beta_  # one batch per epoch; the last update's beta is 2 / 20
    (3, 0.1)
    """

    _parameter_constraints: dict = {
        **_LIANG_CONSTRAINTS,
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
        average_half_life=None,
        top_n=100,
        device="auto",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_hidden = n_hidden
        self.n_latent = n_latent
        self.input_dropout = input_dropout
        self.anneal_cap = anneal_cap
        self.total_anneal_steps = total_anneal_steps
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
        loss = AnnealedNegativeELBO(self.anneal_cap, self.total_anneal_steps)
        self._fit_module(self._build_module(X.shape[1], random_state), loss, X_train, validation, random_state)
        # The loss object kept the annealing state of the last update.
        self.beta_, self.n_updates_ = loss.beta, loss.step
        return self

    def _build_module(self, n_items, random_state):
        return VariationalAutoencoder(n_items, self.n_hidden, self.n_latent, "tanh", self.input_dropout, random_state)
