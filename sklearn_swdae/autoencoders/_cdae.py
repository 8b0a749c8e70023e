"""CDAE: the collaborative denoising autoencoder of Wu et al. (2016)."""

from numbers import Integral

import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from ._base import DAE_CONSTRAINTS, _BaseAutoencoder
from ._docs import fill_doc
from ._losses import ItemColumnsLoss, make_loss
from ._modules import UserNodeDAE

__all__ = ["CDAERecommender"]


@fill_doc
class CDAERecommender(_BaseAutoencoder):
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
    {training_parameters}
    {tail_parameters}

    Attributes
    ----------
    n_train_users_ : int
        Users with a node (the training users less the validation users).
    module_ : torch.nn.Module
        The trained network; ``module_.user_weights`` holds the user
        vectors.
    {fitted_attributes}
    n_parameters_ : int
        ``2 * n_hidden * n_items + n_hidden * n_train_users_ + n_hidden +
        n_items``.  ``n_flops_`` does not count the user vectors (a lookup,
        and zero for new users).

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
        **DAE_CONSTRAINTS,
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
        # One-hot user nodes as extra input columns: the engine shuffles
        # and batches them with the histories, and the module adds their
        # weights.
        self.n_train_users_ = X_train.shape[0]
        nodes = sp.eye_array(self.n_train_users_, dtype=X_train.dtype, format="csr")
        X_train = sp.hstack([X_train, nodes], format="csr")
        module = self._build_module(X.shape[1], random_state)
        return self._fit_module(module, ItemColumnsLoss(make_loss(self.loss)), X_train, validation, random_state)

    def _build_module(self, n_items, random_state):
        return UserNodeDAE(
            n_items,
            self.n_train_users_,
            self.n_hidden,
            self.activation,
            self.input_dropout,
            self.hidden_dropout,
            random_state,
        )
