// Emulator stand-in for <cuda_bf16.h>: everything it declares comes from simt.h (force-included).
#pragma once
