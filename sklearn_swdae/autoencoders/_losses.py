"""The losses of the autoencoders, all of one protocol.

A loss is called as ``loss(output, targets)`` and returns a scalar tensor:
``output`` is the :class:`~sklearn_swdae.layers.AutoencoderOutput` of the
module's ``forward_output`` (logits plus auxiliary terms such as FC-reg's
hidden activations or Mult-VAE's KL divergence) and ``targets`` the batch
of histories.  Its attribute ``sparse_targets`` says whether it reads the
targets as the coalesced sparse COO batch (no dense (batch, n_items) copy is
made then) or needs them dense.  A loss with training state (Mult-VAE's
annealing step) has ``state_dict`` and ``load_state_dict``, which training
checkpoints save.
"""

import torch.nn.functional as F

__all__ = [
    "LOSS_NAMES",
    "ActivityL1Loss",
    "AnnealedNegativeELBO",
    "BernoulliLoss",
    "ItemColumnsLoss",
    "Loss",
    "MultinomialLoss",
    "make_loss",
]


class Loss:
    """Base of the losses: ``loss(output, targets)`` -> scalar tensor."""

    #: Whether the engine may pass the targets as the sparse COO batch.
    sparse_targets = False

    def __call__(self, output, targets):
        raise NotImplementedError


class MultinomialLoss(Loss):
    """Negative multinomial log-likelihood (Mult-DAE), mean over users.

    The sparse targets are read at their non-zeros only, which saves
    building and multiplying a dense (batch, n_items) matrix.
    """

    sparse_targets = True

    def __call__(self, output, targets):
        logits = output.logits
        log_probs = F.log_softmax(logits, dim=1)
        if targets.is_sparse:
            rows, items = targets.indices()
            picked = log_probs.reshape(-1).index_select(0, rows * logits.shape[1] + items)
            return -(picked * targets.values()).sum() / logits.shape[0]
        return -(log_probs * targets).sum(dim=1).mean()


class BernoulliLoss(Loss):
    """Negative Bernoulli log-likelihood of a sigmoid output, mean over users."""

    def __call__(self, output, targets):
        return F.binary_cross_entropy_with_logits(output.logits, targets, reduction="none").sum(dim=1).mean()


_LIKELIHOODS = {"multinomial": MultinomialLoss, "bernoulli": BernoulliLoss}

#: The ``loss`` parameter's choices.
LOSS_NAMES = tuple(_LIKELIHOODS)


class ActivityL1Loss(Loss):
    """``base + l1 * sum_k |h_k|``, mean over users (FC-reg, section 5.6).

    ``h`` are the hidden activations before hidden dropout, which the
    forward pass of the same batch returns in ``output.hidden``.
    """

    def __init__(self, base, l1):
        self.base = base
        self.l1 = l1
        self.sparse_targets = base.sparse_targets

    def __call__(self, output, targets):
        penalty = output.hidden.abs().sum(dim=1).mean()
        return self.base(output, targets) + self.l1 * penalty


class ItemColumnsLoss(Loss):
    """``base`` on the item columns of the targets only.

    CDAE's input also holds the one-hot user nodes, which are not
    reconstructed.  The targets are dense: the slice is a view.
    """

    def __init__(self, base):
        self.base = base

    def __call__(self, output, targets):
        return self.base(output, targets[:, : output.logits.shape[1]])


class AnnealedNegativeELBO(Loss):
    """Mult-VAE loss: multinomial NLL + beta * KL, beta annealed per step.

    ``beta = min(anneal_cap, step / total_anneal_steps)``, ``step`` counting
    the updates before this one (Liang et al.'s schedule).  The KL
    divergence is ``output.kl``, computed by the forward pass.
    """

    sparse_targets = True

    def __init__(self, anneal_cap, total_anneal_steps):
        self.anneal_cap = anneal_cap
        self.total_anneal_steps = total_anneal_steps
        self.step = 0
        self.beta = 0.0
        self._likelihood = MultinomialLoss()

    def state_dict(self):
        """The annealing step, saved in training checkpoints."""
        return {"step": self.step, "beta": self.beta}

    def load_state_dict(self, state):
        self.step, self.beta = state["step"], state["beta"]

    def __call__(self, output, targets):
        self.beta = min(self.anneal_cap, self.step / self.total_anneal_steps)
        self.step += 1
        return self._likelihood(output, targets) + self.beta * output.kl


def make_loss(name, activity_l1=0.0):
    """The likelihood ``name``, with FC-reg's activity penalty when ``activity_l1`` > 0."""
    loss = _LIKELIHOODS[name]()
    return ActivityL1Loss(loss, activity_l1) if activity_l1 else loss
