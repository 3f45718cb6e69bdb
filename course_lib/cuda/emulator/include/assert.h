// Emulator stand-in: a device assert() that fails the launch with KernelFaultError naming
// file:line, instead of aborting the Python process.
#ifdef assert
#undef assert
#endif
#define assert(e) ((e) ? (void)0 : ::__simt::fail("assertion failed: " #e, __FILE__, __LINE__))
