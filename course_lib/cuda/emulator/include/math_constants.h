// Emulator stand-in for <math_constants.h>: everything it declares comes from simt.h (force-included).
#pragma once
