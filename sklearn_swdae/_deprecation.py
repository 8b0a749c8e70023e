"""Deprecation helpers for estimator parameters, in scikit-learn's style.

Parameters that change name or become keyword-only keep working for one
release with a ``FutureWarning`` that names the replacement, so that a user's
code and pickled grid-search settings have a release to migrate.
"""

import functools
import inspect
import warnings

#: The release in which the deprecated spellings stop working.
REMOVAL_VERSION = "0.2"


def deprecate_positional_args(func=None, *, names=None):
    """Let an ``__init__`` with keyword-only parameters still take positional ones.

    Positional arguments are passed on as the keywords they stood for, with a
    ``FutureWarning``: like scikit-learn's former ``_deprecate_positional_args``.
    ``names`` are the parameters the positional arguments used to fill, in
    their former order, when that order is not the keyword-only parameters'
    (a parameter was renamed, or a new one was inserted); by default they are
    the keyword-only parameters in the order of the signature.

    ``functools.wraps`` keeps the signature visible to ``inspect.signature``,
    hence to ``get_params``, ``clone`` and the documentation.
    """
    if func is None:
        return functools.partial(deprecate_positional_args, names=names)
    signature = inspect.signature(func)
    n_positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in signature.parameters.values())
    former = (
        list(names)
        if names is not None
        else [name for name, p in signature.parameters.items() if p.kind == p.KEYWORD_ONLY]
    )

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        extra = args[n_positional:]
        if not extra:
            return func(*args, **kwargs)
        if len(extra) > len(former):
            raise TypeError(
                f"{func.__qualname__}() takes at most {len(former)} positional parameters, got {len(extra)}."
            )
        passed = dict(zip(former, extra))
        shown = ", ".join(f"{name}={value!r}" for name, value in passed.items())
        warnings.warn(
            f"Pass {shown} as keyword argument(s). Passing them as positional arguments is "
            f"deprecated and will raise a TypeError in {REMOVAL_VERSION}.",
            FutureWarning,
            stacklevel=2,
        )
        return func(*args[:n_positional], **passed, **kwargs)

    return wrapper


def renamed_parameter(estimator, new, old):
    """The value of parameter ``new``, or of its former name ``old`` when that was set.

    The former name defaults to the string ``"deprecated"``; any other value
    is used, with a ``FutureWarning``.  Called in ``fit``, so that
    ``__init__`` and ``set_params`` only store what they are given.
    """
    value = getattr(estimator, old)
    if isinstance(value, str) and value == "deprecated":
        return getattr(estimator, new)
    warnings.warn(
        f"'{old}' was renamed to '{new}' and will be removed in {REMOVAL_VERSION}; "
        f"use {type(estimator).__name__}({new}={value!r}).",
        FutureWarning,
        # renamed_parameter, the estimator's _fit_interactions, fit,
        # scikit-learn's _fit_context, the caller.
        stacklevel=5,
    )
    return value


class RenamedParametersMixin:
    """Load estimators pickled under former parameter names.

    ``_renamed_parameters`` maps a former name to the current one; a pickle
    that holds the former but not the current gets its value under the new
    name, and the former name its ``"deprecated"`` default.  Put the mixin
    before the estimator's other bases.
    """

    _renamed_parameters: dict = {}

    def __setstate__(self, state):
        state = dict(state)
        for old, new in self._renamed_parameters.items():
            if new not in state and old in state:
                state[new], state[old] = state[old], "deprecated"
        super().__setstate__(state)
