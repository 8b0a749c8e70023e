"""Docstring sections the autoencoder recommenders share.

Numpydoc needs every parameter in each class's own docstring; ``fill_doc``
writes the shared ones there from this one text (see
:mod:`sklearn_swdae._docstrings`).
"""

from .._docstrings import SECTIONS, doc_filler


def _epoch_selection(patience, note=""):
    return f"""validation_fraction : float or None, default=0.1
    Fraction of the training users held out to select the epoch by
    NDCG@100 (80/20 fold-in split of their histories).  None or 0 keeps
    the last epoch and trains on every user.
n_iter_no_change : int or None, default={patience}
    Stop when validation NDCG@100 has not improved by ``tol`` for this
    many epochs.  None trains all ``max_iter`` epochs (still keeping the
    best one).{note}
tol : float, default=1e-4
    Minimum improvement for early stopping.
"""


def _averaging(default, note=""):
    return f"""average_half_life : float or None, default={default}
    Validate and keep an exponential moving average of the weights
    (Polyak averaging) rather than the last step's: after every Adam step
    the average moves toward the weights, so that a step's weights count
    half as much this many epochs later.  Training itself goes on from
    the trained weights.  None validates and keeps the trained weights.{note}
"""


_SELECTION_TAIL = (
    SECTIONS["top_n_parameter"]
    + """
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
    Observers of training (see :mod:`sklearn_swdae.training`)."""
)

_SELECTION = _epoch_selection(None) + _averaging(None) + _SELECTION_TAIL

# SW-DAE averages by default (the measurements are in benchmarks/RESULTS.md).
_SWDAE_SELECTION = (
    _epoch_selection(
        20,
        """
    The default was chosen on validation users: replayed on one 200-epoch
    run per dataset, stopping after 20 epochs without improvement kept
    the same epoch as training all 100 on ML-100K, ml-latest-small, ML-1M
    and citeulike-t, and stopped ML-100K at epoch 63; a patience of 10
    lost on ml-latest-small and won on citeulike-t, 150 or 200 epochs
    lost or tied
    (``benchmarks/RESULTS.md``, "Training budget").
    :func:`~sklearn_swdae.defaults.paper_settings` sets None.""",
    )
    + _averaging(
        1.0,
        """
    The default was chosen on validation users: at the default batch
    sizes (about 40 steps per epoch) the average of about the last
    epoch's steps scored validation NDCG@100 higher than the last step's
    weights on ML-100K, ml-latest-small and ML-1M
    (``benchmarks/RESULTS.md``), for one in-place update of the weights
    per step.
    :func:`~sklearn_swdae.defaults.paper_settings` sets None.""",
    )
    + _SELECTION_TAIL
)

_VERBOSE = """verbose : int, default=0
    Print one line per epoch when positive."""

_LEARNING_RATE = """learning_rate : float, default=1e-3
    Adam learning rate.
"""

_BATCH_SIZE = """batch_size : int or "auto", default=500
    Users per mini-batch.  ``"auto"`` is
    :func:`~sklearn_swdae.defaults.auto_batch_size` of the training
    users (about 40 steps per epoch, within [32, 500]); the value used
    is ``batch_size_``."""

fill_doc = doc_filler(
    {
        **SECTIONS,
        "selection_parameters": _SELECTION,
        "swdae_selection_parameters": _SWDAE_SELECTION,
        "verbose_parameter": _VERBOSE,
        # From validation_fraction to the end, for the estimators whose
        # random_state seeds nothing but the usual.
        "tail_parameters": _SELECTION
        + """
random_state : int, RandomState instance or None, default=None
    Seeds the validation split, the weights, shuffling and dropout.
    With an int, fit on the CPU is reproducible.
"""
        + _VERBOSE,
        "dae_parameters": """activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
    Hidden activation.
loss : {"multinomial", "bernoulli"}, default="multinomial"
    Likelihood of the output, as for :class:`SparseWideDAERecommender`.
input_dropout : float, default=0.6
    Probability of dropping each consumed item from the input.
hidden_dropout : float, default=0.2
    Dropout on the hidden layer during training.""",
        "batch_size_parameter": _BATCH_SIZE,
        "training_parameters": _LEARNING_RATE
        + _BATCH_SIZE
        + """
max_iter : int, default=100
    Number of epochs.""",
        "liang_training_parameters": _LEARNING_RATE
        + _BATCH_SIZE
        + """
max_iter : int, default=100
    Number of epochs.  Liang et al. train 200 epochs; 100 is the
    package's default for every autoencoder.""",
        "dense_dae_attributes": """module_ : torch.nn.Module
    The trained network.
n_parameters_ : int
    Number of trainable weights and biases: ``2 * n_hidden * n_items + n_hidden + n_items``.""",
        "fitted_attributes": """history_ : list of dict
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
    see :func:`~sklearn_swdae.layers.count_flops`).
device_ : torch.device
    Where the module lives.
n_features_in_ : int
    Number of items.""",
    }
)
