"""The 16.6 image classifiers: analytic counts against torchvision's modules and
FlopCounterMode, the torchvision import workaround, the fresh-process memory probe."""
import types

import pytest
import torch

from course_lib.bench import torchvision_import as tvi
from course_lib.bench import vision_models as vm

torch.set_num_threads(1)  # pytest-xdist already uses every core
NAMES = list(vm.MODELS)


@pytest.fixture(scope="module")
def tv():
    return tvi.import_torchvision()


@pytest.fixture(scope="module")
def meta_models():
    """Shape-only models (no memory, no initialisation): enough for counting."""
    return {name: vm.build(name, "meta") for name in NAMES}


def _zeroed_cpu_model(name: str, image_size: int) -> torch.nn.Module:
    """A CPU model with zero-filled tensors: counts and shapes do not depend on the
    values, and zeroing skips the second-long random initialisation of each model."""
    model = vm.build(name, "meta", image_size=image_size).to_empty(device="cpu")
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            t.zero_()
    return model


@pytest.fixture(scope="module")
def small_cpu_models():
    """CPU models for 64x64 input (ViT built for 64: 16 patches + class token)."""
    return {name: _zeroed_cpu_model(name, 64) for name in NAMES}


# ---------------------------------------------------------------- import workaround

def test_import_torchvision_gives_working_models(tv):
    assert hasattr(tv.models, "resnet50") and callable(tv.models.convnext_base)
    if tvi.stubbed():                    # the CPU-torch case: detection ops are gone
        assert tvi.detection_ops_available() is False


def _fake_importer(monkeypatch, outcomes):
    """Replace importlib.import_module and sys.modules inside torchvision_import only."""
    fake_modules = {"torchvision.extension": object(), "torchvision.ops": object(),
                    "torch": object()}
    monkeypatch.setattr(tvi, "sys", types.SimpleNamespace(modules=fake_modules))
    calls = []

    def import_module(name):
        calls.append(dict(fake_modules))
        out = outcomes[len(calls) - 1]
        if isinstance(out, BaseException):
            raise out
        return out
    monkeypatch.setattr(tvi, "importlib", types.SimpleNamespace(import_module=import_module))
    return fake_modules, calls


def test_import_retries_with_stub_on_missing_operator(monkeypatch):
    sentinel = types.ModuleType("torchvision")
    modules, calls = _fake_importer(
        monkeypatch, [RuntimeError("operator torchvision::nms does not exist"), sentinel])
    assert tvi.import_torchvision() is sentinel
    assert len(calls) == 2
    seen_on_retry = calls[1]
    # the half-imported submodules were dropped, torch kept, the stand-in installed
    assert "torchvision.extension" not in seen_on_retry and "torch" in seen_on_retry
    assert getattr(seen_on_retry["torchvision._meta_registrations"], "__course_lib_stub__")


def test_import_reraises_other_runtime_errors(monkeypatch):
    _fake_importer(monkeypatch, [RuntimeError("CUDA driver too old")])
    with pytest.raises(RuntimeError, match="CUDA driver too old"):
        tvi.import_torchvision()


def test_import_says_how_to_install_when_missing(monkeypatch):
    _fake_importer(monkeypatch, [ModuleNotFoundError("No module named 'torchvision'",
                                                     name="torchvision")])
    with pytest.raises(ImportError, match="pip install torchvision"):
        tvi.import_torchvision()


# ---------------------------------------------------------------- validation

def test_build_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"name must be one of .*'resnet50'.*got 'resnet51'"):
        vm.build("resnet51")
    with pytest.raises(ValueError, match="multiple of the patch size 16.*got 100"):
        vm.build("vit_b_16", "meta", image_size=100)
    with pytest.raises(ValueError, match="dtype must be a floating torch.dtype"):
        vm.build("resnet50", "meta", dtype=torch.int32)
    with pytest.raises(ValueError, match="image_size must be an int >= 32"):
        vm.analytic_macs("resnet50", 16)
    with pytest.raises(ValueError, match="batch must be an int >= 1, got 0"):
        vm.example_input(0)
    with pytest.raises(ValueError, match="dtype must be 'float32'.*got 'int8'"):
        vm.forward_peak_memory("resnet50", 1, dtype="int8")
    with pytest.raises(ValueError, match="kind'\\] must be 'forward' or 'allocate'"):
        vm.peak_memory_subprocess({"kind": "sleep"})


# ---------------------------------------------------------------- parameter counts

@pytest.mark.parametrize("name", NAMES)
def test_analytic_params_equal_module_params(name, meta_models):
    assert vm.analytic_params(name) == vm.module_params(meta_models[name])


def test_vit_params_follow_image_size(small_cpu_models):
    # only the position table changes: (4^2 + 1) tokens instead of 14^2 + 1
    assert vm.analytic_params("vit_b_16", 64) == vm.module_params(small_cpu_models["vit_b_16"])
    assert vm.analytic_params("vit_b_16", 224) - vm.analytic_params("vit_b_16", 64) == \
        (197 - 17) * 768


@pytest.mark.parametrize("name", NAMES)
def test_counts_match_torchvision_metadata(name, tv):
    """torchvision documents num_params and GFLOPS ("_ops", really GMACs, 3 decimals)
    for its ImageNet weights: an independent statement of both counts."""
    spec = {"resnet50": "ResNet50_Weights.IMAGENET1K_V1",
            "vit_b_16": "ViT_B_16_Weights.IMAGENET1K_V1",
            "convnext_base": "ConvNeXt_Base_Weights.IMAGENET1K_V1"}[name]
    meta = tv.models.get_weight(spec).meta
    assert vm.analytic_params(name) == meta["num_params"]
    assert vm.analytic_macs(name) / 1e9 == pytest.approx(meta["_ops"], abs=6e-4)


def test_weights_bytes_of_models_without_buffers(meta_models):
    for name in ("vit_b_16", "convnext_base"):   # no BatchNorm statistics
        assert vm.weights_bytes(meta_models[name]) == 4 * vm.analytic_params(name)
    half = vm.build("convnext_base", "meta", torch.float16)
    assert vm.weights_bytes(half) == 2 * vm.analytic_params("convnext_base")


# ---------------------------------------------------------------- FLOPs

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [64, 224])
def test_flop_counter_is_twice_the_analytic_macs(name, size):
    """FlopCounterMode: 2 FLOPs per MAC of convs (grouped ones included), matmuls and
    attention; biases, norms, activations, softmax, pooling and adds not counted --
    exactly the set the analytic count covers, so the relation is exact."""
    assert vm.flops_per_image(name, size) == 2 * vm.analytic_macs(name, size)


@pytest.mark.parametrize("name", NAMES)
def test_meta_count_equals_real_cpu_count(name, small_cpu_models):
    x = vm.example_input(1, 64)
    assert vm.count_flops(small_cpu_models[name], x) == 2 * vm.analytic_macs(name, 64)


def test_default_attention_path_hides_vit_attention(small_cpu_models):
    """The trap the module doc describes: with torch's default paths the CPU count of
    the CNNs is unchanged, ViT's loses at least its attention matmuls."""
    x = vm.example_input(1, 64)
    for name in ("resnet50", "convnext_base"):
        assert vm.count_flops(small_cpu_models[name], x, visible=False) == \
            2 * vm.analytic_macs(name, 64)
    hidden = vm.count_flops(small_cpu_models["vit_b_16"], x, visible=False)
    assert hidden <= 2 * (vm.analytic_macs("vit_b_16", 64)
                          - vm.vit_attention_macs(vm.MODELS["vit_b_16"].config, 64))
    # and counting restores the fast-path setting it changed
    assert torch.backends.mha.get_fastpath_enabled()


def test_batch_scales_flops(meta_models):
    x = torch.empty(3, 3, 224, 224, device="meta")
    assert vm.count_flops(meta_models["resnet50"], x) == 3 * vm.flops_per_image("resnet50")


# ---------------------------------------------------------------- activations

@pytest.mark.parametrize("name", NAMES)
def test_largest_activation_matches_module_outputs(name, small_cpu_models):
    """Reference: the largest output of any leaf module in a real 64x64 forward (for
    ViT at 64 the MLP hidden layer is the largest tensor, and a Linear's output)."""
    model = small_cpu_models[name]
    sizes = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: sizes.append(out.numel()))
             for m in model.modules() if not list(m.children())]
    try:
        vm.forward_fn(model, vm.example_input(1, 64))()
    finally:
        for h in hooks:
            h.remove()
    assert vm.largest_activation_elements(name, 64) == max(sizes)


# ---------------------------------------------------------------- published numbers

def test_published_torchvision_accuracies_match_weight_metadata(tv):
    checked = 0
    for name, pubs in vm.PUBLISHED_TOP1.items():
        assert pubs and all(p.source for p in pubs), name
        for p in pubs:
            if p.torchvision_weights:
                meta = tv.models.get_weight(p.torchvision_weights).meta
                assert meta["_metrics"]["ImageNet-1K"]["acc@1"] == pytest.approx(p.top1)
                checked += 1
    assert checked == 4


# ---------------------------------------------------------------- memory probe

def test_peak_memory_probe_sees_a_known_allocation():
    nbytes = 96 * 2 ** 20
    r = vm.allocation_peak_memory(nbytes)
    if not r["hwm_reset"]:
        pytest.skip("the resident high-water mark cannot be reset on this OS")
    # page granularity and torch's own bookkeeping: within a few MiB above the buffer
    assert nbytes <= r["forward_peak_bytes"] <= nbytes + 8 * 2 ** 20
    assert r["peak_bytes"] >= r["forward_peak_bytes"]
