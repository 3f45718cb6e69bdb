// Emulator stand-in for <cuda_fp16.h>: __half, __half2 and their intrinsics come from simt_half.h,
// which simt.h (force-included) includes.
#pragma once
