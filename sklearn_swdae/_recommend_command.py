"""The ``swdae recommend`` command: the model file, the histories, the item names, the lists."""

import csv
import json
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp

from ._commands import MODEL_FILE_KIND, CommandError, say
from ._version import __version__
from .datasets._movielens import _read_movies_csv, _read_movies_dat, _read_u_item


def read_history(path, item_ids):
    """A CSV of ``user,item`` rows (original ids, header optional) as a CSR matrix."""
    position = {str(item): j for j, item in enumerate(item_ids)}
    users, rows, cols, unknown = {}, [], [], set()
    try:
        with open(path, newline="") as fh:
            reader = csv.reader(fh)
            for number, row in enumerate(reader, start=1):
                if not row or (number == 1 and row[0].strip().lower() in {"user", "user_id", "userid"}):
                    continue
                if len(row) < 2:
                    raise CommandError(f"{path}, line {number}: expected 'user,item', got {','.join(row)!r}.")
                user, item = row[0].strip(), row[1].strip()
                if item not in position:
                    unknown.add(item)
                    users.setdefault(user, len(users))
                    continue
                rows.append(users.setdefault(user, len(users)))
                cols.append(position[item])
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise CommandError(f"cannot read --history {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise CommandError(f"--history {path} is not a text CSV file.") from None
    if not users:
        raise CommandError(f"--history {path} holds no 'user,item' row.")
    if unknown:
        unknown = sorted(unknown)
        say(
            f"warning: {len(unknown)} item id(s) of the history are unknown to the model and "
            f"ignored: {first_few(unknown)}"
        )
    X = sp.csr_array((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(item_ids)))
    X.sum_duplicates()
    X.data[:] = 1.0
    names = list(users)
    empty = [names[u] for u in np.flatnonzero(np.diff(X.indptr) == 0)]
    if empty:
        say(
            f"warning: {len(empty)} user(s) have no item known to the model ({first_few(empty)}); "
            "their lists are what the model gives an empty history (close to the most popular "
            "items), not personalized"
        )
    return names, X


def first_few(values, shown=5):
    text = ", ".join(str(v) for v in values[:shown])
    return text + (f" and {len(values) - shown} more" if len(values) > shown else "")


def read_item_names(path):
    """{item id as str: name} from --item-names.

    A MovieLens folder or movies file (``u.item``, ``movies.dat``,
    ``movies.csv``), else a CSV whose first column is the item id and second
    the name (a header line is allowed).
    """
    path = Path(path)
    if path.is_dir():
        for name in ("movies.csv", "movies.dat", "u.item"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise CommandError(f"--item-names {path} is a folder without movies.csv, movies.dat or u.item.")
    if not path.is_file():
        raise CommandError(f"--item-names {path} does not exist.")
    readers = {"movies.csv": _read_movies_csv, "movies.dat": _read_movies_dat}
    if path.name == "u.item":
        movies, _ = _read_u_item(path.parent)
    elif path.name in readers:
        movies, _ = readers[path.name](path)
    else:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = [row for row in csv.reader(fh) if row]
        except UnicodeDecodeError:
            raise CommandError(f"--item-names {path} is not a UTF-8 CSV file.") from None
        bad = next((number for number, row in enumerate(rows, start=1) if len(row) < 2), None)
        if bad is not None:
            raise CommandError(f"{path}, line {bad}: expected 'item,name'.")
        return {row[0].strip(): row[1].strip() for row in rows}
    return {str(movie): title for movie, (title, _) in movies.items()}


def item_titles(args, bundle, item_ids):
    """Titles aligned with item_ids (None where unknown), or None without any."""
    if args.item_names:
        names = read_item_names(args.item_names)
        titles = np.array([names.get(str(item)) for item in item_ids.tolist()], dtype=object)
        if all(title is None for title in titles):
            raise CommandError(f"--item-names {args.item_names} names none of the model's item ids.")
        return titles
    titles = bundle.get("item_titles")
    return None if titles is None else np.asarray(titles, dtype=object)


def cmd_recommend(args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bundle = joblib.load(args.model)
    except FileNotFoundError:
        raise CommandError(f"--model {args.model} does not exist.") from None
    except Exception:  # joblib raises many kinds on a foreign file
        raise CommandError(f"--model {args.model} is not a model saved by 'swdae fit'.") from None
    if not isinstance(bundle, dict) or bundle.get("kind") != MODEL_FILE_KIND:
        raise CommandError(f"--model {args.model} is not a model saved by 'swdae fit'.")
    if bundle["version"] != __version__:
        say(f"warning: model saved by sklearn-swdae {bundle['version']}, running {__version__}")
    model, item_ids = bundle["model"], np.asarray(bundle["item_ids"])
    titles = item_titles(args, bundle, item_ids)
    users, X = read_history(args.history, item_ids)
    top_n = args.top_n
    if not 1 <= top_n <= len(item_ids):
        raise CommandError(f"--top-n must be between 1 and the number of items ({len(item_ids)}), got {top_n}.")
    items, scores = model.recommend(X, top_n=top_n, return_scores=True)
    fields = ["user", "rank", "item", "score"] + ([] if titles is None else ["title"])
    records = []
    for user, row, row_scores in zip(users, items, scores):
        for rank, (j, score) in enumerate(zip(row, row_scores)):
            if j >= len(item_ids):  # padding: the user has no more unseen items
                break
            item = item_ids[j]
            item = item.item() if isinstance(item, np.generic) else item
            record = {"user": user, "rank": rank + 1, "item": item, "score": float(score)}
            if titles is not None:
                record["title"] = titles[j] if titles[j] is not None else ""
            records.append(record)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        if args.output_format == "json":
            json.dump(records, out, indent=1)
            out.write("\n")
        else:
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(records)
    finally:
        if out is not sys.stdout:
            out.close()
