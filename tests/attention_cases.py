"""Shared helpers for the attention tests: tolerances, torch conversion, case generators."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

torch.set_num_threads(1)  # the machine's cores are shared; small shapes gain nothing from threads

TOL = {np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5), np.dtype(np.float64): dict(rtol=1e-10, atol=1e-11)}


def close(got, ref, dtype, what="", scale=1.0):
    """assert_allclose with the dtype's tolerance (atol scaled by ``scale``)."""
    tol = dict(TOL[np.dtype(dtype)])
    tol["atol"] = tol["atol"] * scale
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else ref
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    np.testing.assert_allclose(got, ref, err_msg=what, **tol)


def tt(a, grad=False):
    """NumPy -> torch (a copy), optionally requiring grad."""
    if a is None:
        return None
    t = torch.from_numpy(np.array(a, copy=True))
    return t.requires_grad_(grad) if grad else t


@dataclass(frozen=True)
class SDPACase:
    batch: tuple
    L: int
    S: int
    E: int
    Ev: int
    mask: str            # none | bool_ls | bool_full | bool_bcast | float_ls | float_full
    causal: bool = False
    scale: float | None = None
    kv_batch: tuple | None = None   # broadcast k/v over leading dims

    def __str__(self):
        return (f"b{'x'.join(map(str, self.batch)) or '-'}_L{self.L}_S{self.S}_E{self.E}_Ev{self.Ev}_"
                f"{self.mask}{'_causal' if self.causal else ''}"
                f"{'' if self.scale is None else '_s%.2g' % self.scale}"
                f"{'' if self.kv_batch is None else '_kv' + 'x'.join(map(str, self.kv_batch))}")

    def arrays(self, dtype, seed=0):
        rng = np.random.default_rng(seed)
        kvb = self.batch if self.kv_batch is None else self.kv_batch
        q = rng.standard_normal(self.batch + (self.L, self.E)).astype(dtype)
        k = rng.standard_normal(kvb + (self.S, self.E)).astype(dtype)
        v = rng.standard_normal(kvb + (self.S, self.Ev)).astype(dtype)
        full = self.batch + (self.L, self.S)
        m = None
        if self.mask.startswith("bool"):
            shape = {"bool_ls": (self.L, self.S), "bool_full": full,
                     "bool_bcast": self.batch[:1] + (1,) * (len(self.batch) - 1) + (1, self.S)}[self.mask]
            m = rng.random(shape) > 0.3
            # keep every query with at least one key: torch's MHA and our convention then agree
            m[..., 0] = True
        elif self.mask.startswith("float"):
            shape = (self.L, self.S) if self.mask == "float_ls" else full
            m = rng.standard_normal(shape).astype(dtype)
            m[rng.random(shape) < 0.2] = -np.inf
            m[..., 0] = 0.0
        return q, k, v, m


def sdpa_cases(n=36, seed=16_4):
    rng = np.random.default_rng(seed)
    cases = [SDPACase((), 1, 1, 1, 1, "none"),                    # single query, single key
             SDPACase((2,), 5, 3, 4, 6, "bool_ls"),               # L > S
             SDPACase((2, 3), 4, 9, 8, 2, "float_full"),          # L < S, float mask per head
             SDPACase((2, 3), 6, 6, 4, 4, "none", causal=True),
             SDPACase((1, 2), 3, 7, 5, 5, "bool_bcast", causal=True),   # causal with L != S
             SDPACase((2, 2), 4, 5, 3, 3, "bool_full", scale=0.7),
             SDPACase((2, 3), 4, 6, 8, 5, "float_ls", kv_batch=(1, 3))]   # k, v broadcast
    masks = ["none", "bool_ls", "bool_full", "bool_bcast", "float_ls", "float_full"]
    while len(cases) < n:
        nb = int(rng.integers(0, 3))
        batch = tuple(int(b) for b in rng.integers(1, 4, nb))
        cases.append(SDPACase(batch, int(rng.integers(1, 9)), int(rng.integers(1, 9)),
                              int(rng.integers(1, 9)), int(rng.integers(1, 9)),
                              masks[int(rng.integers(len(masks)))] if nb else "bool_ls",
                              bool(rng.integers(0, 3) == 0),
                              None if rng.integers(0, 4) else float(rng.uniform(0.1, 2))))
    return cases


@dataclass(frozen=True)
class MHACase:
    E: int
    H: int
    N: int | None        # None = unbatched
    L: int
    S: int
    kdim: int | None = None
    vdim: int | None = None
    bias: bool = True
    batch_first: bool = False
    self_attn: bool = False
    attn_mask: str = "none"     # none | bool2d | bool3d | float2d | float3d
    kpm: str = "none"           # none | bool | float
    causal: bool = False

    def __str__(self):
        return (f"E{self.E}_H{self.H}_N{self.N}_L{self.L}_S{self.S}_k{self.kdim}_v{self.vdim}"
                f"{'' if self.bias else '_nobias'}{'_bf' if self.batch_first else ''}"
                f"{'_self' if self.self_attn else ''}_am-{self.attn_mask}_kpm-{self.kpm}"
                f"{'_causal' if self.causal else ''}")

    def layout(self, n, width):
        if self.N is None:
            return (n, width)
        return (self.N, n, width) if self.batch_first else (n, self.N, width)

    def arrays(self, dtype, seed=0):
        """query, key, value, attn_mask, key_padding_mask (torch's MHA convention)."""
        rng = np.random.default_rng(seed)
        kd, vd = self.kdim or self.E, self.vdim or self.E
        q = rng.standard_normal(self.layout(self.L, self.E)).astype(dtype)
        if self.self_attn:
            k = v = q
        else:
            k = rng.standard_normal(self.layout(self.S, kd)).astype(dtype)
            v = rng.standard_normal(self.layout(self.S, vd)).astype(dtype)
        L, S = self.L, (self.L if self.self_attn else self.S)
        am = None
        if self.attn_mask != "none":
            shape = (L, S) if self.attn_mask.endswith("2d") else ((self.N or 1) * self.H, L, S)
            if self.N is None and self.attn_mask.endswith("3d"):
                shape = (self.H, L, S)
            if self.attn_mask.startswith("bool"):
                am = rng.random(shape) < 0.3
                am[..., 0] = False                     # key 0 always allowed: no empty rows
            else:
                am = rng.standard_normal(shape).astype(dtype)
        kpm = None
        if self.kpm != "none":
            shape = (S,) if self.N is None else (self.N, S)
            if self.kpm == "bool":
                kpm = rng.random(shape) < 0.3
                kpm[..., 0] = False
            else:
                kpm = rng.standard_normal(shape).astype(dtype)
        return q, k, v, am, kpm


def mha_cases(n=30, seed=4):
    rng = np.random.default_rng(seed)
    cases = [MHACase(8, 2, 3, 5, 5, self_attn=True),
             MHACase(8, 2, 3, 5, 5, self_attn=True, batch_first=True, attn_mask="bool2d", kpm="bool"),
             MHACase(12, 3, 2, 4, 7, kdim=5, vdim=6, attn_mask="float3d"),     # cross, kdim/vdim
             MHACase(6, 6, 2, 3, 4, bias=False, batch_first=True, kpm="float"),  # head_dim 1
             MHACase(8, 1, None, 4, 6, attn_mask="bool3d"),                     # unbatched
             MHACase(8, 4, 2, 6, 6, self_attn=True, causal=True, kpm="bool"),
             MHACase(10, 2, 1, 1, 3, vdim=4, batch_first=True)]
    ams = ["none", "bool2d", "bool3d", "float2d", "float3d"]
    while len(cases) < n:
        H = int(rng.integers(1, 4))
        E = H * int(rng.integers(1, 4))
        selfa = bool(rng.integers(0, 2))
        cases.append(MHACase(E, H, None if rng.integers(0, 5) == 0 else int(rng.integers(1, 4)),
                             int(rng.integers(1, 7)), int(rng.integers(1, 7)),
                             None if selfa or rng.integers(0, 2) else int(rng.integers(1, 7)),
                             None if selfa or rng.integers(0, 2) else int(rng.integers(1, 7)),
                             bool(rng.integers(0, 4)), bool(rng.integers(0, 2)), selfa,
                             ams[int(rng.integers(len(ams)))],
                             ["none", "bool", "float"][int(rng.integers(3))],
                             selfa and bool(rng.integers(0, 3) == 0)))
    return cases
