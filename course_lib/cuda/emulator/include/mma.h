// Emulator stand-in for <mma.h>: nvcuda::wmma (16x16x16 fragments) from simt_wmma.h.
#pragma once
#include "../simt_wmma.h"
