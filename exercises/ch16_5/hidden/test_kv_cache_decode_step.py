"""Hidden tests for kv_cache_decode_step.py."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import compare, submission_fixture

sub = submission_fixture("kv_cache_decode_step")


@pytest.mark.points(2)
def test_mqa_float32_with_a_prefilled_cache(sub):
    rng = np.random.default_rng(31)
    B, H, T, E = 2, 4, 7, 8
    q = rng.standard_normal((B, H, T, E)).astype(np.float32)
    k = (rng.standard_normal((B, 1, T, E)) * 10).astype(np.float32)
    v = rng.standard_normal((B, 1, T, E)).astype(np.float32)
    kc, vc = np.zeros((B, 1, 10, E), np.float32), np.zeros((B, 1, 10, E), np.float32)
    kc[:, :, :4], vc[:, :, :4] = k[:, :, :4], v[:, :, :4]          # a prefilled prompt
    ref = F.scaled_dot_product_attention(*(torch.from_numpy(a.astype(np.float64))
                                           for a in (q, k, v)), is_causal=True,
                                         enable_gqa=True).numpy()
    for t in range(4, T):
        out, kc, vc = sub.kv_cache_decode_step(q[:, :, t], k[:, :, t], v[:, :, t], kc, vc, t)
        out = np.asarray(out)
        assert out.dtype == np.float32, out.dtype
        compare(f"step {t}", out, ref[:, :, t].astype(np.float32), rtol=1e-4, atol=1e-5,
                case={"H_kv": 1, "dtype": "float32", "t": t})


@pytest.mark.points(1)
def test_first_token_attends_to_itself_only(sub):
    v = np.arange(6.0).reshape(1, 2, 3)
    kc, vc = np.zeros((1, 2, 4, 3)), np.zeros((1, 2, 4, 3))
    out, _, _ = sub.kv_cache_decode_step(np.ones((1, 2, 3)), np.ones((1, 2, 3)), v, kc, vc, 0)
    compare("out", np.asarray(out), v, rtol=1e-14, atol=0, case={"length": 0})
