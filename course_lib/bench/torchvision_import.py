"""Import torchvision's model zoo, also where its compiled operators cannot load.

Why this exists: the course's pinned CPU build of torch (``torch==2.13.0+cpu``) has
no matching torchvision wheel; the only one available, ``torchvision==0.28.0`` from
PyPI, is built against the CUDA torch.  Its Python code installs fine, but its C++
extension (``torchvision._C``: ``nms``, ``roi_align``, ... the detection operators)
does not register against the CPU torch, and then ``import torchvision`` fails in
``torchvision/_meta_registrations.py``, which attaches shape functions ("fake"
kernels) to those operators::

    RuntimeError: operator torchvision::nms does not exist

The classification models (ResNet, ViT, ConvNeXt, ...) are plain ``torch.nn`` code
and never call those operators.  :func:`import_torchvision` therefore tries a normal
import first (Colab and matched installs take this path and nothing changes); only
on that specific error does it remove the half-imported ``torchvision*`` modules,
put an empty module in place of ``torchvision._meta_registrations`` and import
again.  Detection operators stay unavailable (:func:`detection_ops_available`).
"""
from __future__ import annotations

import importlib
import sys
import types

_STUB_NAME = "torchvision._meta_registrations"
_STUB_FLAG = "__course_lib_stub__"

INSTALL_HINT = ("torchvision is not installed; install it with `pip install torchvision` "
                "(the course pins torchvision==0.28.0 in requirements.txt; on Colab it is "
                "preinstalled)")


def _is_missing_op_error(exc: BaseException) -> bool:
    """The error of torchvision's C++ operators not being registered with torch."""
    text = str(exc)
    return isinstance(exc, RuntimeError) and "torchvision::" in text and "does not exist" in text


def _forget_torchvision() -> None:
    """Drop ``torchvision`` and its submodules from ``sys.modules`` (a failed import
    leaves some submodules behind, which would make the retry half-initialised)."""
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def stubbed() -> bool:
    """True if torchvision was imported through the stand-in (detection ops missing)."""
    return bool(getattr(sys.modules.get(_STUB_NAME), _STUB_FLAG, False))


def detection_ops_available() -> bool:
    """Whether torchvision's compiled operators (``nms``, ``roi_align``...) are usable.

    False after a stubbed import, or if torchvision cannot be imported at all.
    """
    try:
        tv = import_torchvision()
        return (not stubbed()) and bool(tv.extension._has_ops())
    except Exception:  # noqa: BLE001 - any failure means: not available
        return False


def import_torchvision() -> types.ModuleType:
    """Return the ``torchvision`` module, working around a CUDA-built wheel on CPU torch.

    Raises ImportError (with the install command) if torchvision is not installed,
    and re-raises any other import error unchanged.
    """
    try:
        return importlib.import_module("torchvision")
    except ModuleNotFoundError as exc:
        if exc.name == "torchvision":
            raise ImportError(INSTALL_HINT) from exc
        raise
    except RuntimeError as exc:
        if not _is_missing_op_error(exc):
            raise
        first_error = exc
    _forget_torchvision()
    stub = types.ModuleType(_STUB_NAME, "empty stand-in: torchvision's C++ operators did not "
                            "load against this torch build (course_lib.bench.torchvision_import)")
    setattr(stub, _STUB_FLAG, True)
    sys.modules[_STUB_NAME] = stub
    try:
        return importlib.import_module("torchvision")
    except Exception as exc:  # noqa: BLE001 - say what was tried, keep both errors
        _forget_torchvision()
        raise RuntimeError(f"torchvision failed to import ({first_error}); the retry without its "
                           f"operator registrations failed too: {exc!r}") from exc
