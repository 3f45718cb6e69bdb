"""Backend selection and the CuPy-shaped ``RawModule`` / ``RawKernel`` front end.

One kernel object serves both backends. Arguments and the launch configuration are checked here,
against the parsed C signature, *before* either backend runs, so a wrong dtype or a Python ``int``
for an ``int`` parameter fails the same way on a laptop and on a GPU.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .emulator.checks import check_args, check_cooperative, check_launch, normalize_dim
from .emulator.errors import ArgumentTypeError, KernelError
from .emulator.signature import KernelSignature, expression_base, find_kernels, find_templates

#: The runtime's own example kernels (planted bugs, warp reductions ...); course kernels live
#: beside their launchers, e.g. ``course_lib/conv/kernels/`` (``load_module(name, package=...)``).
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
BACKENDS = ("cupy", "emulator")
EMULATOR_OPTIONS = ("schedule", "seed", "sanitizer", "workers", "opt_level")


@functools.lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        import cupy  # noqa: F401
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:               # ImportError, CUDARuntimeError, missing driver ...
        return False


def default_backend() -> str:
    """``$COURSE_LIB_CUDA_BACKEND`` if set, else ``"cupy"`` with a GPU, else ``"emulator"``."""
    env = os.environ.get("COURSE_LIB_CUDA_BACKEND")
    if env:
        if env not in BACKENDS:
            raise ValueError(f"COURSE_LIB_CUDA_BACKEND must be one of {BACKENDS}, got {env!r}")
        return env
    return "cupy" if gpu_available() else "emulator"


def _package_dirs(package: str) -> list[Path]:
    """Folders searched for a package's ``.cu`` files: ``<package>/kernels/``, then the package's own."""
    import importlib
    try:
        pkg = importlib.import_module(package)
    except ImportError as exc:
        raise ValueError(f"package={package!r} cannot be imported: {exc}") from exc
    roots = [Path(p) for p in getattr(pkg, "__path__", [])] or [Path(pkg.__file__).parent]
    return [d for root in roots for d in (root / "kernels", root)]


def kernel_path(filename: str | os.PathLike, package: str | None = None) -> Path:
    """Path of a ``.cu`` file.

    An absolute path is used as given.  A relative name is looked up in ``package``'s
    ``kernels/`` folder, then in the package folder itself (``package="course_lib.conv"``
    finds ``course_lib/conv/kernels/conv2d_naive.cu``); without ``package``, among the
    runtime's own examples (:data:`EXAMPLES_DIR`: planted bugs, warp reductions ...).
    """
    p = Path(filename)
    if p.is_absolute():
        if not p.is_file():
            raise FileNotFoundError(f"no kernel file {p}")
        return p
    dirs = _package_dirs(package) if package is not None else [EXAMPLES_DIR]
    for d in dirs:
        if (d / p).is_file():
            return d / p
    have = sorted({x.name for d in dirs if d.is_dir() for x in d.glob("*.cu")})
    where = f"package {package!r} ({', '.join(map(str, dirs))})" if package else str(EXAMPLES_DIR)
    raise FileNotFoundError(f"no kernel file {str(p)!r} in {where}; available: {have}")


def load_module(filename: str | os.PathLike, backend: str | None = None, *,
                package: str | None = None, **options: Any) -> "RawModule":
    """``RawModule(path=kernel_path(filename, package), backend=backend, **options)``."""
    return RawModule(path=kernel_path(filename, package), backend=backend, **options)


def _resolve_backend(backend: str | None) -> str:
    if backend is None:
        return default_backend()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None, got {backend!r}")
    if backend == "cupy" and not gpu_available():
        raise KernelError("backend='cupy' needs CuPy and a CUDA GPU; none found "
                          "(use backend='emulator' or None)")
    return backend


class RawModule:
    """A CUDA C source compiled for one backend; ``get_function(name)`` returns a kernel.

    ``RawModule(code=None, *, path=None, options=(), backend=None,
    enable_cooperative_groups=False, **emulator_options)``; see the package docstring for the
    emulator options. ``enable_cooperative_groups=True`` launches every kernel of the module
    cooperatively (all blocks resident, so ``this_grid().sync()`` works), as in CuPy.
    ``name_expressions``: template kernels to instantiate, e.g. ``["reduce<float, 256>"]``; each is
    then ``get_function("reduce<float, 256>")`` (the same string), as in CuPy.
    """

    def __init__(self, code: str | None = None, *, path: str | os.PathLike | None = None,
                 options: Sequence[str] = (), backend: str | None = None,
                 enable_cooperative_groups: bool = False,
                 name_expressions: Sequence[str] | None = None, **emulator_options: Any):
        if (code is None) == (path is None):
            raise TypeError("RawModule needs exactly one of code= (source text) or path= (a .cu file)")
        unknown = set(emulator_options) - set(EMULATOR_OPTIONS)
        if unknown:
            raise TypeError(f"unknown RawModule option(s) {sorted(unknown)}; "
                            f"emulator options are {EMULATOR_OPTIONS}")
        self.path = Path(path).resolve() if path is not None else None
        self.code = self.path.read_text() if self.path is not None else str(code)
        self.options = tuple(options)
        self.enable_cooperative_groups = bool(enable_cooperative_groups)
        self.backend = _resolve_backend(backend)
        self.emulator_options = dict(emulator_options)
        self.filename = self.path.name if self.path is not None else "<kernel>.cu"
        self.signatures: dict[str, KernelSignature] = find_kernels(self.code)
        self.templates = find_templates(self.code)
        if isinstance(name_expressions, str):
            raise TypeError("name_expressions must be a list of strings, e.g. ['reduce<float, 256>'], "
                            f"got the string {name_expressions!r}")
        self.name_expressions = tuple(name_expressions or ())
        for expr in self.name_expressions:
            base = expression_base(expr)
            if base in self.templates:
                self.signatures[expr] = self.templates[base].instantiate(expr)
            elif expr not in self.signatures:
                raise KernelError(f"name expression {expr!r} names no __global__ function of "
                                  f"{self.filename}; template kernels: {sorted(self.templates)}, "
                                  f"others: {sorted(self.signatures)}")
        self._impl = None        # built lazily: compiling costs about a second the first time

    @property
    def kernel_names(self) -> list[str]:
        """Names of the ``__global__`` functions in the source."""
        return list(self.signatures)

    def _backend_module(self):
        if self._impl is None:
            self._impl = (_make_cupy_module(self) if self.backend == "cupy"
                          else _make_emulator_module(self))
        return self._impl

    def compile(self) -> "RawModule":
        """Compile now (otherwise the first launch compiles); returns self."""
        self._backend_module()
        return self

    def get_global(self, name: str):
        """The file-scope ``__constant__`` / ``__device__`` variable ``name`` as an array to read
        and write between launches (CuPy's ``get_global``, viewed with the declared type):
        ``mod.get_global("coeffs")[...] = values`` fills constant memory before a launch.

        Emulator: a NumPy view of the module's variable. CuPy: a ``cupy.ndarray`` on the symbol's
        device memory. Shape: the declared extents (a trailing axis of 2-4 for vector types);
        ``const`` variables come back read-only.
        """
        from .emulator.signature import find_globals
        if self.backend == "emulator":
            return self._backend_module().get_global(name)
        import cupy
        found = find_globals(self.code)
        if name not in found:
            raise KernelError(f"no __constant__ or __device__ variable '{name}' at file scope of "
                              f"{self.filename}; found {sorted(found)}")
        var = found[name]
        mem = self._backend_module().get_global(name)
        size = int(mem.mem.size) if getattr(mem, "mem", None) is not None else var.dtype.itemsize
        count = size // var.dtype.itemsize
        shape: tuple[int, ...] = (count,)
        if var.dims and all(d.isdigit() for d in var.dims):
            shape = tuple(int(d) for d in var.dims)
            per = count // int(np.prod(shape))
            shape += (per,) if per > 1 else ()
        elif not var.dims and count == 1:
            shape = ()
        return cupy.ndarray(shape, var.dtype, memptr=mem)

    def get_function(self, name: str) -> "RawKernel":
        if name not in self.signatures:
            base = expression_base(name)
            if base in self.templates:
                t = self.templates[base]
                have = [e for e in self.name_expressions if expression_base(e) == base]
                if have:
                    raise KernelError(f"'{name}' is not one of the name_expressions given for the "
                                      f"template kernel '{base}': {have}; get_function takes the "
                                      "same string as name_expressions")
                example = f"{base}<{', '.join('float' if p.kind == 'typename' else '16' for p in t.tparams)}>"
                raise KernelError(
                    f"'{base}' in {self.filename} is a template kernel ({t.header}): a template has "
                    f"no code until it is instantiated; pass RawModule(..., name_expressions="
                    f"[{example!r}]) and call get_function({example!r}) with your template "
                    "arguments, as in CuPy")
            raise KernelError(f"no __global__ function '{name}' in {self.filename}; "
                              f"found {self.kernel_names}")
        return RawKernel._from_module(self, name)

    def __repr__(self) -> str:
        return f"RawModule({self.filename}, backend={self.backend!r}, kernels={self.kernel_names})"


def _make_emulator_module(mod: RawModule):
    from .emulator.module import EmulatorModule
    return EmulatorModule(mod.code, filename=mod.filename, path=mod.path, options=mod.options,
                          signatures=mod.signatures, **mod.emulator_options)


def _make_cupy_module(mod: RawModule):
    import cupy
    opts = tuple(mod.options)
    if mod.path is not None and not any(o.startswith("-I") for o in opts):
        opts += (f"-I{mod.path.parent}",)
    try:
        return cupy.RawModule(code=mod.code, options=opts,
                              enable_cooperative_groups=mod.enable_cooperative_groups,
                              name_expressions=list(mod.name_expressions) or None)
    except Exception as exc:             # cupy.cuda.compiler.CompileException
        raise KernelError(f"NVRTC could not compile {mod.filename}:\n{exc}") from exc


class RawKernel:
    """One ``__global__`` function; call it as ``kernel(grid, block, args, shared_mem=0)``.

    ``RawKernel(code, name, options=(), backend=None, *, enable_cooperative_groups=False,
    **emulator_options)``. ``max_dynamic_shared_size_bytes`` (default None = the 48 KiB default
    limit) opts in to larger dynamic shared memory (up to 227 KiB in total), as on CuPy.
    ``enable_cooperative_groups=True``: a cooperative launch (every block resident at once, so
    ``this_grid().sync()`` works); a grid larger than a device can hold is refused.
    """

    def __init__(self, code: str, name: str, options: Sequence[str] = (),
                 backend: str | None = None, *, enable_cooperative_groups: bool = False,
                 **emulator_options: Any):
        mod = RawModule(code, options=options, backend=backend,
                        enable_cooperative_groups=enable_cooperative_groups, **emulator_options)
        if name not in mod.signatures:
            mod.get_function(name)          # raises, explaining a template kernel
        self._init(mod, name)

    @classmethod
    def _from_module(cls, mod: RawModule, name: str) -> "RawKernel":
        self = cls.__new__(cls)
        self._init(mod, name)
        return self

    def _init(self, mod: RawModule, name: str) -> None:
        self.module = mod
        self.name = name
        self.signature = mod.signatures[name]
        self.backend = mod.backend
        self.max_dynamic_shared_size_bytes: int | None = None
        self._cupy_fn = None

    def __repr__(self) -> str:
        return f"<RawKernel {self.signature} backend={self.backend!r}>"

    def __call__(self, grid, block, args, shared_mem: int = 0) -> None:
        grid3 = normalize_dim("grid", grid)
        block3 = normalize_dim("block", block)
        if not isinstance(args, (tuple, list)):
            raise ArgumentTypeError(f"{self.name}: args must be a tuple of arrays and NumPy scalars, "
                                    f"got {type(args).__name__}")
        impl = self.module._backend_module()
        static_smem = impl.static_shared_bytes(self.name) if self.backend == "emulator" else 0
        check_launch(self.name, grid3, block3, int(shared_mem), static_smem,
                     self.max_dynamic_shared_size_bytes)
        cooperative = self.module.enable_cooperative_groups
        if cooperative and self.backend == "emulator":
            # on a GPU the driver refuses a grid too large for the device it runs on
            check_cooperative(self.name, grid3, block3, static_smem + int(shared_mem), emulator=True)
        values = check_args(self.signature, tuple(args), self.backend)
        if self.backend == "emulator":
            impl.launch(self.name, grid3, block3, int(shared_mem), values, cooperative=cooperative)
        else:
            self._launch_cupy(impl, grid3, block3, int(shared_mem), values)

    def _launch_cupy(self, mod, grid3, block3, shared_mem, values) -> None:
        import cupy
        if self._cupy_fn is None:
            self._cupy_fn = mod.get_function(self.name)
        fn = self._cupy_fn
        if self.max_dynamic_shared_size_bytes is not None:
            fn.max_dynamic_shared_size_bytes = int(self.max_dynamic_shared_size_bytes)
        dev_args, copies = [], []
        for v in values:
            if isinstance(v, np.ndarray):
                d = cupy.asarray(v)
                copies.append((v, d))
                dev_args.append(d)
            else:
                dev_args.append(v)
        try:
            fn(grid3, block3, tuple(dev_args), shared_mem=shared_mem)
            for host, dev in copies:
                host[...] = cupy.asnumpy(dev)
        except Exception as exc:
            raise KernelError(f"{self.name}: CUDA launch failed: {exc}") from exc
