// Emulator stand-in for <device_launch_parameters.h>: everything it declares comes from simt.h (force-included).
#pragma once
