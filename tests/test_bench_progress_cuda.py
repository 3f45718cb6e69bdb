"""Progress bar output, and the CUDA timer's behaviour without / with a GPU."""
import io

import pytest

from course_lib.bench import cuda_timing
from course_lib.bench.progress import Progress, progress


def test_progress_lines_on_a_non_terminal():
    buf = io.StringIO()
    with Progress(3, "layers", stream=buf) as bar:
        for name in ("a", "b", "c"):
            bar.update(note=name)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("layers [") and "1/3" in lines[0] and " 33%" in lines[0]
    assert lines[-1].count("#") == bar.width and "3/3 100%" in lines[-1]
    assert lines[-1].endswith("c")


def test_progress_silent_and_iterator():
    buf = io.StringIO()
    assert list(progress(range(4), "x", stream=buf, enabled=False)) == [0, 1, 2, 3]
    assert buf.getvalue() == ""
    with pytest.raises(ValueError, match="total"):
        Progress(-1)


def test_cuda_timer_is_importable_and_refuses_without_a_gpu():
    with pytest.raises(ValueError, match="backend"):
        cuda_timing.cuda_available("opencl")
    if cuda_timing.cuda_available("torch"):
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        cuda_timing.time_cuda(lambda: None, backend="torch")
    with pytest.raises(ValueError, match="repeats"):
        cuda_timing.time_cuda(lambda: None, repeats=0)


@pytest.mark.gpu
def test_cuda_events_time_a_known_sleep_and_see_peak_memory():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    # torch.cuda._sleep spins for a number of GPU clock cycles; calibrate with events
    cycles = 10_000_000
    t1 = cuda_timing.time_cuda(lambda: torch.cuda._sleep(cycles), repeats=5)
    t2 = cuda_timing.time_cuda(lambda: torch.cuda._sleep(2 * cycles), repeats=5)
    assert 1.7 < t2.timing.median / t1.timing.median < 2.3
    n = 64 * 2 ** 20 // 4                      # 64 MiB of float32 allocated per call
    r = cuda_timing.time_cuda(lambda: torch.ones(n, device="cuda"), repeats=3, flush_l2=True)
    assert r.l2_flushed and r.peak_bytes >= 64 * 2 ** 20


class _FakeCupy:
    """Just enough of CuPy's API for time_cuda's logic to run on the CPU: an event
    records the host clock (the "kernel" is synchronous), the pool counts bytes."""

    class _Event:
        def record(self):
            import time
            self.t = time.perf_counter()

        def synchronize(self):
            pass

    class _Pool:
        used, total = 1000, 5000

        def used_bytes(self):
            return self.used

        def total_bytes(self):
            return self.total

    def __init__(self):
        import types
        self._pool = self._Pool()
        self.cuda = types.SimpleNamespace(
            Event=self._Event, Device=lambda: types.SimpleNamespace(synchronize=lambda: None),
            get_elapsed_time=lambda a, b: 1e3 * (b.t - a.t),
            runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0,
                                          getDeviceProperties=lambda d: {"l2CacheSize": 1024}))
        self.uint8 = "uint8"

    def get_default_memory_pool(self):
        return self._pool

    def empty(self, n, dtype=None):
        import types
        return types.SimpleNamespace(fill=lambda v: None, n=n)


def test_cuda_timer_logic_with_a_fake_cupy(monkeypatch):
    import sys
    import time
    fake = _FakeCupy()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    r = cuda_timing.time_cuda(lambda: time.sleep(0.002), repeats=3, warmup=1, backend="cupy")
    assert r.timing.repeats == 3 and r.timing.number == 1
    assert 0.0019 <= r.timing.min and r.timing.median < 0.02
    assert r.peak_bytes == 5000 - 1000 and r.backend == "cupy" and not r.l2_flushed
    # target_ms picks the calls per sample from one timed call: ~10 ms / ~2 ms -> <= 5
    r = cuda_timing.time_cuda(lambda: time.sleep(0.002), repeats=2, warmup=0, backend="cupy",
                              target_ms=10.0, flush_l2=True)
    assert 1 <= r.timing.number <= 5 and r.l2_flushed
    assert 0.0019 <= r.timing.min < 0.02             # per call, not per run
    assert cuda_timing.l2_size_bytes("cupy") == 1024
