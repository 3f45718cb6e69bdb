// Emulator stand-in for <cuda_fp16.h>: everything it declares comes from simt.h (force-included).
#pragma once
