// Emulator stand-in for <cuda.h>: everything it declares comes from simt.h (force-included).
#pragma once
