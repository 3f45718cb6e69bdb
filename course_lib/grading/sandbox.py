"""Run a learner's exercise module in its own process, another user's, with resource limits.

The tests, the grader and the results stay in the test process (the *parent*); the learner's
code runs in a *sandbox process* (:mod:`.sandbox_worker`): a fresh ``python -I`` that never
imported torch, pytest or the grader, started in a folder of its own that holds a copy of the
submitted files and nothing else. The parent only receives return values over a pipe -- arrays
as ``.npy``, everything else as JSON (:mod:`.wire`), never a pickle.

When the grader runs as root (Gradescope, CI), the sandbox process runs under a fresh numeric
user id that owns nothing but its folder (no passwd entry is needed; :func:`prepare_run` picks
one per grading run, so killing "every process of that user" can never hit another run), in a
new session, with rlimits on CPU time, memory, file size, open files and processes. The tests
and hidden tests stay in the parent's root-only folder, so the sandbox cannot read them, and the
results file is written by the grader after :func:`kill_user` has removed every process of the
sandbox user (double-forked ones included). Without root (a learner's laptop) the same process
split and audit hook apply, without the user change.

Configuration travels from the grader to its pytest processes in environment variables
(``COURSE_SANDBOX_BASE``, ``COURSE_SANDBOX_RUNTIME``, ``COURSE_SANDBOX_UID``); a test process
started without them makes its own (:func:`current_config`).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import wire

PACKAGE = Path(__file__).resolve().parents[1]    # course_lib/
HERE = Path(__file__).resolve().parent
#: Files of ``course_lib`` that the sandbox (and the student bundle) may hold: the kernel runtime,
#: never a finished kernel or a reference implementation.
RUNTIME_FILES = ("__init__.py", "cuda/__init__.py", "cuda/runtime.py", "cuda/nvrtc.py",
                 "cuda/resources.py", "cuda/emulator/**/*")
UID_RANGE = (61000, 64999)
OUTPUT_CAP = 64 << 10   # bytes of a submission's printed output kept per sandbox process


def effective_uid() -> int:
    """The effective user id (-1 where the system has none, e.g. Windows)."""
    return os.geteuid() if hasattr(os, "geteuid") else -1


@dataclass(frozen=True)
class SandboxConfig:
    base: Path            # holds one folder per sandbox process (mode 0711)
    runtime: Path         # worker.py, wire.py and the kernel runtime (read-only for the sandbox)
    uid: int | None       # None: the current user (not root)
    cpu_seconds: int = 300
    memory_bytes: int = 6 << 30
    file_bytes: int = 256 << 20
    nproc: int = 512

    @property
    def cache(self) -> Path:
        return self.base / "cache"

    def env(self) -> dict[str, str]:
        env = {"COURSE_SANDBOX_BASE": str(self.base), "COURSE_SANDBOX_RUNTIME": str(self.runtime)}
        if self.uid is not None:
            env["COURSE_SANDBOX_UID"] = str(self.uid)
        return env


def runtime_sources() -> list[Path]:
    """The ``course_lib`` files that :data:`RUNTIME_FILES` names (relative to ``course_lib``)."""
    found = []
    for pattern in RUNTIME_FILES:
        for p in sorted(PACKAGE.glob(pattern)):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".so", ".o"):
                found.append(p.relative_to(PACKAGE))
    return found


def build_runtime(dest: Path) -> Path:
    """Copy the worker, the wire format and the kernel runtime into ``dest`` (world-readable)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "sandbox_worker.py", dest / "worker.py")
    shutil.copyfile(HERE / "wire.py", dest / "wire.py")
    shutil.copyfile(HERE / "cu_rules.py", dest / "cu_rules.py")
    for rel in runtime_sources():
        target = dest / "course_lib" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / rel, target)
    for p in [dest, *dest.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return dest


def _uid_in_use(uid: int) -> bool:
    try:
        import pwd
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    return bool(processes_of(uid))


def processes_of(uid: int) -> list[int]:
    """Process ids whose real user id is ``uid`` (from /proc)."""
    pids = []
    for d in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not d.name.isdigit():
            continue
        try:
            for line in (d / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        pids.append(int(d.name))
                    break
        except (OSError, ValueError, IndexError):
            continue
    return pids


def kill_user(uid: int | None, rounds: int = 5) -> None:
    """SIGKILL every process of ``uid`` (a forked helper switches to it and calls ``kill(-1)``,
    which reaches exactly that user's processes); repeat until none is left."""
    if uid is None or effective_uid() != 0:
        return
    for _ in range(rounds):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the helper child
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.02)
        if not processes_of(uid):
            return


def prepare_run(parent: Path | None = None) -> SandboxConfig:
    """A fresh sandbox configuration for one grading run (base folder, runtime copy, user id)."""
    base = Path(tempfile.mkdtemp(prefix="course-sandbox-", dir=parent))
    os.chmod(base, 0o711)
    runtime = build_runtime(base / "runtime")
    uid = None
    if effective_uid() == 0:
        rng = random.Random()
        for _ in range(200):
            cand = rng.randint(*UID_RANGE)
            if not _uid_in_use(cand):
                uid = cand
                break
        if uid is None:
            raise RuntimeError("no free user id for the grading sandbox")
    cache = base / "cache"
    (cache / "emulator").mkdir(mode=0o700, parents=True)
    seed_emulator_cache(cache / "emulator")
    if uid is not None:
        for p in [cache, *cache.rglob("*")]:
            os.chown(p, uid, uid)
    return SandboxConfig(base=base, runtime=runtime, uid=uid)


def seed_emulator_cache(dest: Path) -> None:
    """Put the emulator's compiled runtime (course code only, built here by the grader) into
    the sandbox's cache, so each run compiles only the learner's kernels."""
    try:
        from ..cuda.emulator import build
        for mode in build.MODES:
            obj = build.runtime_object(mode)
            shutil.copyfile(obj, dest / obj.name)
    except Exception:  # noqa: BLE001 - no compiler: the environment check reports it
        pass


_LOCAL: dict[str, SandboxConfig] = {}


def current_config() -> SandboxConfig:
    """The grader's configuration (from the environment), else one made for this process."""
    base, runtime = os.environ.get("COURSE_SANDBOX_BASE"), os.environ.get("COURSE_SANDBOX_RUNTIME")
    if base and runtime and Path(base).is_dir():
        uid = os.environ.get("COURSE_SANDBOX_UID")
        return SandboxConfig(Path(base), Path(runtime), int(uid) if uid else None)
    if "cfg" not in _LOCAL:
        cfg = _LOCAL["cfg"] = prepare_run()
        import atexit
        atexit.register(cleanup_run, cfg)
    return _LOCAL["cfg"]


def cleanup_run(cfg: SandboxConfig) -> None:
    kill_user(cfg.uid)
    shutil.rmtree(cfg.base, ignore_errors=True)


def _reachable(path: str) -> bool:
    """Can any user reach and run ``path`` (o+x on every folder above it, o+rx on the file)?"""
    import stat
    p = Path(os.path.realpath(path))
    try:
        if not p.stat().st_mode & stat.S_IROTH or not p.stat().st_mode & stat.S_IXOTH:
            return False
        return all(d.stat().st_mode & stat.S_IXOTH for d in p.parents)
    except OSError:
        return False


_INTERPRETER: dict = {}


def sandbox_interpreter(uid: int | None) -> tuple[str, list[str]]:
    """(python to run the worker, extra ``sys.path`` folders) for the sandbox user.

    The grader's own interpreter when that user can reach it; else (a Python installed under a
    private home, as pyenv does under /root) the system's Python of the same version, given the
    folder that holds the grader's NumPy.
    """
    if uid is None:
        return sys.executable, []
    if "exe" not in _INTERPRETER:
        import importlib.util
        import sysconfig
        site = str(Path(importlib.util.find_spec("numpy").origin).resolve().parents[1])
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        exe = None
        if _reachable(sys.executable) and _reachable(sysconfig.get_paths()["stdlib"] + "/os.py"):
            exe = sys.executable
        else:
            for cand in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}",
                         shutil.which(f"python{version}") or ""):
                if cand and os.path.isfile(cand) and _reachable(cand):
                    r = subprocess.run([cand, "-I", "-c", "import sys; print(sys.version_info[:2])"],
                                       capture_output=True, text=True)
                    if r.stdout.strip() == str(tuple(sys.version_info[:2])):
                        exe = cand
                        break
        if exe is None:
            raise RuntimeError(f"the grading sandbox needs a Python {version} that an unprivileged "
                               f"user can run; {sys.executable} is not reachable")
        _INTERPRETER["exe"], _INTERPRETER["path"] = exe, [site]
    return _INTERPRETER["exe"], list(_INTERPRETER["path"])


class SubmissionCrashed(Exception):
    """The sandbox process died; ``describe()`` says how."""

    def __init__(self, returncode: int | None):
        super().__init__(returncode)
        self.returncode = returncode

    def describe(self) -> str:
        rc = self.returncode
        if rc is None:
            how = "stopped answering"
        elif rc < 0:
            how = f"was killed by signal {-rc}" + (" (out of memory or time limit?)"
                                                   if -rc in (signal.SIGKILL, signal.SIGXCPU)
                                                   else " (a segfault?)" if -rc == signal.SIGSEGV
                                                   else "")
        else:
            how = f"exited with code {rc} (does your code call os._exit or exit?)"
        return f"the process running your code {how}"


class _Output:
    """Drains the sandbox's stdout+stderr, keeping the first :data:`OUTPUT_CAP` bytes."""

    def __init__(self, stream):
        self.kept = bytearray()
        self.dropped = 0
        self.thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self.thread.start()

    def _drain(self, stream) -> None:
        while True:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            room = OUTPUT_CAP - len(self.kept)
            self.kept += chunk[:max(room, 0)]
            self.dropped += max(0, len(chunk) - max(room, 0))
        stream.close()

    def text(self) -> str:
        self.thread.join(timeout=2)
        out = self.kept.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[output cut: {self.dropped} more bytes not kept (limit {OUTPUT_CAP // 1024} KiB)]"
        return out


class SandboxProcess:
    """One running worker serving one exercise module."""

    def __init__(self, cfg: SandboxConfig, folder: Path, module_path: Path, module_name: str,
                 allowed_imports: tuple[str, ...]):
        self.cfg = cfg
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        config = {"rfd": to_child_r, "wfd": from_child_w, "sandbox": str(folder),
                  "runtime": str(cfg.runtime), "module_path": str(module_path),
                  "module_name": module_name, "allowed_imports": list(allowed_imports),
                  "writable": [str(cfg.cache)],
                  "limits": {"cpu": cfg.cpu_seconds, "memory": cfg.memory_bytes,
                             "fsize": cfg.file_bytes,
                             "nproc": cfg.nproc if cfg.uid is not None else None}}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder),
               "TMPDIR": str(folder / "tmp"), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "COURSE_LIB_CACHE": str(cfg.cache)}
        for var in ("CXX", "COURSE_LIB_CUDA_BACKEND", "CUDA_PATH", "CUDA_HOME", "LD_LIBRARY_PATH"):
            if var in os.environ:
                env[var] = os.environ[var]
        extra = {}
        if cfg.uid is not None:
            extra = {"user": cfg.uid, "group": cfg.uid, "extra_groups": []}
        exe, site = sandbox_interpreter(cfg.uid)
        config["site"] = site
        if site:  # for the worker's own children (the emulator's sanitizer run)
            env["PYTHONPATH"] = os.pathsep.join(site)
        cmd = [exe, "-I", "-B", str(cfg.runtime / "worker.py"), json.dumps(config)]
        try:
            self.proc = subprocess.Popen(cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         pass_fds=(to_child_r, from_child_w),
                                         start_new_session=True, **extra)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.wfd, self.rfd = to_child_w, from_child_r
        self.output = _Output(self.proc.stdout)
        self.alive = True

    def request(self, envelope: dict, arrays: list, callbacks: dict | None = None):
        """Send one request; answer callbacks until the reply comes; return (envelope, arrays)."""
        try:
            wire.send(self.wfd, envelope, arrays)
            while True:
                env, arrs = wire.receive(self.rfd)
                if env.get("op") != "callback":
                    return env, arrs
                self._answer_callback(env, arrs, callbacks or {})
        except (wire.WireError, OSError) as e:
            rc = self.kill()
            if isinstance(e, wire.PeerClosed) or rc is not None:
                raise SubmissionCrashed(rc) from None
            raise SubmissionCrashed(None) from None
        except BaseException:
            self.kill()  # interrupted (a timeout): the process is in an unknown state
            raise

    def _answer_callback(self, env: dict, arrs: list, callbacks: dict) -> None:
        fn = callbacks.get(env.get("id"))
        try:
            if fn is None:
                raise RuntimeError("unknown callback")
            args = wire.decode(env.get("args", []), arrs)
            kwargs = wire.decode(env.get("kwargs", {"$m": {}}), arrs)
            result = fn(*args, **kwargs)
            out: list = []
            wire.send(self.wfd, {"ok": True, "result": wire.encode(result, out)}, out)
        except wire.PeerClosed:
            raise
        except Exception as e:  # noqa: BLE001 - the test's function failed: tell the submission
            wire.send(self.wfd, {"ok": False, "message": f"{type(e).__name__}: {e}"[:2000]}, [])

    def kill(self) -> int | None:
        """Kill the whole session of the worker; return its exit status."""
        if self.alive:
            self.alive = False
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for fd in (self.wfd, self.rfd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return None


class Sandbox:
    """A submission folder plus (re)startable worker processes for one exercise module."""

    MAX_STARTS = 6

    def __init__(self, module_path: Path, companions: list[Path], allowed_imports: tuple[str, ...],
                 cfg: SandboxConfig | None = None):
        self.cfg = cfg or current_config()
        # One fixed folder per exercise and run: the emulator's build cache is keyed by the
        # kernel's folder, so the public and hidden tests' sandboxes share the builds.
        self.folder = self.cfg.base / f"{module_path.parent.name}-{module_path.stem}"
        shutil.rmtree(self.folder, ignore_errors=True)
        (self.folder / "tmp").mkdir(parents=True)
        for src in [module_path, *companions]:
            if src.is_file():
                shutil.copyfile(src, self.folder / src.name)
        if self.cfg.uid is not None:
            for p in [self.folder, *self.folder.rglob("*")]:
                os.chown(p, self.cfg.uid, self.cfg.uid)
        os.chmod(self.folder, 0o700)
        self.module_path = self.folder / module_path.name
        self.module_name = f"_submission_{module_path.parent.name}_{module_path.stem}"
        self.allowed_imports = allowed_imports
        self.process: SandboxProcess | None = None
        self.starts = 0
        self.outputs: list[str] = []

    def ensure_started(self) -> dict:
        """Start a worker if none runs; return its ``{function: [parameter names]}``."""
        if self.process is not None and self.process.alive:
            return self.functions
        if self.process is not None:
            self.outputs.append(self.process.output.text())
        if self.starts >= self.MAX_STARTS:
            raise SubmissionCrashed(None)
        self.starts += 1
        self.process = SandboxProcess(self.cfg, self.folder, self.module_path, self.module_name,
                                      self.allowed_imports)
        try:
            env, _ = wire.receive(self.process.rfd)
        except (wire.WireError, OSError):
            raise SubmissionCrashed(self.process.kill()) from None
        except BaseException:
            self.process.kill()
            raise
        if not env.get("ok"):
            self.process.kill()
            raise LoadFailed(env.get("exc") or {})
        funcs = env.get("functions")
        self.functions = {str(k): [str(p) for p in v] for k, v in funcs.items()} \
            if isinstance(funcs, dict) else {}
        return self.functions

    def request(self, envelope: dict, arrays: list, callbacks: dict | None = None):
        self.ensure_started()
        return self.process.request(envelope, arrays, callbacks)

    def close(self) -> str:
        """Stop the worker, remove the folder; return the captured output (capped)."""
        if self.process is not None:
            self.process.kill()
            self.outputs.append(self.process.output.text())
        shutil.rmtree(self.folder, ignore_errors=True)
        text = "".join(self.outputs)
        if len(text) > OUTPUT_CAP + 200:
            text = text[:OUTPUT_CAP] + "\n[output cut at 64 KiB]"
        return text


class LoadFailed(Exception):
    """The submission raised while being imported in the sandbox; ``info`` describes it."""

    def __init__(self, info: dict):
        super().__init__(info.get("message", ""))
        self.info = info
