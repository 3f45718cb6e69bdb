// Emulator stand-in for <cuda_runtime_api.h>: everything it declares comes from simt.h (force-included).
#pragma once
