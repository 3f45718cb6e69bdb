"""A dishonest submission cannot raise its score or change anything outside its sandbox.

Each attack reported in issue 9 is tried here, on the small ``numerical_gradient`` exercise
(and the CUDA kernel exercise's source checks). Most run against the sandbox directly (one
sandbox process serves many attack functions, so the file stays quick); the attacks on the
results file and on the grader process run the real grader end to end. Every test checks that
the grader's files and the exercises tree are byte-for-byte unchanged afterwards.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading import GradingFailure, call_checked, compare
from course_lib.grading.loader import load_submission
from course_lib.grading.sandbox import SubmissionCrashed

REPO = Path(__file__).resolve().parents[1]
GRADER_FILES = sorted((REPO / "course_lib" / "grading").glob("*.py")) + [REPO / "course_lib" / "grade.py"]
HIDDEN = REPO / "exercises" / "ch16_1" / "hidden" / "test_numerical_gradient.py"


def tree_hash() -> str:
    h = hashlib.sha256()
    for p in GRADER_FILES + sorted((REPO / "exercises").rglob("*.py")):
        if "__pycache__" not in p.parts:
            h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(autouse=True)
def nothing_changes_outside():
    before = tree_hash()
    yield
    assert tree_hash() == before, "a grader file or an exercise file changed"


def start(tmp_path: Path, source: str, name: str = "numerical_gradient", cu: str | None = None):
    folder = tmp_path / "ch16_1"
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    if cu is not None:
        (folder / f"{name}.cu").write_text(textwrap.dedent(cu))
    return load_submission(folder / "tests" / f"test_{name}.py", name)


# Each function is one attack, run inside the sandbox; it must fail there (or do nothing).
ATTACKS = f'''
import os, sys
import numpy as np

np.abs = lambda a: np.zeros_like(a)          # replaced at import: only the sandbox sees it
np.allclose = lambda *a, **k: True

def numerical_gradient(f, x, eps=1e-6):
    return np.zeros_like(x, dtype=np.float64)

def grader_module():       # replace the grader's comparison through sys.modules
    sys.modules["course_lib.grading.feedback"].compare.__code__ = (lambda *a, **k: None).__code__

def recorder():            # write fake "passed" events, reveal hidden feedback
    rec = sys.modules["course_lib.grading.plugin"]._RECORDER["rec"]
    rec.reveal = True
    rec.write(event="result", nodeid="x", passed=True, feedback="", category="")

def import_plugin():       # past the AST check: a computed name
    return __import__("course_lib" + ".grading.plugin")

def torch_from_sys_modules():
    return sys.modules["torch"]

def importlib_getattr():
    il = __import__("import" + "lib")
    return getattr(il, "import_" + "module")("to" + "rch")

def builtins_import():
    b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
    return b["__import__"]("sci" + "py")

def exec_code():
    exec("import torch")

def eval_code():
    return eval("1 + 1")

def compile_code():
    return compile("x = 1", "<x>", "exec")

def runpy_module():
    return __import__("run" + "py").run_module("course_lib.conv.direct")

def ctypes_system():
    return __import__("ctypes").CDLL(None).system(b"true")

def numpy_ctypes():        # NumPy keeps ctypes loaded for itself
    return np._core._internal.ctypes.CDLL(None)

def os_system():
    return os.system("true")

def subprocess_run():
    return __import__("subprocess").run(["true"])

def fork():
    return os.fork()

def read_course_source():
    return open({str(REPO / "course_lib" / "conv" / "direct.py")!r}).read()

def read_hidden_tests():
    return open({str(HIDDEN)!r}).read()

def edit_plugin():
    with open({str(REPO / "course_lib" / "grading" / "plugin.py")!r}, "a") as f:
        f.write("# pwned")

def conftest_in_grading_folder():
    with open(os.path.join({str(REPO / "exercises")!r}, "conftest.py"), "w") as f:
        f.write("pytest_plugins = []")

def parent_command_line():
    return open(f"/proc/{{os.getppid()}}/cmdline", "rb").read()

def kill_grader():
    os.kill(os.getppid(), 9)

def remove_outside():
    os.remove({str(REPO / "exercises" / "README.md")!r})

def zero_inputs(x):
    x[...] = 0
    return x

def print_a_lot():
    for _ in range(200):
        print("x" * 10000)
    return 1

def die():
    os._exit(0)

def allocate(n):
    return np.ones(n, dtype=np.uint8).sum()

def write_own_folder():
    with open("scratch.txt", "w") as f:
        f.write("ok")
    return open("scratch.txt").read()
'''

BLOCKED = ["grader_module", "recorder", "import_plugin", "torch_from_sys_modules", "importlib_getattr",
           "builtins_import", "exec_code", "eval_code", "compile_code", "runpy_module", "ctypes_system",
           "numpy_ctypes", "os_system", "subprocess_run", "fork", "read_course_source",
           "read_hidden_tests", "edit_plugin", "conftest_in_grading_folder", "parent_command_line",
           "kill_grader", "remove_outside"]


@pytest.fixture(scope="module", params=["own-uid", "same-uid"])
def attacker(request, tmp_path_factory):
    """The attack module in a sandbox; "same-uid" is a learner's laptop (no root): the same
    process split and audit hook, without the change of user id."""
    tmp = tmp_path_factory.mktemp("attack")
    if request.param == "own-uid":
        sub = start(tmp, ATTACKS)
    else:
        from course_lib.grading.proxy import SubmissionModule
        from course_lib.grading.sandbox import Sandbox, current_config
        folder = tmp / "ch16_1"
        folder.mkdir()
        (folder / "numerical_gradient.py").write_text(textwrap.dedent(ATTACKS))
        cfg = dataclasses.replace(current_config(), uid=None)
        path = folder / "numerical_gradient.py"
        sub = SubmissionModule(path, Sandbox(path, [], (), cfg)).start()
    yield sub
    sub.close()


@pytest.mark.parametrize("attack", BLOCKED)
def test_attack_fails_inside_the_sandbox(attacker, attack):
    with pytest.raises(Exception) as info:
        getattr(attacker, attack)()
    assert not isinstance(info.value, GradingFailure) or info.value.category != "crash"
    text = str(info.value)
    assert "def test_" not in text and "import numpy" not in text  # no hidden test source
    assert not (REPO / "exercises" / "conftest.py").read_text().count("pytest_plugins")


def test_patched_numpy_stays_in_the_sandbox(attacker):
    x = np.linspace(-1, 1, 5)
    got = call_checked(attacker.numerical_gradient, lambda a: np.sum(a ** 2), x)
    assert np.abs(-2.0) == 2.0 and not np.allclose(got, 2 * x)
    with pytest.raises(GradingFailure):
        compare("gradient", got, 2 * x)


def test_inputs_are_passed_by_value(attacker):
    x = np.ones(4)
    assert np.array_equal(attacker.zero_inputs(x), np.zeros(4)) and np.array_equal(x, np.ones(4))
    with pytest.raises(GradingFailure, match="modified its input"):
        call_checked(attacker.zero_inputs, x)


def test_memory_is_limited(attacker):
    if attacker.sandbox.cfg.uid is None:
        pytest.skip("the memory limit is set with the rest of the sandbox's limits")
    with pytest.raises(MemoryError):
        attacker.allocate(8 << 30)


def test_sandbox_folder_is_writable_and_output_is_capped(attacker):
    assert attacker.write_own_folder() == "ok"
    assert attacker.print_a_lot() == 1


def test_crash_fails_the_test_and_restarts(tmp_path):
    sub = start(tmp_path, ATTACKS)
    try:
        with pytest.raises(GradingFailure, match="exited with code 0") as info:
            sub.die()
        assert info.value.category == "crash"
        x = np.arange(3.0)
        assert np.array_equal(sub.numerical_gradient(lambda a: a.sum(), x), np.zeros(3))
        sub.print_a_lot()
    finally:
        out = sub.close()
    assert len(out) < 70_000 and "output cut" in out


def test_signal_nine_is_not_called_a_segfault():
    text = SubmissionCrashed(-9).describe()
    assert "signal 9 (out of memory or time limit?)" in text and "segfault" not in text


def test_failure_at_import_is_reported(tmp_path):
    with pytest.raises(GradingFailure, match="import failed|importing") as info:
        start(tmp_path, "import sys\nsys.modules['course_lib.grading.plugin']._RECORDER['rec'].reveal = True\n")
    assert info.value.category == "import failed"


@pytest.mark.parametrize("kernel,what", [
    ('%:include <stdlib.h>\nextern "C" __global__ void k(float* y) {}\n', "include"),
    ('??=include <stdlib.h>\nextern "C" __global__ void k(float* y) {}\n', "include"),
    ('extern "C" int system(const char*);\nextern "C" __global__ void k(float* y) {}\n', "extern"),
    ('extern "C" __global__ void k(float* y) { system("id"); }\n', "system"),
    ('extern "C" __global__ void k(float* y) { asm("nop"); }\n', "asm"),
])
def test_kernel_source_checks(tmp_path, kernel, what):
    with pytest.raises(GradingFailure, match=what):
        start(tmp_path, "import numpy as np\n", name="conv2d_kernel", cu=kernel)


def test_ordinary_kernel_code_passes_the_source_checks():
    from course_lib.grading import cu_rules
    ok = ('// a comment may say exit(0) or system("x")\n'
          'extern "C" __global__ void k(const float* __restrict__ x, float* y, int n) {\n'
          '    extern __shared__ float tile[];\n'
          '    #pragma unroll 4\n'
          '    for (int i = 0; i < 4; ++i) tile[i] = x[i];\n'
          '    if (threadIdx.x < n) y[threadIdx.x] = tile[0] > 0.f ? tile[0] : 0.f;\n}\n')
    assert cu_rules.problems(ok) == []
    assert cu_rules.problems('#pragma GCC optimize("O0")\n')


def test_kernel_built_from_python_text_is_checked_in_the_sandbox(tmp_path):
    source = '''
        from course_lib.cuda import RawModule
        def build():
            code = 'extern "C" __global__ void k(float* y) { system("touch /tmp/pwned"); }'
            RawModule(code, backend="emulator").compile()
    '''
    sub = start(tmp_path, source, name="conv2d_kernel",
                cu='extern "C" __global__ void conv2d_kernel(float* y) {}\n')
    try:
        with pytest.raises(Exception, match="system"):
            sub.build()
    finally:
        sub.close()


def test_a_submitted_kernel_in_a_test_runs_in_the_sandbox(tmp_path):
    """A test that builds the submitted .cu itself (RawModule(path=...)) gets the sandbox's
    build: compiled and launched there, the arrays copied back in place."""
    from course_lib.grading.proxy import SandboxedRawModule
    kernel = ('extern "C" __global__ void fill(float* y, int n) {\n'
              '    int i = blockIdx.x * blockDim.x + threadIdx.x;\n'
              '    if (i < n) y[i] = 2.0f * i;\n}\n')
    sub = start(tmp_path, "import numpy as np\n", name="conv2d_kernel", cu=kernel)
    try:
        mod = SandboxedRawModule(path=tmp_path / "ch16_1" / "conv2d_kernel.cu", backend="emulator")
        assert isinstance(mod, SandboxedRawModule)
        y = np.zeros(70, np.float32)
        mod.get_function("fill")((2,), (64,), (y, np.int32(70)))
        assert np.array_equal(y, 2 * np.arange(70, dtype=np.float32))
    finally:
        sub.close()


# --- end to end: the grader process, its results file, and processes left behind -------------

FORGE = '''
import os, sys, json
import numpy as np

def _forge():
    # read the --json path from the grader's command line, overwrite it, kill the grader
    pid = os.getppid()
    for _ in range(4):
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
            if b"--json" in args:
                path = args[args.index(b"--json") + 1].decode()
                open(path, "w").write(json.dumps({"score": 999, "tests": []}))
                os.kill(pid, 9)
            pid = int(open(f"/proc/{pid}/stat").read().split()[3])
        except Exception:
            pass
    try:  # a double-forked process that rewrites the results later
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                import time
                time.sleep(3)
                os._exit(0)
            os._exit(0)
    except Exception:
        pass

_forge()

def numerical_gradient(f, x, eps=1e-6):
    _forge()
    os._exit(0)
'''


def test_results_cannot_be_forged_end_to_end(tmp_path):
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "numerical_gradient.py").write_text(FORGE)
    base = Path(tempfile.mkdtemp(prefix="h6-attack-"))
    os.chmod(base, 0o711)
    out = tmp_path / "results.json"
    try:
        proc = subprocess.run([sys.executable, "-m", "course_lib.grade", "16.1", "--exercise",
                               "numerical_gradient", "--submission", str(sub), "--json", str(out)],
                              cwd=REPO, capture_output=True, text=True, timeout=240,
                              env=dict(os.environ, TMPDIR=str(base)))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        data = json.loads(out.read_text())
        assert data["score"] == 0 and data["max_score"] > 0
        assert all(t["score"] == 0 for t in data["tests"])
        hidden = [t for t in data["tests"] if t["visibility"] != "visible"]
        assert hidden and all(t["visibility"] == "after_published" for t in hidden)
        assert "hidden test" not in data["output"]
        time.sleep(4)  # longer than the forked process would have waited
        assert json.loads(out.read_text()) == data
        left = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if str(base).encode() in (d / "cmdline").read_bytes():
                        left.append(d.name)
                except OSError:
                    pass
        assert not left, f"processes left running: {left}"
    finally:
        import shutil
        shutil.rmtree(base, ignore_errors=True)
