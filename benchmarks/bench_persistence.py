"""Size and load time of a saved SW-DAE, and loading files saved by another version.

Trains an SW-DAE on a MovieLens folder (one epoch: the weights' values do
not change the size), saves it with ``joblib.dump`` and reports

* the file size, the bytes of the live weights (float32) and of the
  catalogue-sized arrays at 4 bytes per index (the mask's indices and bool
  data, the grouper's ``item_groups_``, its embedding), and the ratio of the
  file to their sum;
* what each attribute of the estimator takes in the file;
* the load time, the median of ``--repeats`` ``joblib.load`` calls in a
  process that has already imported the package (the import, mostly torch,
  is timed separately).

With ``--baseline-src`` (a folder holding another version's
``sklearn_swdae`` package, e.g. ``git archive 9a6bc00 sklearn_swdae | tar -x
-C /tmp/base``) the same is run with that version first, in its own process,
then the working tree loads the file the other version saved and checks that
it scores the same users the same.

Usage::

    python benchmarks/bench_persistence.py --data PATH/TO/ml-latest-small --baseline-src /tmp/base
"""

import argparse
import datetime
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

from _common import cpu_description


def _model_and_data(data):
    import numpy as np
    import scipy.sparse as sp

    from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
    from sklearn_swdae.datasets import load_movielens

    bunch = load_movielens(data)
    X = sp.csr_array((bunch.data > 0).astype(np.float32))
    model = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=1000, overlap=0.1, n_components=50, random_state=0),
        max_iter=1,
        device="cpu",
        random_state=0,
    )
    return model, X


def _load_times(path, repeats):
    import joblib

    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        model = joblib.load(path)
        times.append(time.perf_counter() - tic)
    return model, times


def worker_save(args):
    tic = time.perf_counter()
    import joblib
    import numpy as np

    from sklearn_swdae.layers import count_parameters

    import_s = time.perf_counter() - tic
    model, X = _model_and_data(args.data)
    model.fit(X)
    joblib.dump(model, args.model)
    np.save(args.model + ".scores.npy", model.decision_function(X[:200]))
    size = os.path.getsize(args.model)
    n_links = model.connectivity_.nnz
    weights = 4 * count_parameters(model.module_)
    embedding = model.grouper_.embedding_.nbytes if model.grouper_ is not None else 0
    catalogue = 5 * n_links + 4 * n_links + embedding
    state = model.__getstate__()
    parts = {key: len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) for key, value in state.items()}
    _, times = _load_times(args.model, args.repeats)
    print(
        json.dumps(
            {
                "code": os.environ.get("BENCH_CODE_LABEL", "working tree"),
                "file_mb": size / 1e6,
                "live_weights": count_parameters(model.module_),
                "weights_mb": weights / 1e6,
                "catalogue_mb": catalogue / 1e6,
                "ratio": size / (weights + catalogue),
                "ratio_to_weights": size / weights,
                "parts_mb": {k: v / 1e6 for k, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v > 1e5},
                "import_s": import_s,
                "load_s": statistics.median(times),
                "load_s_all": times,
            }
        )
    )


def worker_load(args):
    import numpy as np

    import sklearn_swdae.autoencoders  # noqa: F401  (imported before the loads are timed)

    model, times = _load_times(args.model, args.repeats)
    _, X = _model_and_data(args.data)
    saved = np.load(args.model + ".scores.npy")
    scores = model.decision_function(X[:200])
    print(
        json.dumps(
            {
                "code": os.environ.get("BENCH_CODE_LABEL", "working tree"),
                "load_s": statistics.median(times),
                "load_s_all": times,
                "max_abs_score_diff": float(np.abs(scores - saved).max()),
            }
        )
    )


def _run(mode, src, label, args, model):
    env = {**os.environ, "PYTHONPATH": src, "BENCH_CODE_LABEL": label}
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", mode, "--data", args.data,
        "--model", model, "--repeats", str(args.repeats),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"{mode} with {label} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a MovieLens folder (e.g. ml-latest-small)")
    parser.add_argument("--baseline-src", help="folder with another version's sklearn_swdae package")
    parser.add_argument("--repeats", type=int, default=5, help="loads timed per file (median reported)")
    parser.add_argument("--worker", choices=["save", "load"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "save":
        return worker_save(args)
    if args.worker == "load":
        return worker_load(args)

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    load_before = os.getloadavg()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        codes = [("working tree", here)]
        if args.baseline_src:
            label = "baseline " + os.path.basename(os.path.normpath(args.baseline_src))
            codes.insert(0, (label, args.baseline_src))
        files = {}
        for label, src in codes:
            files[label] = os.path.join(tmp, f"model{len(files)}.joblib")
            row = _run("save", src, label, args, files[label])
            lines.append(
                f"| {label} | {row['file_mb']:.1f} | {row['live_weights']:,} | {row['weights_mb']:.2f} "
                f"| {row['catalogue_mb']:.2f} | {row['ratio']:.2f} | {row['ratio_to_weights']:.2f} "
                f"| {row['load_s']:.2f} | {row['import_s']:.1f} |"
            )
            print(json.dumps(row), flush=True)
        if args.baseline_src:
            baseline = codes[0][0]
            row = _run("load", here, "working tree", args, files[baseline])
            print(json.dumps(row), flush=True)
            lines.append(
                f"| working tree loading the file of {baseline} | | | | | | | {row['load_s']:.2f} | "
                f"(max abs score difference {row['max_abs_score_diff']:.1e}) |"
            )
    head = (
        "| code | file (MB) | live weights | weights (MB) | catalogue arrays (MB) | file / (weights + catalogue) "
        "| file / weights | load (s, median) | import (s) |\n|---|---|---|---|---|---|---|---|---|"
    )
    load_after = os.getloadavg()
    print(f"\n{head}\n" + "\n".join(lines))
    print(
        f"\n{cpu_description()}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
        f"{datetime.date.today().isoformat()}"
    )


if __name__ == "__main__":
    main()
