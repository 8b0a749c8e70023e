"""Helpers shared by the benchmark scripts: machine description, peak memory
of the current process, the ML-20M-shaped synthetic matrix, and the median
over rounds of repeated runs."""

import os
import platform
import statistics
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


def median_rows(rows, key_fields, measured_fields):
    """One record per configuration and code: the median of each measured field over its rounds.

    On a shared VM one run can be much slower than the next for reasons
    outside the process; with ``--rounds`` the codes compared take turns, so
    a slow spell hits both, and the median drops the odd run.  Records are
    grouped by the values of ``key_fields`` (in order of first appearance);
    every field of ``measured_fields`` a record has becomes its median and
    ``rounds`` counts the runs merged.
    """
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row.get(name) for name in key_fields), []).append(row)
    merged = []
    for runs in groups.values():
        row = dict(runs[0], rounds=len(runs))
        for name in measured_fields:
            if name in row:
                row[name] = statistics.median(run[name] for run in runs)
        merged.append(row)
    return merged
