"""Markdown tables from the JSON lines written by ``bench_movielens.py --out``.

Usage::

    python benchmarks/report_movielens.py benchmarks/results/ml-1m.jsonl [...]
"""

import json
import sys

METRICS = ("recall@20", "recall@50", "ndcg@100")


def _cell(result, metric):
    return f"{result[metric]:.4f} ± {result[metric + '_se']:.4f}"


def report(path):
    records = [json.loads(line) for line in open(path)]
    meta = next(r["meta"] for r in records if "meta" in r)
    lines = [
        f"**{meta['dataset']}**: {meta['users']} users after preprocessing, "
        f"{meta['items_after_split']} items seen by training users, {meta['train_users']} training / "
        f"{meta['validation_users']} validation / {meta['test_users']} test users.",
        "",
        "Validation users (every configuration):",
        "",
        "| K | loss | normalize | best epoch | fit s | Recall@20 | Recall@50 | NDCG@100 |",
        "|---|---|---|---:|---:|---|---|---|",
    ]
    for r in records:
        if r.get("model") == "SW-DAE" and "K" in r:
            cells = " | ".join(_cell(r["validation"], m) for m in METRICS)
            lines.append(
                f"| {r['K']} | {r['loss']} | {r['normalize']} | {r['best_epoch']} | {r['fit_seconds']} | {cells} |"
            )
    tests = [r for r in records if "test" in r]
    if tests:
        lines += [
            "",
            f"Test users ({tests[0]['test']['n_users']} with held-out items), evaluated once:",
            "",
            "| model | configuration | Recall@20 | Recall@50 | NDCG@100 |",
            "|---|---|---|---|---|",
        ]
        for r in tests:
            config = r.get("selected")
            config = ", ".join(f"{k}={v}" for k, v in config.items()) if config else "-"
            cells = " | ".join(_cell(r["test"], m) for m in METRICS)
            lines.append(f"| {r['model']} | {config} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(report(path) for path in sys.argv[1:]))
