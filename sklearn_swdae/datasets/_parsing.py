"""Fast, vectorized parsing of large delimited text files (private).

The interaction logs of recommender datasets are tens of millions of short
lines such as ``1,2,3.5,1112486027``.  Parsing them line by line in Python
(``csv``, ``str.split``) runs at a few hundred thousand rows per second, and
:func:`numpy.loadtxt` reads numbers only.  Here a file is read in blocks of whole lines and
each block is parsed with a handful of numpy passes over its bytes: the
positions of separators and newlines give every field's byte range, and
integer, decimal and string fields are decoded column-wise, a character
position at a time.  Only rows that fail the vectorized decoding go through
Python (and they raise an error naming the file and line unless Python's
``float`` accepts them, e.g. ``1e3``).  Blocks that contain a double quote
are parsed with the :mod:`csv` module instead, which handles quoted fields.

Every block is a :class:`_Chunk`: bytes made of complete lines, each ending
in ``\\n``, with carriage returns removed, that remembers which file and
line its lines come from so that errors can point at them.
"""

import csv
import gzip
import io
from pathlib import Path

import numpy as np

#: Bytes read per block; whole lines are kept together.
_CHUNK_BYTES = 32 * 2**20

_NEWLINE = 10
_QUOTE = b'"'


def _location(path, line):
    return f"{path}, line {line}"


class _Chunk:
    """Complete lines (each ending in ``\\n``) and where they come from.

    ``sources`` lists ``(first_line_index, path, first_line_number)``:
    lines from index ``first_line_index`` of the chunk on come from ``path``
    and start at (1-based) ``first_line_number`` there.
    """

    __slots__ = ("data", "sources", "n_lines")

    def __init__(self, data, sources, n_lines=None):
        self.data = data
        self.sources = sources
        self.n_lines = data.count(b"\n") if n_lines is None else n_lines

    def where(self, line_index):
        """'path, line N' of the chunk's line number ``line_index``."""
        starts = [s[0] for s in self.sources]
        k = int(np.searchsorted(starts, line_index, side="right")) - 1
        first_index, path, first_line = self.sources[max(k, 0)]
        return _location(path, first_line + int(line_index) - first_index)

    def line_text(self, line_index, limit=80):
        """The text of a line, shortened, for error messages."""
        lines = self.data.split(b"\n", int(line_index) + 1)
        text = lines[int(line_index)] if int(line_index) < len(lines) else b""
        text = text.decode("utf-8", errors="replace")
        return text if len(text) <= limit else text[:limit] + "..."

    def pop_first_line(self):
        """Return the first line (bytes, no newline) and the rest as a chunk."""
        end = self.data.index(b"\n")
        first_index, path, first_line = self.sources[0]
        sources = [(i - 1, p, n) for i, p, n in self.sources[1:]]
        rest = _Chunk(self.data[end + 1 :], [(0, path, first_line + 1)] + sources, self.n_lines - 1)
        return self.data[:end], rest


def _check_file(path):
    """Return ``path`` as a :class:`~pathlib.Path` to an existing file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No such file: '{path}'.")
    if not path.is_file():
        raise ValueError(f"'{path}' is not a file.")
    return path


def _open_binary(path):
    """Open a file for reading bytes, decompressing it if it is gzipped."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _iter_chunks(path, chunk_bytes=None):
    """Yield the lines of a (possibly gzipped) text file as :class:`_Chunk`.

    Blocks hold about ``chunk_bytes`` bytes (default ``_CHUNK_BYTES``).
    Raises ValueError naming the file when it holds no bytes at all.
    """
    path = _check_file(path)
    chunk_bytes = chunk_bytes or _CHUNK_BYTES
    first_line = 1
    rest = b""
    seen_bytes = False
    with _open_binary(path) as f:
        while True:
            block = f.read(chunk_bytes)
            if block:
                seen_bytes = True
            data = rest + block
            if not block:
                if data:
                    if not data.endswith(b"\n"):
                        data += b"\n"
                    yield _make_chunk(data, path, first_line)
                break
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1 :]
            chunk = _make_chunk(data[: cut + 1], path, first_line)
            first_line += chunk.n_lines
            yield chunk
    if not seen_bytes:
        raise ValueError(f"'{path}' is empty.")


def _make_chunk(data, path, first_line):
    if b"\r" in data:
        data = data.replace(b"\r", b"")
    return _Chunk(data, [(0, path, first_line)])


def _decode_header(line):
    """Decode a header line (UTF-8 with optional BOM, else Latin-1)."""
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _split_header(text, sep):
    """Split a header line into stripped column names (quotes allowed)."""
    if len(sep) == 1:
        names = next(csv.reader([text], delimiter=sep))
    else:
        names = text.split(sep)
    return [name.strip() for name in names]


def _line_bounds(buf):
    """Newline positions and line starts of a buffer ending in a newline."""
    newlines = np.flatnonzero(buf == _NEWLINE)
    starts = np.empty_like(newlines)
    if newlines.size:
        starts[0] = 0
        starts[1:] = newlines[:-1] + 1
    return starts, newlines


def _separator_byte(data, sep):
    """Return (data, byte) with a multi-character ``sep`` replaced by a byte."""
    sep_bytes = sep.encode("utf-8")
    if len(sep_bytes) == 1:
        return data, sep_bytes[0]
    for candidate in (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x01"):
        if candidate not in data:
            return data.replace(sep_bytes, candidate), candidate[0]
    raise ValueError(f"Cannot parse a block with separator {sep!r}: every placeholder byte is in use.")


class _Fields:
    """Byte ranges of the fields of a block's non-empty lines.

    ``ends`` has shape (n_rows, n_fields); field ``k`` of row ``i`` ends at
    ``ends[i, k]`` (exclusive) and starts at ``starts[i, k]``, or, when
    ``starts`` is None, right after the previous field's end (the line's
    start for the first field, after the previous line's newline).
    ``lines[i]`` is the index of row ``i``'s line in the chunk (for error
    messages), or None when rows are the chunk's lines.
    """

    __slots__ = ("buf", "starts", "ends", "lines", "chunk")

    def __init__(self, buf, starts, ends, lines, chunk):
        self.buf = buf
        self.starts = starts
        self.ends = ends
        self.lines = lines
        self.chunk = chunk

    def __len__(self):
        return self.ends.shape[0]

    def column(self, k):
        """Contiguous ``(starts, ends)`` of field ``k`` of every row."""
        ends = np.ascontiguousarray(self.ends[:, k])
        if self.starts is not None:
            return np.ascontiguousarray(self.starts[:, k]), ends
        if k > 0:
            return self.ends[:, k - 1] + 1, ends
        starts = np.empty_like(ends)
        if starts.size:
            starts[0] = 0
            starts[1:] = self.ends[:-1, -1] + 1
        return starts, ends

    def where(self, row):
        return self.chunk.where(row if self.lines is None else self.lines[row])


def _split_fields(chunk, sep, n_fields):
    """Split every non-empty line of a chunk into exactly ``n_fields`` fields.

    Empty lines are skipped.  A line with another number of fields raises
    ValueError naming the file and line.  Blocks that contain a double quote
    are parsed with the :mod:`csv` module so that quoted fields may hold the
    separator.
    """
    if len(sep) == 1 and _QUOTE in chunk.data:
        return _split_fields_csv(chunk, sep, n_fields)
    data, sep_byte = _separator_byte(chunk.data, sep)
    buf = _padded_buffer(data)
    body = buf[: len(data)]
    # Fast path: the separators and newlines, in order, must come in groups
    # of n_fields - 1 separators closed by a newline.  Then every line has
    # exactly n_fields fields (and none is empty).
    boundaries = np.flatnonzero((body == sep_byte) | (body == _NEWLINE))
    if boundaries.size % n_fields == 0:
        ends = boundaries.reshape(-1, n_fields)
        if chunk.n_lines == ends.shape[0] and np.all(body[ends[:, -1]] == _NEWLINE):
            return _Fields(buf, None, ends, None, chunk)
    line_starts, newlines = _line_bounds(body)
    nonempty = newlines > line_starts
    seps = np.flatnonzero(body == sep_byte)
    per_line = np.diff(np.searchsorted(seps, newlines), prepend=0)
    bad = nonempty & (per_line != n_fields - 1)
    if bad.any():
        line = int(np.argmax(bad))
        raise ValueError(
            f"{chunk.where(line)}: expected {n_fields} fields separated by {sep!r}, "
            f"found {int(per_line[line]) + 1}: {chunk.line_text(line)!r}"
        )
    rows = np.flatnonzero(nonempty)
    seps = seps.reshape(rows.size, n_fields - 1)
    starts = np.empty((rows.size, n_fields), dtype=np.int64)
    ends = np.empty((rows.size, n_fields), dtype=np.int64)
    starts[:, 0] = line_starts[rows]
    starts[:, 1:] = seps + 1
    ends[:, :-1] = seps
    ends[:, -1] = newlines[rows]
    return _Fields(buf, starts, ends, rows, chunk)


def _split_fields_csv(chunk, sep, n_fields):
    """:func:`_split_fields` for blocks with quoted fields, via :mod:`csv`."""
    # Latin-1 maps bytes to code points one to one, so fields keep their
    # exact bytes (UTF-8 included) after the round trip.
    text = chunk.data.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    pieces, lines = [], []
    try:
        for row in reader:
            line = reader.line_num - 1
            if not row:
                continue
            if len(row) != n_fields:
                raise ValueError(
                    f"{chunk.where(line)}: expected {n_fields} fields separated by {sep!r}, "
                    f"found {len(row)}: {chunk.line_text(line)!r}"
                )
            pieces.extend(row)
            lines.append(line)
    except csv.Error as exc:
        line = reader.line_num - 1
        raise ValueError(f"{chunk.where(line)}: {exc}: {chunk.line_text(line)!r}") from None
    encoded = [piece.encode("latin-1") for piece in pieces]
    lengths = np.fromiter((len(piece) for piece in encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    buf = _padded_buffer(b"\n".join(encoded) + b"\n")
    starts = starts.reshape(-1, n_fields)
    ends = starts + lengths.reshape(-1, n_fields)
    return _Fields(buf, starts, ends, np.asarray(lines, dtype=np.int64), chunk)


def _padded_buffer(data):
    """A uint8 array of ``data`` followed by ``_PAD`` zero bytes.

    The padding lets :func:`_windows` read up to ``_PAD`` bytes from any
    field start without running off the end.
    """
    buf = np.zeros(len(data) + _PAD, dtype=np.uint8)
    buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    return buf


#: Zero bytes after every parsed buffer; fields up to this width are read
#: through a strided window view, wider ones by an explicit gather.
_PAD = 64


def _windows(buf, starts, width):
    """The ``width`` bytes from each start, as a (n, width) uint8 array.

    Bytes past a field's end are garbage (the next fields); callers mask
    them with the field lengths.
    """
    if starts.size == 0:
        return np.zeros((0, width), dtype=np.uint8)
    if width <= _PAD and int(starts.max()) + width <= buf.size:
        return np.lib.stride_tricks.sliding_window_view(buf, width)[starts]
    index = np.minimum(starts[:, None] + np.arange(width), buf.size - 1)
    return buf[index]


def _digit_strings(buf, starts, ends):
    """Value of fields made of ASCII digits only (leading zeros allowed).

    Returns ``(values, ok)``; ``ok`` is False for empty fields, fields with
    a non-digit, and fields over 18 characters.  Values of those fields
    are 0.
    """
    lengths = ends - starts
    n = lengths.size
    ok = (lengths > 0) & (lengths <= 18)
    width = int(min(lengths.max(initial=0), 18))
    values = np.zeros(n, dtype=np.int64)
    # Horner's rule over right-aligned characters: position j of the last
    # ``width`` bytes of a field is a digit of it when j >= width - length.
    window_starts = ends - width
    near_front = window_starts < 0  # only fields in the first bytes
    np.maximum(window_starts, 0, out=window_starts)
    for j in range(width):
        digit = buf[window_starts + j] - np.uint8(48)
        inside = lengths >= width - j
        ok &= ~inside | (digit < 10)
        digit *= inside
        values *= 10
        values += digit
    for row in np.flatnonzero(near_front & (lengths > 0)):
        text = bytes(buf[starts[row] : ends[row]])
        ok[row] = text.isascii() and text.isdigit() and len(text) <= 18
        values[row] = int(text) if ok[row] else 0
    values[~ok] = 0
    return values, ok


def _parse_ints(buf, starts, ends):
    """Decode canonical non-negative decimal integers (up to 18 digits).

    Returns ``(values, ok)``: ``ok`` is False for fields that are empty,
    longer than 18 characters, hold a non-digit, or have a leading zero
    (``"007"`` is not the same identifier as ``"7"``).
    """
    values, ok = _digit_strings(buf, starts, ends)
    leading_zero = (buf[starts] == 48) & (ends - starts > 1)
    ok &= ~leading_zero
    values[~ok] = 0
    return values, ok


def _parse_decimals(buf, starts, ends):
    """Decode unsigned decimal numbers like ``4``, ``3.5``, ``.5`` or ``2.``.

    Empty fields become NaN.  Returns ``(values, bad)``: ``bad`` marks the
    fields that are not of that simple form (for example ``-1``, ``1e3``,
    ``nan``, text, or over 15 characters); their values are undefined and
    :func:`_parse_float_column` passes them to Python's ``float``.  The
    result equals Python's ``float``: an exact integer (below 2**53) divided
    by an exact power of ten, correctly rounded.
    """
    lengths = ends - starts
    n = lengths.size
    bad = lengths > 15
    width = int(min(lengths.max(initial=0), 15))
    mantissa = np.zeros(n, dtype=np.int64)
    frac_digits = np.zeros(n, dtype=np.int64)
    n_digits = np.zeros(n, dtype=np.int64)
    seen_dot = np.zeros(n, dtype=bool)
    for j in range(width):
        char = buf[starts + j]
        active = lengths > j
        digit = char - np.uint8(48)
        is_digit = active & (digit < 10)
        is_dot = active & (char == 46)
        bad |= active & ~is_digit & ~is_dot
        bad |= is_dot & seen_dot
        digit *= is_digit
        mantissa *= np.where(is_digit, 10, 1)
        mantissa += digit
        frac_digits += is_digit & seen_dot
        n_digits += is_digit
        seen_dot |= is_dot
    bad |= (n_digits == 0) & (lengths > 0)
    values = mantissa / 10.0**frac_digits
    values[lengths == 0] = np.nan
    return values, bad


def _field_text(buf, start, end):
    return bytes(buf[start:end]).decode("utf-8", errors="replace")


def _parse_float_column(fields, column, what):
    """Decimal values of a field column; empty fields are NaN.

    Fields that are not plain decimals go through Python's ``float``; if
    that fails too, ValueError names the file, line and column.
    """
    starts, ends = fields.column(column)
    values, bad = _parse_decimals(fields.buf, starts, ends)
    for row in np.flatnonzero(bad):
        text = _field_text(fields.buf, starts[row], ends[row])
        try:
            values[row] = float(text)
        except ValueError:
            raise ValueError(f"{fields.where(row)}: {what} {text!r} is not a number.") from None
        if np.isinf(values[row]):
            # NaN (an empty field) means "unknown"; infinity means a corrupt file.
            raise ValueError(
                f"{fields.where(row)}: {what} {text!r} is infinite; values must be finite "
                "numbers (leave the field empty for an unknown value)."
            )
    return values


def _gather_bytes(buf, starts, ends):
    """The fields as a fixed-width bytes (``S``) array."""
    lengths = ends - starts
    width = max(int(lengths.max(initial=0)), 1)
    chars = _windows(buf, starts, width) * (np.arange(width) < lengths[:, None])
    return np.ascontiguousarray(chars, dtype=np.uint8).view(f"S{width}").ravel()


def _mix64(x):
    """The splitmix64 finalizer (a good 64-bit hash mixer)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _factorize_bytes(values):
    """Sorted unique values of a bytes array and each value's index in them.

    Sorting long byte strings is slow, so the values are hashed to 64 bits
    and the hashes are sorted; a full comparison then confirms there was no
    collision (else it falls back to sorting the strings).
    """
    n = values.size
    width = values.dtype.itemsize
    padded = -(-width // 8) * 8
    words = np.ascontiguousarray(values.astype(f"S{padded}")).view(np.uint64).reshape(n, padded // 8)
    hashes = np.full(n, 0x9E3779B97F4A7C15, dtype=np.uint64)
    for k in range(words.shape[1]):
        hashes = _mix64(hashes ^ words[:, k])
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    representatives = values[first]
    if not np.array_equal(representatives[inverse], values):  # pragma: no cover - 64-bit collision
        uniques, inverse = np.unique(values, return_inverse=True)
        return uniques, inverse.astype(np.int64)
    order = np.argsort(representatives, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return representatives[order], rank[inverse].astype(np.int64)


def _factorize_ints(values):
    """Sorted unique values of a non-negative int64 array and the codes."""
    if values.size == 0:
        return values, values.astype(np.int64)
    top = int(values.max())
    if top <= 8 * values.size + 2**20:
        present = np.zeros(top + 1, dtype=bool)
        present[values] = True
        uniques = np.flatnonzero(present)
        code_of = np.cumsum(present, dtype=np.int64) - 1
        return uniques.astype(np.int64), code_of[values]
    uniques, inverse = np.unique(values, return_inverse=True)
    return uniques, inverse.astype(np.int64)


def _decode_ids(values):
    """Decode a bytes array to an object array of str (UTF-8, else Latin-1)."""
    out = np.empty(values.size, dtype=object)
    for i, value in enumerate(values.tolist()):
        try:
            out[i] = value.decode("utf-8")
        except UnicodeDecodeError:
            out[i] = value.decode("latin-1")
    return out


class _IdColumn:
    """Accumulates an identifier column block by block and factorizes it.

    Identifiers that are all canonical non-negative integers come back as an
    int64 array; otherwise every identifier is kept as text (object array of
    str).  Either way they are sorted, and ``codes[k]`` is the position of
    the k-th row's identifier in them.
    """

    def __init__(self, what):
        self.what = what
        self._parts = []

    def add_fields(self, fields, column):
        starts, ends = fields.column(column)
        empty = ends == starts
        if empty.any():
            row = int(np.argmax(empty))
            raise ValueError(f"{fields.where(row)}: the {self.what} is empty.")
        self.add_range(fields.buf, starts, ends)

    def add_range(self, buf, starts, ends):
        # Cheap tests first: text ids (song ids, hashes) skip the int parser.
        maybe_ints = (ends - starts).max(initial=0) <= 18 and np.all(buf[starts] - np.uint8(48) < 10)
        if maybe_ints:
            values, ok = _parse_ints(buf, starts, ends)
            if ok.all():
                self._parts.append(("int", values))
                return
        self._parts.append(("str",) + _factorize_bytes(_gather_bytes(buf, starts, ends)))

    def add_values(self, values):
        """Add an array of non-negative integer ids."""
        self._parts.append(("int", np.asarray(values, dtype=np.int64)))

    def finish(self):
        """Return ``(ids, codes)``."""
        if all(part[0] == "int" for part in self._parts):
            values = np.concatenate([part[1] for part in self._parts]) if self._parts else np.empty(0, np.int64)
            return _factorize_ints(values)
        uniques, codes = [], []
        for part in self._parts:
            if part[0] == "int":
                part = ("str",) + _factorize_bytes(part[1].astype("S20"))
            uniques.append(part[1])
            codes.append(part[2])
        width = max(u.dtype.itemsize for u in uniques)
        all_uniques = np.concatenate([u.astype(f"S{width}") for u in uniques])
        global_uniques, global_codes = _factorize_bytes(all_uniques)
        offsets = np.cumsum([0] + [u.size for u in uniques])
        codes = np.concatenate(
            [global_codes[offsets[k] : offsets[k + 1]][part_codes] for k, part_codes in enumerate(codes)]
        )
        return _decode_ids(global_uniques), codes
