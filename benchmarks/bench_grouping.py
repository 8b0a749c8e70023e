"""Speed and memory of ItemGrouper.fit (SW-DAE Algorithms 1 and 2) at ML-20M scale.

The interaction matrix is synthetic but shaped like ML-20M after the paper's
preprocessing: 136,677 users x 20,108 items, power-law item popularity, and
about 10 million interactions (``make_interactions`` merges repeated draws
of popular items, so the requested density of 0.0045 realizes ~0.0034).
Every configuration (method, K) is fitted in a fresh subprocess that loads
the matrix from disk, so the runs do not share caches or heap, and reports:

* the phases of ``grouper.timings_`` (spectrum, kmeans, linking) and their
  sum, plus the wall time of the whole ``fit`` call (validation included);
* the peak resident set size (RSS) of that process during ``fit``: on Linux
  the high-water mark ``VmHWM`` is reset (``/proc/self/clear_refs``) just
  before ``fit`` and read after it, so the number is the largest amount of
  physical memory the process held during the fit, *including* what was
  already resident (Python, numpy/scipy/sklearn/torch libraries, and the
  loaded X).  The RSS just before ``fit`` is printed next to it.  Where the
  reset is not possible, ``ru_maxrss`` of the process (peak over its whole
  life) is reported instead and the table says so.

The paper (Table 6) reports, for ML-20M, 683.6 s for Algorithm 1 (155 s
spectrum + 528.6 s K-means) and 874.4 s for Algorithm 2 (41.3 s + 833.1 s),
on unspecified hardware and without stating K; the ratios printed below are
paper seconds / our seconds.

Usage::

    python benchmarks/bench_grouping.py                      # full run
    python benchmarks/bench_grouping.py --quick              # smoke run, ~30 s
    python benchmarks/bench_grouping.py --ks 15000 --methods laplacian --out table.md
    # before/after in one run: the package of another commit, exported with
    # ``git archive COMMIT sklearn_swdae | tar -x -C /tmp/base``, is fitted
    # first for every configuration, then the working tree's
    python benchmarks/bench_grouping.py --ks 15000 --methods laplacian --baseline-src /tmp/base
    # on a shared VM, several rounds with the codes taking turns; medians are shown
    python benchmarks/bench_grouping.py --ks 15000 --methods laplacian --baseline-src /tmp/base --rounds 3

Each row also reports the K-means inertia (sum of squared distances of the
items to their centroids), so that runs whose seeding differs can be
compared on the objective.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

from _common import ML20M_SHAPE, cpu_description, median_rows, ml20m_shaped, reset_peak_rss, rss_kib

# Table 6 of Khawar, Poon and Zhang (WWW 2020), ML-20M, in seconds.
PAPER = {
    "laplacian": {"spectrum": 155.0, "kmeans": 528.6, "total": 683.6},
    "svd": {"spectrum": 41.3, "kmeans": 833.1, "total": 874.4},
}
ALGORITHM = {"laplacian": "Algorithm 1", "svd": "Algorithm 2"}

QUICK_SHAPE = (10000, 1500)


def worker(args):
    """Fit one configuration and print a JSON line with its measurements."""
    import numpy as np
    import scipy.sparse as sp

    from sklearn_swdae import ItemGrouper

    X = sp.csr_array(sp.load_npz(args.data))
    grouper = ItemGrouper(
        n_clusters=args.k,
        overlap=args.overlap,
        n_components=args.n_components,
        method=args.method,
        solver=args.solver,
        random_state=0,
    )
    rss_before = rss_kib("VmRSS")
    reset = reset_peak_rss()
    tic = time.perf_counter()
    grouper.fit(X)
    wall = time.perf_counter() - tic
    if reset:
        peak_kib, peak_kind = rss_kib("VmHWM"), "VmHWM during fit"
    else:
        peak_kib, peak_kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss of process"
    print(
        json.dumps(
            {
                "method": args.method,
                "k": args.k,
                "r": int(grouper.overlap_),
                "f": args.n_components,
                "solver": args.solver,
                **{k: float(v) for k, v in grouper.timings_.items()},
                "phases": float(sum(grouper.timings_.values())),
                "wall": wall,
                "rss_before_gib": (rss_before or 0) / 2**20,
                "peak_gib": peak_kib / 2**20,
                "peak_kind": peak_kind,
                "max_residual": float(np.max(grouper.spectrum_residuals_)),
                "inertia": float(((grouper.embedding_ - grouper.cluster_centers_[grouper.labels_]) ** 2).sum()),
                "code": os.environ.get("BENCH_CODE_LABEL", "working tree"),
            }
        )
    )


def _versions():
    import numpy
    import scipy
    import sklearn

    import sklearn_swdae

    return {
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "sklearn_swdae": sklearn_swdae.__version__,
        "python": platform.python_version(),
    }


#: What identifies a configuration's rounds, and the fields that vary between them.
_CONFIGURATION = ("method", "k", "code")
_MEASURED = ("spectrum", "kmeans", "linking", "phases", "wall", "peak_gib", "rss_before_gib")


def _table(rows, quick):
    head = (
        "| method | K | R | F | spectrum (s) | K-means (s) | linking (s) | total (s) | fit wall (s) "
        "| peak RSS (GiB) | RSS before fit (GiB) | paper total / ours | paper spectrum / ours "
        "| paper K-means / ours | max residual | inertia | code |"
    )
    sep = "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"
    lines = [head, sep]

    def ratio(paper_seconds, ours):
        return "n/a (quick)" if quick else f"{paper_seconds / ours:.1f}x"

    for r in rows:
        paper = PAPER[r["method"]]
        lines.append(
            f"| {ALGORITHM[r['method']]} ({r['method']}) | {r['k']} | {r['r']} | {r['f']} "
            f"| {r['spectrum']:.1f} | {r['kmeans']:.1f} | {r['linking']:.1f} | {r['phases']:.1f} "
            f"| {r['wall']:.1f} | {r['peak_gib']:.2f} | {r['rss_before_gib']:.2f} "
            f"| {ratio(paper['total'], r['phases'])} | {ratio(paper['spectrum'], r['spectrum'])} "
            f"| {ratio(paper['kmeans'], r['kmeans'])} | {r['max_residual']:.1e} "
            f"| {r['inertia']:.6g} | {r['code']} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1000, 5000, 15000], help="values of K")
    parser.add_argument("--methods", nargs="+", default=["laplacian", "svd"], choices=["laplacian", "svd"])
    parser.add_argument("--overlap", type=float, default=0.1, help="R as a fraction of K (paper: 0.1)")
    parser.add_argument("--n-components", type=int, default=50, help="F (default 50)")
    parser.add_argument("--solver", default="arpack", choices=["arpack", "propack", "randomized"])
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run on a {QUICK_SHAPE} matrix, K scaled to keep K / n_items"
    )
    parser.add_argument("--out", help="also write the markdown table (with run details) to this file")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per configuration")
    parser.add_argument(
        "--baseline-src",
        help="a folder holding another version's sklearn_swdae package, fitted before the working tree's "
        "for every configuration (same data, same run)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="fit every configuration this many times, the codes taking turns; the table shows medians",
    )
    # Internal: one configuration in this process.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1 (fits of each configuration), got {args.rounds}")
    if args.worker:
        return worker(args)

    import scipy.sparse as sp

    n_users, n_items = QUICK_SHAPE if args.quick else ML20M_SHAPE
    # The quick run keeps the ratio K / n_items of the full one.
    ks = [max(2, round(k * n_items / ML20M_SHAPE[1])) for k in args.ks] if args.quick else args.ks
    tic = time.perf_counter()
    X = ml20m_shaped((n_users, n_items))
    gen = time.perf_counter() - tic
    density = X.nnz / (n_users * n_items)
    print(
        f"X: {n_users} users x {n_items} items, {X.nnz} interactions (density {density:.4f}), generated in {gen:.1f} s"
    )
    versions = _versions()
    cpu = cpu_description()
    load = os.getloadavg()
    print(f"CPU: {cpu}; load average before runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(", ".join(f"{k} {v}" for k, v in versions.items()))

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "X.npz")
        sp.save_npz(path, sp.csr_matrix(X), compressed=False)
        del X
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        codes = [("working tree", here)]
        if args.baseline_src:
            codes.insert(0, ("baseline " + os.path.basename(os.path.normpath(args.baseline_src)), args.baseline_src))
        configurations = [
            (method, k, code) for _ in range(args.rounds) for method in args.methods for k in ks for code in codes
        ]
        for method, k, (label, src) in configurations:
            env = {**os.environ, "PYTHONPATH": src, "BENCH_CODE_LABEL": label}
            cmd = [
                sys.executable, os.path.abspath(__file__), "--worker", "--data", path,
                "--method", method, "--k", str(k), "--overlap", str(args.overlap),
                "--n-components", str(args.n_components), "--solver", args.solver,
            ]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"configuration method={method} K={k} failed")
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{label}: {method:9s} K={k:6d} R={row['r']:5d}: spectrum {row['spectrum']:6.1f} s, "
                f"kmeans {row['kmeans']:6.1f} s, linking {row['linking']:5.1f} s, total {row['phases']:6.1f} s, "
                f"peak RSS {row['peak_gib']:.2f} GiB",
                flush=True,
            )

    table = _table(median_rows(rows, _CONFIGURATION, _MEASURED), args.quick)
    load_after = os.getloadavg()
    print()
    print(table)
    peak_kind = rows[0]["peak_kind"] if rows else ""
    notes = (
        f"X: {n_users} x {n_items}, {density:.4f} density; F={args.n_components}, "
        f"R={args.overlap:g}K, solver={args.solver}, random_state=0. Total = spectrum + K-means + linking "
        f"(grouper.timings_); fit wall adds input validation. Peak RSS: {peak_kind}, includes the "
        f"interpreter, libraries and X. Ratios: paper seconds / our seconds (Table 6, ML-20M)."
    )
    if args.rounds > 1:
        notes += f" Times and memory: medians over {args.rounds} rounds, the codes taking turns."
    print(notes)
    if args.out:
        command = "python benchmarks/bench_grouping.py " + " ".join(argv if argv is not None else sys.argv[1:])
        with open(args.out, "w") as f:
            f.write(f"Command: `{command.strip()}`\n\n")
            f.write(f"Machine: {cpu}; load average {load[0]:.2f} before, {load_after[0]:.2f} after the runs\n\n")
            f.write(f"Date: {datetime.date.today().isoformat()}\n\n")
            f.write("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + "\n\n")
            f.write(f"Data: {n_users} x {n_items}, {density:.4f} density, generated by make_interactions\n\n")
            f.write(table + "\n\n" + notes + "\n")


if __name__ == "__main__":
    main()
