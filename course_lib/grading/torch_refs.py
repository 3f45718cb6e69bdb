"""PyTorch references for exercise tests (float64 autograd, conv2d, fold, unfold).

torch is imported when this module is, i.e. while pytest collects the test file, so the
import time (a second or more) never counts against a test's timeout.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def torch_conv2d_grads(dy, x, w, stride, padding):
    """(dx, dw, db) of ``torch.nn.functional.conv2d`` in float64 via autograd."""

    xt = torch.tensor(np.asarray(x, np.float64), requires_grad=True)
    wt = torch.tensor(np.asarray(w, np.float64), requires_grad=True)
    bt = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    y = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    y.backward(torch.tensor(np.asarray(dy, np.float64)))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def torch_conv2d(x, w, stride=1, padding=0):
    """``torch.nn.functional.conv2d`` in float64, as NumPy."""

    return F.conv2d(torch.tensor(np.asarray(x, np.float64)), torch.tensor(np.asarray(w, np.float64)),
                    stride=stride, padding=padding).numpy()


def torch_fold(cols, out_hw, kernel, stride, padding):
    """``torch.nn.functional.fold`` in float64 (the col2im of the unfold layout)."""

    return F.fold(torch.tensor(np.asarray(cols, np.float64)), output_size=out_hw, kernel_size=kernel,
                  stride=stride, padding=padding).numpy()


def torch_unfold(x, kernel, stride, padding):
    """``torch.nn.functional.unfold`` in float64 (im2col: (B, C*KH*KW, OH*OW))."""

    return F.unfold(torch.tensor(np.asarray(x, np.float64)), kernel_size=kernel, stride=stride,
                    padding=padding).numpy()
