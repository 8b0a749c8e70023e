"""Helpers shared by the benchmark scripts: machine description, peak memory
of the current process, and the ML-20M-shaped synthetic matrix."""

import os
import platform
import subprocess

ML20M_SHAPE = (136677, 20108)
ML20M_DENSITY = 0.0045  # realizes ~0.0034 (~9.4M interactions) after merging


def rss_kib(field):
    """A field of /proc/self/status in KiB (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Reset the VmHWM high-water mark; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu_description():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except Exception:
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} logical cores"


def ml20m_shaped(shape=ML20M_SHAPE, random_state=0):
    """Synthetic interactions shaped like ML-20M after the paper's preprocessing."""
    from sklearn_swdae.datasets import make_interactions

    X, _ = make_interactions(*shape, n_groups=1000, density=ML20M_DENSITY, random_state=random_state)
    return X
