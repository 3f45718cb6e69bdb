"""NVRTC (the compiler CuPy uses) accepts every .cu file of the course, for every target GPU.

Every ``.cu`` file under ``course_lib/`` (all packages) and every kernel exercise (solution and
released stub) compiles for sm_75, sm_80, sm_89 and sm_90, or for those its
``// nvrtc: min-arch`` marker allows; ptxas's report is parsed.

No GPU needed: NVRTC and ptxas run on the CPU.  The emulator builds the same sources with g++,
which accepts code NVRTC rejects, so this is the only check on a GPU-less CI that the kernels
will compile under CuPy.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from course_lib.cuda import nvrtc
from course_lib.cuda.resources import format_resource_table, parse_ptxas_log, resource_table

OK, WHY = nvrtc.nvrtc_available()
if not OK:
    if os.environ.get("CI"):
        # requirements.txt installs cuda-bindings and nvidia-cuda-nvrtc-cu12: CI must have them
        raise RuntimeError(f"NVRTC must load in CI: {WHY}")
    pytest.skip(f"NVRTC unavailable: {WHY}", allow_module_level=True)

FILES = nvrtc.package_cuda_files()
TARGETS = nvrtc.check_targets()
ARCH = "sm_90"
_GLOBAL = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(')


def _kernel_names_in(source: str) -> set[str]:
    """The extern "C" __global__ functions of a source, found by a regex (independent of ptxas)."""
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.S)
    return set(_GLOBAL.findall(text))


def _kernel_names(path: Path) -> set[str]:
    return _kernel_names_in(path.read_text())


@pytest.fixture(scope="module")
def compiled() -> dict[Path, nvrtc.CompileResult]:
    return {p: nvrtc.compile_cuda(p, arch=ARCH) for p in FILES}


def test_package_has_cuda_files():
    labels = {nvrtc.label_of(p) for p in FILES}
    assert {"course_lib/conv/kernels/conv2d_naive.cu", "course_lib/conv/kernels/im2col.cu",
            "course_lib/cuda/examples/warp_reduce.cu"} <= labels
    # every .cu file of every package, wherever it sits (an independent walk of the tree)
    walked = {p.resolve() for p in nvrtc.COURSE_DIR.glob("**/*.cu")}
    assert {p.resolve() for p in nvrtc.package_cuda_files()} == walked


def _arch_cases():
    for label, target in TARGETS:
        source = target.read_text() if isinstance(target, Path) else target
        for arch in nvrtc.ARCHS:
            marks = ()
            if arch not in nvrtc.archs_for(source):
                marks = pytest.mark.skip(reason=f"{label} needs a newer GPU (min-arch marker)")
            yield pytest.param(label, target, arch, id=f"{label}-{arch}", marks=marks)


@pytest.mark.parametrize("label, target, arch", list(_arch_cases()))
def test_every_kernel_compiles_for_every_target_gpu(label, target, arch):
    source = target.read_text() if isinstance(target, Path) else target
    result = nvrtc.compile_cuda(target, arch=arch, name=Path(label.split(" ")[0]).name)
    assert result.binary[:4] == b"\x7fELF", "a CUBIN is an ELF file"
    want = _kernel_names_in(source)
    assert {k["kernel"] for k in result.kernels} >= want, (label, arch, result.log)


def test_min_arch_marker_is_read():
    src = "// nvrtc: min-arch sm_80\nextern \"C\" __global__ void k(float* y) { y[0] = 1.f; }"
    assert nvrtc.min_arch(src) == 80
    assert nvrtc.archs_for(src) == ["sm_80", "sm_89", "sm_90"]
    assert nvrtc.archs_for("extern \"C\" __global__ void k() {}") == list(nvrtc.ARCHS)


def test_an_sm80_intrinsic_fails_on_sm75_which_is_why_the_marker_exists():
    # __reduce_add_sync is an sm_80 instruction: NVRTC refuses it for a T4 (sm_75)
    src = ("// nvrtc: min-arch sm_80\n"
           "extern \"C\" __global__ void k(unsigned* y) {\n"
           "    y[threadIdx.x] = __reduce_add_sync(0xffffffffu, y[threadIdx.x]); }\n")
    assert nvrtc.archs_for(src) == ["sm_80", "sm_89", "sm_90"]
    nvrtc.compile_cuda(src, arch="sm_80")
    with pytest.raises(nvrtc.NvrtcError, match="__reduce_add_sync"):
        nvrtc.compile_cuda(src, arch="sm_75")


@pytest.mark.parametrize("path", FILES, ids=nvrtc.label_of)
def test_every_package_file_compiles_to_cubin(path, compiled):
    result = compiled[path]
    assert result.is_cubin and result.binary[:4] == b"\x7fELF", "a CUBIN is an ELF file"
    found = {k["kernel"] for k in result.kernels}
    assert found == _kernel_names(path), f"ptxas report of {path.name}:\n{result.log}"
    for k in result.kernels:
        assert k["arch"] == ARCH
        assert 0 < k["registers"] <= 255, k


def test_resource_table_has_one_row_per_kernel():
    rows = resource_table(FILES, arch=ARCH)
    want = {(nvrtc.label_of(p), k) for p in FILES if ARCH in nvrtc.archs_for(p.read_text())
            for k in _kernel_names(p)}
    assert {(r["file"], r["kernel"]) for r in rows} == want
    table = format_resource_table(rows, arch=ARCH)
    assert "sm_90" in table
    body = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(body) == len(want)


def test_static_shared_memory_and_barriers_are_read():
    src = """
    extern "C" __global__ void reverse256(const float* x, float* y) {
        __shared__ float s[256];
        s[threadIdx.x] = x[threadIdx.x];
        __syncthreads();
        y[threadIdx.x] = s[255 - threadIdx.x];
    }"""
    (k,) = nvrtc.compile_cuda(src, arch=ARCH).kernels
    assert k["kernel"] == "reverse256"
    assert k["smem_static_bytes"] == 256 * 4
    assert k["barriers"] >= 1
    assert k["spill_store_bytes"] == 0


def test_register_cap_forces_spills_that_the_parser_reports():
    src = """
    extern "C" __global__ void heavy(const float* x, float* y, int n) {
        float a[24];
        #pragma unroll
        for (int j = 0; j < 24; ++j) a[j] = x[threadIdx.x + j * n];
        float s = 0.f;
        #pragma unroll
        for (int j = 0; j < 24; ++j)
            #pragma unroll
            for (int k = 0; k < 24; ++k) s += a[j] * a[k] * x[k];
        #pragma unroll
        for (int j = 0; j < 24; ++j) y[threadIdx.x + j * n] = a[j] * s;
    }"""
    free = nvrtc.compile_cuda(src, arch=ARCH).kernels[0]
    capped = nvrtc.compile_cuda(src, arch=ARCH, options=("--maxrregcount=24",)).kernels[0]
    assert capped["registers"] <= 24 < free["registers"]
    assert capped["spill_store_bytes"] > 0 and capped["spill_load_bytes"] > 0
    assert capped["stack_bytes"] > 0


def test_infinity_without_a_header_is_rejected_with_the_log():
    # g++ (the emulator) gets INFINITY from <cmath>; NVRTC has no such macro without a header
    src = 'extern "C" __global__ void fill_inf(float* y) { y[threadIdx.x] = -INFINITY; }'
    with pytest.raises(nvrtc.NvrtcError) as info:
        nvrtc.compile_cuda(src, arch=ARCH, name="fill_inf.cu")
    assert 'identifier "INFINITY" is undefined' in str(info.value)
    assert "fill_inf.cu(1)" in info.value.log


def test_the_portable_spelling_compiles():
    src = 'extern "C" __global__ void fill_inf(float* y) { y[threadIdx.x] = -__int_as_float(0x7f800000); }'
    assert nvrtc.compile_cuda(src, arch=ARCH).kernels[0]["kernel"] == "fill_inf"


def test_syntax_error_is_rejected_with_line_number():
    src = 'extern "C" __global__ void k(float* y) {\n    y[0] = 1.0f\n}\n'
    with pytest.raises(nvrtc.NvrtcError) as info:
        nvrtc.compile_cuda(src, arch=ARCH, name="broken.cu")
    assert "broken.cu(3)" in info.value.log or "broken.cu(2)" in info.value.log
    assert 'expected a ";"' in str(info.value)


def test_ptx_for_a_virtual_architecture():
    src = 'extern "C" __global__ void k(float* y) { y[threadIdx.x] = 1.0f; }'
    result = nvrtc.compile_cuda(src, arch="compute_90")
    assert b".entry k" in result.binary and result.kernels == []


def test_parser_ignores_device_function_properties_and_sums_cmem_banks():
    # the older ptxas layout (cmem banks listed), with a non-inlined device function in between
    log = "\n".join([
        "ptxas info    : Function properties for helper",
        "ptxas         .     8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads",
        "ptxas info    : Compiling entry function 'k1' for 'sm_80'",
        "ptxas info    : Function properties for k1",
        "ptxas         .     16 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads",
        "ptxas info    : Used 40 registers, 2048 bytes smem, 360 bytes cmem[0], 8 bytes cmem[2]",
    ])
    (k,) = parse_ptxas_log(log)
    assert (k["kernel"], k["arch"], k["registers"]) == ("k1", "sm_80", 40)
    assert (k["stack_bytes"], k["spill_store_bytes"], k["smem_static_bytes"]) == (16, 0, 2048)
    assert k["cmem_bytes"] == 368


def test_cli_writes_tables_and_fails_on_a_bad_file(tmp_path):
    md, js = tmp_path / "r.md", tmp_path / "r.json"
    good = nvrtc.COURSE_DIR / "conv" / "kernels" / "conv2d_naive.cu"
    assert nvrtc.main(["--arch", ARCH, "--markdown", str(md), "--json", str(js), str(good)]) == 0
    assert "conv2d_naive" in md.read_text() and '"arch": "sm_90"' in js.read_text()
    bad = tmp_path / "bad.cu"
    bad.write_text('extern "C" __global__ void k(float* y) { y[0] = undefined_name; }\n')
    assert nvrtc.main(["--arch", ARCH, str(good), str(bad)]) == 1


def test_committed_resource_table_lists_every_kernel():
    """benchmarks/results/kernel_resources.json must be regenerated when a kernel is added:
    python -m course_lib.cuda.nvrtc --markdown benchmarks/results/kernel_resources.md \\
        --json benchmarks/results/kernel_resources.json"""
    import json
    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    committed = json.loads((results / "kernel_resources.json").read_text())
    assert committed["arch"] == ARCH
    have = {(k["file"], k["kernel"]) for k in committed["kernels"]}
    want = {(nvrtc.label_of(p), k) for p in FILES if ARCH in nvrtc.archs_for(p.read_text())
            for k in _kernel_names(p)}
    assert want <= have, f"regenerate the table; missing {sorted(want - have)}"
    assert "sm_90" in (results / "kernel_resources.md").read_text()


EXERCISE_CU = sorted((Path(__file__).resolve().parents[2] / "exercises").glob("ch*/*.cu"))


@pytest.mark.parametrize("path", EXERCISE_CU, ids=lambda p: p.name)
def test_exercise_kernels_compile_with_nvrtc(path):
    # the reference solution of a kernel exercise must compile where CuPy compiles it, and so must
    # the stub a learner receives (its solution region replaced by a comment)
    from course_lib.grading.regions import make_stub
    for label, source in (("solution", path.read_text()), ("stub", make_stub(path.read_text(), path.name))):
        result = nvrtc.compile_cuda(source, arch=ARCH)
        assert {k["kernel"] for k in result.kernels} == _kernel_names(path), (label, result.log)
