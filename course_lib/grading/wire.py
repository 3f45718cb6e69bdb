"""The message format between the grader and a submission's sandbox process: JSON plus ``.npy``.

Nothing is ever unpickled. A message is one frame holding a JSON envelope followed by zero or
more frames holding arrays in NumPy's ``.npy`` format, read back with ``allow_pickle=False`` (an
object array is refused). Every frame starts with an 8-byte big-endian length; lengths are capped
(:data:`MAX_ENVELOPE`, :data:`MAX_ARRAY`, :data:`MAX_MESSAGE`) so a hostile peer cannot make the
reader allocate without bound.

Values that travel: ``None``, bools, ints, floats (NaN and inf included), strings, lists, tuples,
dicts with string keys, NumPy arrays and scalars, dtypes, and -- from the grader to the
submission only -- callables, which become callback handles (``{"$cb": n}``) that the sandbox
calls back through the same pipe.

This module imports only the standard library and NumPy: the sandbox loads it as a plain file,
without the grader's package.
"""
from __future__ import annotations

import io
import json
import os
import struct

import numpy as np

MAX_ENVELOPE = 4 << 20    # bytes of JSON in one message
MAX_ARRAY = 512 << 20     # bytes of one .npy frame
MAX_MESSAGE = 1 << 30     # bytes of one message, all frames together
MAX_ARRAYS = 4096         # arrays in one message
MAX_DEPTH = 32            # nesting of lists/tuples/dicts


class WireError(Exception):
    """The peer sent something that is not a well-formed message (or closed the pipe)."""


class PeerClosed(WireError):
    """The pipe closed: the other process exited or was killed."""


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        b = os.read(fd, min(n - got, 1 << 20))
        if not b:
            raise PeerClosed("the other process closed the pipe")
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def encode(value, arrays: list, callbacks: dict | None = None, depth: int = 0):
    """``value`` -> JSON-able structure; arrays go to ``arrays``, callables to ``callbacks``."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply to send")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        if isinstance(value, float):
            return {"$f": repr(value)}  # repr keeps nan/inf and every bit of the value
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise WireError("object arrays cannot be sent; use a numeric dtype")
        arrays.append(value)
        return {"$a": len(arrays) - 1}
    if isinstance(value, np.generic):
        arrays.append(np.asarray(value))
        return {"$s": len(arrays) - 1}
    if isinstance(value, np.dtype):
        return {"$d": value.str}
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"$d": np.dtype(value).str}
    if isinstance(value, tuple):
        return {"$t": [encode(v, arrays, callbacks, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays, callbacks, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError("only dicts with string keys can be sent")
        return {"$m": {k: encode(v, arrays, callbacks, depth + 1) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"$sl": [encode(v, arrays, callbacks, depth + 1)
                        for v in (value.start, value.stop, value.step)]}
    if callable(value) and callbacks is not None:
        key = len(callbacks)
        callbacks[key] = value
        return {"$cb": key}
    raise WireError(f"a value of type {type(value).__name__} cannot be sent between the grader "
                    "and the submission (use arrays, numbers, strings, tuples, lists, dicts)")


def decode(obj, arrays: list, make_callback=None, depth: int = 0):
    """Inverse of :func:`encode`; ``make_callback(n)`` builds the stand-in for a callback."""
    if depth > MAX_DEPTH:
        raise WireError("message nested too deeply")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, list):
        return [decode(v, arrays, make_callback, depth + 1) for v in obj]
    if isinstance(obj, dict) and len(obj) == 1:
        (tag, v), = obj.items()
        if tag == "$f" and isinstance(v, str):
            return float(v)
        if tag in ("$a", "$s") and isinstance(v, int) and 0 <= v < len(arrays):
            return arrays[v] if tag == "$a" else arrays[v][()]
        if tag == "$d" and isinstance(v, str):
            return np.dtype(v)
        if tag == "$t" and isinstance(v, list):
            return tuple(decode(x, arrays, make_callback, depth + 1) for x in v)
        if tag == "$m" and isinstance(v, dict):
            return {str(k): decode(x, arrays, make_callback, depth + 1) for k, x in v.items()}
        if tag == "$sl" and isinstance(v, list) and len(v) == 3:
            return slice(*(decode(x, arrays, make_callback, depth + 1) for x in v))
        if tag == "$cb" and isinstance(v, int) and make_callback is not None:
            return make_callback(v)
    raise WireError("malformed value in message")


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a) if a.ndim else a, allow_pickle=False)
    return buf.getvalue()


def send(fd: int, envelope: dict, arrays: list) -> None:
    """Write one message: the JSON envelope, then each array as ``.npy``."""
    if len(arrays) > MAX_ARRAYS:
        raise WireError(f"too many arrays in one message ({len(arrays)})")
    head = json.dumps(dict(envelope, n_arrays=len(arrays))).encode()
    if len(head) > MAX_ENVELOPE:
        raise WireError("message too large")
    frames = [head] + [_npy_bytes(a) for a in arrays]
    for f in frames[1:]:
        if len(f) > MAX_ARRAY:
            raise WireError(f"array too large to send ({len(f)} bytes)")
    _write_all(fd, b"".join(struct.pack(">Q", len(f)) + f for f in frames))


def receive(fd: int) -> tuple[dict, list]:
    """Read one message; return (envelope, arrays). Raises :class:`WireError` on anything odd."""
    (n,) = struct.unpack(">Q", _read_exact(fd, 8))
    if n > MAX_ENVELOPE:
        raise WireError("message envelope too large")
    try:
        envelope = json.loads(_read_exact(fd, n))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WireError("message envelope is not JSON") from None
    if not isinstance(envelope, dict):
        raise WireError("message envelope is not an object")
    count = envelope.get("n_arrays", 0)
    if not isinstance(count, int) or not 0 <= count <= MAX_ARRAYS:
        raise WireError("bad array count")
    arrays, total = [], n
    for _ in range(count):
        (m,) = struct.unpack(">Q", _read_exact(fd, 8))
        total += m
        if m > MAX_ARRAY or total > MAX_MESSAGE:
            raise WireError("array frame too large")
        try:
            a = np.load(io.BytesIO(_read_exact(fd, m)), allow_pickle=False)
        except PeerClosed:
            raise
        except Exception as e:  # noqa: BLE001 - any malformed .npy is a protocol error
            raise WireError(f"bad array frame: {type(e).__name__}") from None
        if not isinstance(a, np.ndarray) or a.dtype.hasobject:
            raise WireError("bad array frame")
        arrays.append(a)
    return envelope, arrays
