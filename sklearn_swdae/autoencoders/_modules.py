"""Torch modules that only the estimators of this subpackage build.

The general building blocks (masked layers, the denoising, stacked and
variational autoencoders) are public in :mod:`sklearn_swdae.layers`.
"""

import torch

from .._initialization import glorot_uniform
from ..layers import ACTIVATIONS, DenoisingAutoencoder, sparse_dropout

__all__ = ["UserNodeDAE"]


class UserNodeDAE(DenoisingAutoencoder):
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
        return ACTIVATIONS[self.activation](pre)
