"""Memory estimates checked before training and prediction.

An input too large for the configured batch size should fail with an error
that says how to proceed, not with the kernel's out-of-memory killer (Linux
overcommits, so a huge allocation often "succeeds" and the process dies
later, when the pages are touched).  The estimates are deliberately lower
bounds of what torch will allocate, so that they never refuse work that
fits: they count float32 tensors of the largest sizes only.
"""

import os

import torch

from .exceptions import InsufficientMemoryError

__all__ = [
    "available_memory",
    "check_ease_memory",
    "check_prediction_memory",
    "check_training_memory",
    "is_out_of_memory",
    "memory_advice",
    "out_of_memory_error",
]

_FLOAT_BYTES = 4
_GIB = 1024**3

#: Users of the validation set scored at once by the engine (evaluate_rankings).
_VALIDATION_BATCH = 1000


def _cpu_available_memory():
    """MemAvailable of /proc/meminfo, else the physical memory, else None."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_memory(device):
    """Bytes free on ``device`` (a torch.device), or None when unknown.

    CUDA: ``torch.cuda.mem_get_info`` (free device memory).  CPU: Linux's
    ``MemAvailable``, else the physical memory from ``os.sysconf``.
    """
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError):
            return None
    if device.type == "cpu":
        return _cpu_available_memory()
    return None


def memory_advice(batch_size=None):
    """How to proceed when training or prediction does not fit."""
    steps = []
    if batch_size is not None:
        steps.append(f"use a smaller batch_size (now {batch_size})")
    steps += [
        "a smaller model (fewer hidden units; for SW-DAE fewer n_clusters or a smaller "
        "overlap, and layer_backend='sparse' so that only live weights are stored)",
        "fewer items (filter rare items with preprocess_interactions)",
        "or a device with more free memory",
    ]
    return "To proceed, " + ", ".join(steps) + "."


def _format_bytes(n_bytes):
    for unit, size in (("GiB", _GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if n_bytes >= size:
            return f"{n_bytes / size:.2f} {unit}"
    return f"{int(n_bytes)} bytes"


def _module_sizes(module):
    n_params = sum(p.numel() for p in module.parameters())
    n_buffers = sum(b.numel() for b in module.buffers())
    return n_params, n_buffers


def _check(needed, device, what, parts, batch_size, advice=None):
    available = available_memory(device)
    if available is None or needed <= available:
        return
    detail = "; ".join(f"{name}: {_format_bytes(size)}" for name, size in parts)
    raise InsufficientMemoryError(
        f"{what} needs at least {_format_bytes(needed)} ({detail}) but only {_format_bytes(available)} is "
        f"available on {device}. {advice or memory_advice(batch_size)}"
    )


def check_ease_memory(n_items):
    """Raise InsufficientMemoryError when EASE's dense item-item solve cannot fit.

    Counted: one (n_items, n_items) float64 array (the Gram matrix, inverted
    and scaled into the weights in place) and the float32 weights.
    """
    parts = [(f"{n_items} x {n_items} item-item matrices, float64 and float32", 12 * n_items**2)]
    advice = (
        "To proceed, use fewer items (filter rare items with preprocess_interactions) or a "
        "model with sparse weights such as SparseWideDAERecommender."
    )
    _check(parts[0][1], torch.device("cpu"), "EASERecommender.fit", parts, None, advice)


def check_training_memory(module, n_users, n_items, batch_size, device, n_validation=0, averaged=False):
    """Raise InsufficientMemoryError when training certainly does not fit.

    Counted: gradients and Adam's two moments of every parameter (and
    their moving average when ``averaged``), the
    masked-weight products of the forward pass, the module itself when it
    still has to move to a GPU, and the largest dense batch: four
    (batch, n_items) tensors (targets, logits, their log-softmax and its
    gradient) per training batch, or the scores of up to
    ``_VALIDATION_BATCH`` of the ``n_validation`` users in float32 and float64.
    """
    n_params, n_buffers = _module_sizes(module)
    state = (5 if averaged else 4) * n_params
    if device.type != "cpu":
        state += n_params + n_buffers  # the copy on the device
    batch = 4 * min(batch_size, n_users) * n_items
    validation = 3 * min(_VALIDATION_BATCH, n_validation) * n_items
    parts = [
        ("weights, gradients and optimizer state", state * _FLOAT_BYTES),
        (
            f"dense tensors of one batch of {min(batch_size, n_users)} users x {n_items} items",
            max(batch, validation) * _FLOAT_BYTES,
        ),
    ]
    needed = sum(size for _, size in parts)
    _check(needed, device, "Training", parts, batch_size)


def check_prediction_memory(module, n_rows, n_items, device):
    """Raise InsufficientMemoryError when scoring one batch of ``n_rows`` users cannot fit.

    Counted: the masked-weight products and three (n_rows, n_items) float32
    arrays (logits on the device, their copy on the host, the scores).
    """
    n_params, _ = _module_sizes(module)
    parts = [
        ("weight products", n_params * _FLOAT_BYTES),
        (f"scores of {n_rows} users x {n_items} items", 3 * n_rows * n_items * _FLOAT_BYTES),
    ]
    needed = sum(size for _, size in parts)
    _check(needed, device, "Prediction", parts, None)


def out_of_memory_error(exc, batch_size, device, during="training"):
    """The InsufficientMemoryError to raise from an allocation failure ``exc``."""
    return InsufficientMemoryError(
        f"Ran out of memory on {device} during {during} ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else 'no details'}). {memory_advice(batch_size)}"
    )


def is_out_of_memory(exc):
    """Whether ``exc`` is an allocation failure of torch or numpy."""
    if isinstance(exc, InsufficientMemoryError):
        return False
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    # CPU allocation failures of torch are plain RuntimeErrors.
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)
