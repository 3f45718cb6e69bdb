// Emulator stand-in for <vector_types.h>: everything it declares comes from simt.h (force-included).
#pragma once
