"""Reading sanitizer reports and refusing a sanitizer runtime that misses bugs (fast: no compiling).

The reports below are trimmed copies of what GCC 12's runtime and the newer one of GCC 13 / clang 16
print; the argument table is what the sanitize child writes for each array (name, address, bytes).
"""
from __future__ import annotations

import pytest

from course_lib import cuda
from course_lib.cuda.emulator import sanitize

ARGS = [("x", 0x50C0001C6000, 400), ("out", 0x50C0001C6400, 400)]

OLD_WORDING = """==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x50c0001c6190 at pc 0x1 bp 0x2 sp 0x3
READ of size 4 at 0x50c0001c6190 thread T1
    #0 0x7f in scale_no_bounds_check /work/main/planted_bugs.cu:29
    #1 0x7f in __simt_thunk_scale_no_bounds_check <simt-shims>:1

0x50c0001c6190 is located 0 bytes to the right of 400-byte region [0x50c0001c6000,0x50c0001c6190)
"""
NEW_WORDING = OLD_WORDING.replace("to the right of", "after").replace(
    "planted_bugs.cu:29", "planted_bugs.cu:29:22")


@pytest.mark.parametrize("text", [OLD_WORDING, NEW_WORDING], ids=["gcc12", "gcc13-clang16"])
def test_asan_summary_names_argument_in_both_wordings(text):
    s = sanitize.summarize_asan(text, "scale_no_bounds_check", ARGS)
    assert "READ of 4 bytes at planted_bugs.cu:29" in s
    assert "0 bytes to the right of the array passed as 'x' (400 bytes)" in s


def test_asan_summary_names_dynamic_shared_memory():
    text = NEW_WORDING.replace("400-byte region", "124-byte region").replace("0x50c0001c6000", "0x7000")
    s = sanitize.summarize_asan(text, "reverse_blocks", ARGS, shared_mem=124)
    assert "dynamic shared memory (extern __shared__) (124 bytes)" in s


def test_asan_summary_before_the_start():
    text = NEW_WORDING.replace("0 bytes after", "4 bytes before")
    assert "4 bytes to the left of the array passed as 'x'" in sanitize.summarize_asan(text, "k", ARGS)


@pytest.fixture
def fresh_verdicts(tmp_path, monkeypatch):
    """An empty verdict cache (process and disk); a fake self-test that counts its runs."""
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    sanitize._self_test_verdict.cache_clear()
    try:
        sanitize.sanitizer_runtime("thread")
    except cuda.KernelError as exc:
        pytest.skip(str(exc))
    runs = []

    def fake(mode):
        runs.append(mode)
        return "a kernel with a planted data race ran without any report"
    monkeypatch.setattr(sanitize, "_self_test_run", fake)
    yield runs
    sanitize._self_test_verdict.cache_clear()


def test_silent_sanitizer_runtime_is_refused_not_trusted(fresh_verdicts):
    with pytest.raises(cuda.KernelError, match=r"ThreadSanitizer is not usable with this compiler \(.*"
                                               r"planted data race ran without any report"):
        sanitize.check_runtime("thread")
    # a launch is refused before any subprocess runs
    with pytest.raises(cuda.KernelError, match="not usable"):
        sanitize.run_sanitized(None, "thread", "k", None, (1, 1, 1), (1, 1, 1), 0, [],
                               schedule="forward", seed=0, workers=1, filename="k.cu")
    # the verdict is computed once: cached in the process, then on disk for other processes
    sanitize._self_test_verdict.cache_clear()
    with pytest.raises(cuda.KernelError, match="not usable"):
        sanitize.check_runtime("thread")
    assert fresh_verdicts == ["thread"]
