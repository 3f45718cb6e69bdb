"""Checks for CUDA kernel exercises: untouched outputs, memory errors, unchanged inputs.

A kernel exercise's tests fill the output with NaN before the launch. A stub kernel (its body
only a ``// TODO`` comment) writes nothing, so the output is still all NaN: that is reported as
"not implemented yet", like a Python stub's ``NotImplementedError``. A kernel that writes some
elements but not others leaves NaN where it missed, which :func:`~.feedback.compare` reports.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import numpy as np

from .feedback import GradingFailure, describe_case

OUT_OF_BOUNDS = "out of bounds memory access"


def check_written(name: str, got: Any, kernel_file: str, case: str | Mapping[str, Any] | None = None
                  ) -> None:
    """Fail with "not implemented yet" when ``got`` is an array still entirely NaN."""
    if isinstance(got, np.ndarray) and got.size and np.isnan(got).all():
        text = describe_case(case)
        pre = f"case {text}: " if text else ""
        raise GradingFailure(f"not implemented yet: {pre}the kernel wrote nothing into {name} (every "
                             f"element still holds the NaN the test filled in); write the kernel "
                             f"body in {kernel_file}", "not implemented")


def check_unchanged(**pairs: tuple[np.ndarray, np.ndarray]) -> None:
    """``name=(original, after_launch)``: fail if the kernel wrote into an input array."""
    for name, (orig, after) in pairs.items():
        if orig is not None and not np.array_equal(orig, after, equal_nan=True):
            raise GradingFailure(f"the kernel modified its input '{name}'; only the output may be "
                                 "written", "modified its input")


@contextmanager
def memory_errors_as_failures(kernel_file: str) -> Iterator[None]:
    """Turn the emulator's memory errors into a :class:`GradingFailure` that says what happened.

    ``SanitizerError`` (AddressSanitizer found an out-of-bounds access) and ``KernelFaultError``
    (the kernel crashed, e.g. a segfault) both get the category ``"out of bounds memory access"``,
    which hidden tests show as their only feedback; a ThreadSanitizer report is a "data race".
    """
    from ..cuda import KernelFaultError, SanitizerError
    try:
        yield
    except SanitizerError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        if "ThreadSanitizer" in first:
            raise GradingFailure(f"{kernel_file} has a data race: {first}", "data race") from None
        raise GradingFailure(f"{kernel_file} accessed memory outside the arrays: {first}. Check that "
                             "threads past the last output element return before reading or "
                             "writing, and that padded positions are skipped", OUT_OF_BOUNDS) from None
    except KernelFaultError as e:
        raise GradingFailure(f"{kernel_file} crashed: {e}", OUT_OF_BOUNDS) from None
