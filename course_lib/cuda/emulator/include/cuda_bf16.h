// Emulator stand-in for <cuda_bf16.h>: __nv_bfloat16, __nv_bfloat162 and their intrinsics come from
// simt_half.h, which simt.h (force-included) includes.
#pragma once
