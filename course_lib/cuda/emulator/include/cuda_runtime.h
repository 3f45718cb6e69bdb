// Emulator stand-in for <cuda_runtime.h>: everything it declares comes from simt.h (force-included).
#pragma once
