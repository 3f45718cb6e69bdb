// simt_runtime.cpp -- the SIMT emulator's scheduler. Compiled once per build mode (plain, ASan,
// TSan) into an object that is linked into every kernel library. It is never instrumented by a
// sanitizer itself: under TSan only barriers and warp operations create happens-before edges
// (through __tsan_release/__tsan_acquire), so a missing __syncthreads shows up as a data race.
//
// Model: blocks are handed out to a few OS worker threads. The threads of one block run as
// ucontext fibers on one worker; each fiber runs until it reaches a barrier, a warp operation or
// returns. When no fiber can run, the scheduler resolves complete warp operations, then the block
// barrier, and otherwise reports divergence / deadlock naming the source lines.
//
// Cooperative launch (this_grid().sync()): every block of the grid gets its own worker, so all
// blocks are resident together, as the GPU guarantees for cudaLaunchCooperativeKernel. A worker
// whose threads have all reached the grid barrier waits there until every block has arrived.
#define SIMT_RUNTIME_BUILD
#include "simt.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdarg>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(SIMT_TSAN)
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
}
#define TSAN_ACQUIRE(a) __tsan_acquire(a)
#define TSAN_RELEASE(a) __tsan_release(a)
#else
#define TSAN_ACQUIRE(a) ((void)0)
#define TSAN_RELEASE(a) ((void)0)
#endif
#if defined(SIMT_ASAN)
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, size_t* size_old);
}
#endif

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace {

enum State { RUNNABLE = 0, AT_BARRIER, AT_WARP, EXITED, AT_GRID };
enum Code { OK = 0, E_DIVERGENCE = 1, E_DEADLOCK = 2, E_WARP = 3, E_FAULT = 4, E_COOPERATIVE = 5,
            E_INTERNAL = 6 };
enum Schedule { FORWARD = 0, REVERSE = 1, RANDOM = 2 };
enum Mode { PLAIN = 0, ASAN = 1, TSAN = 2 };

const char* op_name(int op) {
    static const char* names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync",
                                  "__ballot_sync", "__any_sync", "__all_sync", "__syncwarp",
                                  "__match_any_sync", "__match_all_sync", "__reduce_add_sync",
                                  "__reduce_min_sync", "__reduce_max_sync", "__reduce_min_sync",
                                  "__reduce_max_sync", "__reduce_and_sync", "__reduce_or_sync",
                                  "__reduce_xor_sync", "__activemask"};
    return (op >= 0 && op < (int)(sizeof(names) / sizeof(names[0]))) ? names[op] : "warp operation";
}
const char* barrier_name(int kind) {
    static const char* names[] = {"__syncthreads()", "__syncthreads_count()", "__syncthreads_and()",
                                  "__syncthreads_or()"};
    return names[kind & 3];
}

struct Fiber {
    ucontext_t ctx;
    char* stack = nullptr;
    size_t stack_size = 0;
    int state = RUNNABLE;
    uint3 tid{};
    const char* file = "";
    int line = 0;
    int bar_kind = 0, pred = 0, bar_result = 0;
    int wop = 0, arg = 0, width = 32;
    unsigned mask = 0;
    uint64_t val = 0, res = 0;
    void* tsan_fiber = nullptr;
    void* fake_stack = nullptr;
};

struct Launch;

struct Worker {
    Launch* L = nullptr;
    ucontext_t sched_ctx;
    std::vector<Fiber> fibers;
    std::vector<int> order;
    int n = 0, cur = -1;
    bool in_fiber = false, aborted = false;
    char* smem = nullptr;           // dynamic shared memory seen by the kernel
    void* smem_map = nullptr;       // the mapping (plain mode: guard page right after the buffer)
    size_t smem_map_size = 0;
    std::mt19937_64 rng;
    void* tsan_sched = nullptr;
    std::vector<void*> tsan_pool;   // TSan fibers; CUDA thread t runs on tsan_pool[t % size]
    void* fake_stack = nullptr;
    const void* sched_stack_bottom = nullptr;
    size_t sched_stack_size = 0;
    char bar_sync = 0;
    std::vector<char> lane_sync;     // TSan: one release object per CUDA thread (warp operations)
    // TSan: fibers of the k-th block on this worker release block_sync[k%2] when they return and
    // acquire block_sync[(k+1)%2] (the previous block's) when they start: blocks on one worker are
    // ordered, threads of one block are not.
    char block_sync[2] = {};
    long long block_count = 0;
    long long grid_count = 0;        // grid barriers this worker's block has passed
};

struct Launch {
    void (*thunk)(void**) = nullptr;
    void** args = nullptr;
    unsigned grid[3], block[3];
    long long nblocks = 0;
    size_t shmem = 0;
    int schedule = FORWARD, mode = PLAIN, nworkers = 1;   // nworkers: OS threads actually started
    uint64_t seed = 0, perm_a = 1, perm_c = 0;
    std::atomic<long long> next{0};
    std::atomic<int> code{OK};
    std::mutex mu;
    std::string msg;
    std::atomic_flag out_lock = ATOMIC_FLAG_INIT;   // spin lock: invisible to TSan, unlike a mutex
    std::string out;
    // cooperative launch: one worker per block and a grid-wide barrier
    int cooperative = 0;
    std::mutex grid_mu;
    std::condition_variable grid_cv;
    long long grid_arrived = 0, grid_gen = 0, grid_finished = 0;
    char grid_sync[2] = {};          // TSan: released on arrival, acquired on release (by parity)
};

thread_local Worker* tl_w = nullptr;
thread_local std::vector<void*> tl_smem_blocks;   // ASan build: this worker's static __shared__ arrays
std::mutex g_launch_mu;                 // one launch at a time per library (signal handlers, output)

size_t page_size() { static size_t p = (size_t)sysconf(_SC_PAGESIZE); return p; }

// ------------------------------------------------------------------------ stacks (pooled)
std::mutex g_stack_mu;
std::vector<std::pair<char*, size_t>> g_stack_pool;

char* get_stack(size_t size) {
    {
        std::lock_guard<std::mutex> g(g_stack_mu);
        for (size_t i = 0; i < g_stack_pool.size(); ++i)
            if (g_stack_pool[i].second == size) {
                char* s = g_stack_pool[i].first;
                g_stack_pool[i] = g_stack_pool.back();
                g_stack_pool.pop_back();
                return s;
            }
    }
    size_t total = size + page_size();
    void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    mprotect(p, page_size(), PROT_NONE);       // guard page: a stack overflow faults
    return (char*)p + page_size();
}
void put_stack(char* s, size_t size) {
    std::lock_guard<std::mutex> g(g_stack_mu);
    g_stack_pool.emplace_back(s, size);
}

// ------------------------------------------------------------------------ errors
std::string where(Worker* w, int t) {
    char buf[160];
    const Fiber& f = w->fibers[t];
    snprintf(buf, sizeof buf, "block (%u,%u,%u) thread (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z,
             f.tid.x, f.tid.y, f.tid.z);
    return buf;
}
std::string site(const Fiber& f) { return std::string(f.file) + ":" + std::to_string(f.line); }

void record_error(Launch* L, int code, const std::string& msg) {
    std::lock_guard<std::mutex> g(L->mu);
    int expected = OK;
    if (L->code.compare_exchange_strong(expected, code)) L->msg = msg;
}

void switch_to_scheduler(Worker* w);

[[noreturn]] void fail_in_fiber(Worker* w, int code, const std::string& msg) {
    record_error(w->L, code, msg);
    w->aborted = true;
    w->fibers[w->cur].state = EXITED;
    switch_to_scheduler(w);
    abort();   // never resumed
}

// ------------------------------------------------------------------------ fiber switching
void fiber_main();

// TSan: make fiber t acquire `obj` now, from the scheduler. Acquiring eagerly, when a barrier or
// warp operation is released, and not lazily when the fiber next runs, matters: by then faster
// threads may have released the same object again after writing.
void acquire_as(Worker* w, int t, void* obj) {
#if defined(SIMT_TSAN)
    __tsan_switch_to_fiber(w->fibers[t].tsan_fiber, 1);
    __tsan_acquire(obj);
    __tsan_switch_to_fiber(w->tsan_sched, 1);
#else
    (void)w; (void)t; (void)obj;
#endif
}

void run_fiber(Worker* w, int t) {
    Fiber& f = w->fibers[t];
    threadIdx = f.tid;
    w->cur = t;
    w->in_fiber = true;
#if defined(SIMT_TSAN)
    __tsan_switch_to_fiber(f.tsan_fiber, 1);      // 1: no synchronisation implied by the switch
#endif
#if defined(SIMT_ASAN)
    __sanitizer_start_switch_fiber(&w->fake_stack, f.stack, f.stack_size);
#endif
    swapcontext(&w->sched_ctx, &f.ctx);
#if defined(SIMT_ASAN)
    __sanitizer_finish_switch_fiber(w->fake_stack, nullptr, nullptr);
#endif
    w->in_fiber = false;
}

void switch_to_scheduler(Worker* w) {
    Fiber& f = w->fibers[w->cur];
#if defined(SIMT_TSAN)
    __tsan_switch_to_fiber(w->tsan_sched, 1);
#endif
#if defined(SIMT_ASAN)
    __sanitizer_start_switch_fiber(f.state == EXITED ? nullptr : &f.fake_stack, w->sched_stack_bottom,
                                   w->sched_stack_size);
#endif
    swapcontext(&f.ctx, &w->sched_ctx);
#if defined(SIMT_ASAN)
    __sanitizer_finish_switch_fiber(f.fake_stack, nullptr, nullptr);
#endif
}

void fiber_main() {
    Worker* w = tl_w;
#if defined(SIMT_ASAN)
    __sanitizer_finish_switch_fiber(nullptr, &w->sched_stack_bottom, &w->sched_stack_size);
#endif
    TSAN_ACQUIRE(&w->block_sync[(w->block_count + 1) % 2]);   // the previous block on this worker
    w->L->thunk(w->L->args);
    TSAN_RELEASE(&w->block_sync[w->block_count % 2]);
    w->fibers[w->cur].state = EXITED;
    switch_to_scheduler(w);
    abort();
}

// ------------------------------------------------------------------------ warp resolution
// CUDA's rule for the *_sync warp operations: the calling lane is in the mask, and every lane
// named in the mask that has not exited must reach the same operation with the same mask. Lanes
// that have returned, or that do not exist (a block of 16 threads has a half warp), do not take
// part. A lane reads undefined data when it reads a lane that does not take part: reported.
unsigned lane_bits_existing(Worker* w, int warp) {
    int first = warp * 32, cnt = std::min(32, w->n - first);
    return cnt >= 32 ? 0xffffffffu : ((1u << cnt) - 1u);
}

unsigned lane_bits_live(Worker* w, int warp) {
    unsigned live = lane_bits_existing(w, warp);
    for (int l = 0; l < 32; ++l)
        if ((live >> l & 1u) && w->fibers[warp * 32 + l].state == EXITED) live &= ~(1u << l);
    return live;
}

// Why lane `src` of warp `warp` does not take part in an operation with mask `m`.
std::string why_inactive(Worker* w, int warp, int src, unsigned m) {
    if (!(lane_bits_existing(w, warp) >> src & 1u))
        return "which does not exist (the block has " + std::to_string(w->n) + " threads)";
    if (!(m >> src & 1u)) return "which is not in the mask";
    return "which has already returned";
}

// Result of the operation for `lane`; `active`: the lanes taking part. Sets *bad_src to the lane
// read when that lane is not active (a shuffle from an inactive lane).
uint64_t compute_warp(Worker* w, int warp, int lane, const Fiber& me, unsigned active, int* bad_src) {
    const int base = warp * 32;
    auto lane_val = [&](int l) { return w->fibers[base + l].val; };
    int width = me.width, src = lane;
    switch (me.wop) {
        case __simt::SHFL_IDX: src = (lane & ~(width - 1)) | (me.arg & (width - 1)); break;
        case __simt::SHFL_UP: src = ((lane & (width - 1)) >= me.arg) ? lane - me.arg : lane; break;
        case __simt::SHFL_DOWN: src = ((lane & (width - 1)) + me.arg < width) ? lane + me.arg : lane; break;
        case __simt::SHFL_XOR: {
            int s = lane ^ me.arg;
            src = (s >= ((lane / width) + 1) * width || s > 31 || s < 0) ? lane : s;
            break;
        }
        case __simt::BALLOT: case __simt::ANY: case __simt::ALL: {
            unsigned b = 0;
            for (int l = 0; l < 32; ++l) if ((active >> l & 1u) && lane_val(l)) b |= 1u << l;
            if (me.wop == __simt::BALLOT) return b;
            if (me.wop == __simt::ANY) return b != 0;
            return b == active;
        }
        case __simt::SYNCWARP: return 0;
        case __simt::MATCH_ANY: case __simt::MATCH_ALL: {
            unsigned b = 0;
            for (int l = 0; l < 32; ++l) if ((active >> l & 1u) && lane_val(l) == me.val) b |= 1u << l;
            if (me.wop == __simt::MATCH_ANY) return b;
            return b == active ? active : 0;
        }
        default: {      // reductions over 32-bit values
            uint64_t acc = 0; bool first = true;
            for (int l = 0; l < 32; ++l) {
                if (!(active >> l & 1u)) continue;
                uint32_t v = (uint32_t)lane_val(l);
                if (first) { acc = v; first = false; continue; }
                uint32_t a = (uint32_t)acc;
                switch (me.wop) {
                    case __simt::REDUCE_ADD: a += v; break;
                    case __simt::REDUCE_MIN: a = (uint32_t)std::min((int32_t)a, (int32_t)v); break;
                    case __simt::REDUCE_MAX: a = (uint32_t)std::max((int32_t)a, (int32_t)v); break;
                    case __simt::REDUCE_UMIN: a = std::min(a, v); break;
                    case __simt::REDUCE_UMAX: a = std::max(a, v); break;
                    case __simt::REDUCE_AND: a &= v; break;
                    case __simt::REDUCE_OR: a |= v; break;
                    default: a ^= v; break;
                }
                acc = a;
            }
            return acc;
        }
    }
    if (!(active >> src & 1u)) { *bad_src = src; return ~0ull; }
    return lane_val(src);
}

// Release every warp operation whose live mask lanes have all arrived. Returns true on progress;
// a read from an inactive lane records an error and aborts the block.
bool resolve_warps(Worker* w) {
    bool progress = false;
    int nwarps = (w->n + 31) / 32;
    for (int wi = 0; wi < nwarps; ++wi) {
        const int base = wi * 32;
        const unsigned exist = lane_bits_existing(w, wi);
        const unsigned live = lane_bits_live(w, wi);
        unsigned done = 0;
        for (int l = 0; l < 32; ++l) {
            if (!(exist >> l & 1u) || (done >> l & 1u)) continue;
            Fiber& f = w->fibers[base + l];
            if (f.state != AT_WARP) continue;
            if (f.wop == __simt::ACTIVEMASK) {
                // __activemask(): the lanes that reached this same call together (converged)
                unsigned group = 0;
                for (int k = 0; k < 32; ++k) {
                    const Fiber& g = w->fibers[base + k];
                    if ((exist >> k & 1u) && g.state == AT_WARP && g.wop == __simt::ACTIVEMASK &&
                        g.line == f.line && strcmp(g.file, f.file) == 0) group |= 1u << k;
                }
                for (int k = 0; k < 32; ++k)
                    if (group >> k & 1u) { w->fibers[base + k].res = group; w->fibers[base + k].state = RUNNABLE; }
                done |= group;
                progress = true;
                continue;
            }
            const unsigned m = f.mask, active = m & live;
            bool complete = true;
            for (int k = 0; k < 32 && complete; ++k)
                if (active >> k & 1u) {
                    const Fiber& g = w->fibers[base + k];
                    complete = g.state == AT_WARP && g.mask == m && g.wop == f.wop;
                }
            if (!complete) continue;
            for (int k = 0; k < 32; ++k) {
                if (!(active >> k & 1u)) continue;
                Fiber& g = w->fibers[base + k];
                int bad = -1;
                g.res = compute_warp(w, wi, k, g, active, &bad);
                if (bad >= 0) {
                    char buf[700];
                    snprintf(buf, sizeof buf, "%s(mask=0x%08x) at %s:%d in %s (warp %d, lane %d) reads lane %d, "
                             "%s; the value read from a lane that does not take part is undefined on a GPU "
                             "(only the lanes named in the mask that have not exited take part)",
                             op_name(g.wop), g.mask, g.file, g.line, where(w, base + k).c_str(), wi, k, bad,
                             why_inactive(w, wi, bad, m).c_str());
                    record_error(w->L, E_WARP, buf);
                    w->aborted = true;
                    return progress;
                }
            }
            for (int k = 0; k < 32; ++k)
                if (active >> k & 1u) {
                    w->fibers[base + k].state = RUNNABLE;
                    if (w->L->mode == TSAN)
                        for (int j = 0; j < 32; ++j)
                            if (active >> j & 1u) acquire_as(w, base + k, &w->lane_sync[base + j]);
                }
            done |= active;
            progress = true;
        }
    }
    return progress;
}

// Called when nothing can run and no warp operation is complete: explain why.
std::string diagnose_warp(Worker* w, int t) {
    const Fiber& f = w->fibers[t];
    const int wi = t / 32, base = wi * 32, lane = t % 32;
    const unsigned live = lane_bits_live(w, wi);
    char head[256];
    snprintf(head, sizeof head, "%s(mask=0x%08x) at %s:%d in %s (warp %d, lane %d): ", op_name(f.wop),
             f.mask, f.file, f.line, where(w, t).c_str(), wi, lane);
    for (int k = 0; k < 32; ++k) {
        if (!(f.mask >> k & 1u) || !(live >> k & 1u)) continue;
        char buf[512];
        const Fiber& g = w->fibers[base + k];
        if (g.state == AT_BARRIER) {
            snprintf(buf, sizeof buf, "the mask names lane %d, which waits at %s at %s instead",
                     k, barrier_name(g.bar_kind), site(g).c_str());
            return head + std::string(buf);
        }
        if (g.state == AT_WARP && (g.mask != f.mask || g.wop != f.wop)) {
            snprintf(buf, sizeof buf, "lane %d waits at %s(mask=0x%08x) at %s; lanes of one mask must "
                     "call the same warp operation with the same mask", k, op_name(g.wop), g.mask, site(g).c_str());
            return head + std::string(buf);
        }
    }
    return head + std::string("cannot complete");
}

// ------------------------------------------------------------------------ grid barrier
std::string block_name() {
    return "block (" + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," +
           std::to_string(blockIdx.z) + ")";
}

// Every thread of this block waits at this_grid().sync(): wait until every block of the grid has
// arrived. A block that has returned can never arrive: a deadlock (a hang on a GPU).
void grid_barrier(Worker* w, const Fiber& at) {
    Launch* L = w->L;
    std::unique_lock<std::mutex> lk(L->grid_mu);
    const long long gen = L->grid_gen;
    if (++L->grid_arrived == L->nblocks) {
        L->grid_arrived = 0;
        ++L->grid_gen;
        L->grid_cv.notify_all();
        return;
    }
    while (gen == L->grid_gen) {
        if (L->code.load() != OK) { w->aborted = true; return; }
        if (L->grid_finished > 0) {
            const long long gone = L->grid_finished;
            lk.unlock();
            record_error(L, E_DEADLOCK, "the threads of " + block_name() + " wait at this_grid().sync() at " +
                         site(at) + ", but " + std::to_string(gone) + " block(s) of the grid have "
                         "already returned and can never arrive (a hang on a GPU); every thread of every "
                         "block must reach each grid-wide sync");
            w->aborted = true;
            return;
        }
        L->grid_cv.wait_for(lk, std::chrono::milliseconds(20));
    }
}

// ------------------------------------------------------------------------ one block
void schedule_order(Worker* w) {
    int n = w->n;
    w->order.resize(n);
    for (int i = 0; i < n; ++i) w->order[i] = (w->L->schedule == REVERSE) ? n - 1 - i : i;
    if (w->L->schedule == RANDOM) std::shuffle(w->order.begin(), w->order.end(), w->rng);
}

void run_block(Worker* w, long long b) {
    Launch* L = w->L;
    blockIdx.x = (unsigned)(b % L->grid[0]);
    blockIdx.y = (unsigned)((b / L->grid[0]) % L->grid[1]);
    blockIdx.z = (unsigned)(b / ((long long)L->grid[0] * L->grid[1]));
    w->rng.seed(L->seed * 0x9E3779B97F4A7C15ull + (uint64_t)b * 0xD1B54A32D192ED03ull + 1);
    const int n = w->n;
    for (int t = 0; t < n; ++t) {
        Fiber& f = w->fibers[t];
        f.state = RUNNABLE;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = f.stack_size;
        f.ctx.uc_link = &w->sched_ctx;
        makecontext(&f.ctx, fiber_main, 0);
    }
    // Uninitialised shared memory: NaN bytes, so reading before writing shows up.
    if (L->shmem) memset(w->smem, 0xff, L->shmem);
    TSAN_RELEASE(&w->block_sync[(w->block_count + 1) % 2]);
    for (;;) {
        schedule_order(w);
        for (int i = 0; i < n; ++i) {
            int t = w->order[i];
            if (w->fibers[t].state != RUNNABLE) continue;
            run_fiber(w, t);
            if (w->aborted) return;
        }
        const bool progress = resolve_warps(w);
        if (w->aborted) return;
        if (progress) continue;
        int exited = 0, at_bar = 0, at_warp = -1, first_bar = -1, first_exit = -1, at_grid = 0, first_grid = -1;
        for (int t = 0; t < n; ++t) {
            const Fiber& f = w->fibers[t];
            if (f.state == EXITED) { ++exited; if (first_exit < 0) first_exit = t; }
            else if (f.state == AT_BARRIER) { ++at_bar; if (first_bar < 0) first_bar = t; }
            else if (f.state == AT_WARP && at_warp < 0) at_warp = t;
            else if (f.state == AT_GRID) { ++at_grid; if (first_grid < 0) first_grid = t; }
        }
        if (exited == n) return;
        if (at_warp >= 0) {
            record_error(L, E_WARP, diagnose_warp(w, at_warp));
            w->aborted = true;
            return;
        }
        if (at_grid > 0) {
            const Fiber& fg = w->fibers[first_grid];
            if (at_grid < n) {
                const int other = first_bar >= 0 ? first_bar : first_exit;
                std::string m = std::to_string(at_grid) + " thread(s) of " + block_name() +
                                " wait at this_grid().sync() at " + site(fg) + " (e.g. " + where(w, first_grid) +
                                ") while " + (at_bar ? std::to_string(at_bar) + " wait at " +
                                barrier_name(w->fibers[other].bar_kind) + " at " + site(w->fibers[other])
                                : std::to_string(exited) + " have already returned") + " (e.g. " +
                                where(w, other) + "); every thread of the grid must reach each grid-wide sync";
                record_error(L, E_DEADLOCK, m);
                w->aborted = true;
                return;
            }
            grid_barrier(w, fg);
            if (w->aborted) return;
            for (int t = 0; t < n; ++t) {
                w->fibers[t].state = RUNNABLE;
                if (L->mode == TSAN) acquire_as(w, t, &L->grid_sync[w->grid_count % 2]);
            }
            ++w->grid_count;
            continue;
        }
        const Fiber& fb = w->fibers[first_bar];
        if (exited > 0) {
            std::string m = std::to_string(at_bar) + " thread(s) of " + std::string("block (") +
                            std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," +
                            std::to_string(blockIdx.z) + ") wait at " + barrier_name(fb.bar_kind) + " at " +
                            site(fb) + ", but " + std::to_string(exited) + " thread(s) already returned (e.g. " +
                            where(w, first_exit) + "); the barrier can never be reached by all threads of the "
                            "block (undefined behaviour on a GPU: a hang or a wrong result). Let every thread "
                            "reach each __syncthreads, e.g. guard the work with `if (i < n)` instead of returning early";
            record_error(L, E_DEADLOCK, m);
            w->aborted = true;
            return;
        }
        for (int t = 0; t < n; ++t) {
            const Fiber& f = w->fibers[t];
            if (f.line != fb.line || strcmp(f.file, fb.file) != 0 || f.bar_kind != fb.bar_kind) {
                int cnt_a = 0;
                for (int u = 0; u < n; ++u)
                    cnt_a += (w->fibers[u].line == fb.line && strcmp(w->fibers[u].file, fb.file) == 0);
                std::string m = "barrier divergence in block (" + std::to_string(blockIdx.x) + "," +
                                std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + "): " +
                                std::to_string(cnt_a) + " thread(s) wait at " + barrier_name(fb.bar_kind) +
                                " at " + site(fb) + " (e.g. " + where(w, first_bar) + ") while " +
                                std::to_string(n - cnt_a) + " wait at " + barrier_name(f.bar_kind) + " at " +
                                site(f) + " (e.g. " + where(w, t) + "); a __syncthreads inside a branch that "
                                "not all threads of the block take is undefined behaviour";
                record_error(L, E_DIVERGENCE, m);
                w->aborted = true;
                return;
            }
        }
        int cnt = 0, all = 1, any = 0;
        for (int t = 0; t < n; ++t) { int p = w->fibers[t].pred; cnt += p; all &= p; any |= p; }
        int result = fb.bar_kind == 1 ? cnt : fb.bar_kind == 2 ? all : fb.bar_kind == 3 ? any : 0;
        for (int t = 0; t < n; ++t) {
            w->fibers[t].bar_result = result;
            w->fibers[t].state = RUNNABLE;
            if (L->mode == TSAN) acquire_as(w, t, &w->bar_sync);
        }
    }
}

// ------------------------------------------------------------------------ fault handling (plain mode)
struct sigaction g_old_segv, g_old_bus, g_old_fpe, g_old_ill;

void fault_handler(int sig, siginfo_t* si, void* ucv) {
    Worker* w = tl_w;
    if (!w || !w->in_fiber) {           // not ours: hand over to the previous handler
        struct sigaction* old = sig == SIGSEGV ? &g_old_segv : sig == SIGBUS ? &g_old_bus
                                : sig == SIGFPE ? &g_old_fpe : &g_old_ill;
        sigaction(sig, old, nullptr);
        return;                          // the instruction faults again under the old handler
    }
    const Fiber& f = w->fibers[w->cur];
    char buf[400];
    uintptr_t addr = (uintptr_t)si->si_addr;
    uintptr_t guard = (uintptr_t)f.stack - page_size();
    uintptr_t sp = 0;
#if defined(__x86_64__)
    sp = (uintptr_t)((ucontext_t*)ucv)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    sp = (uintptr_t)((ucontext_t*)ucv)->uc_mcontext.sp;
#endif
    if (sig == SIGSEGV && ((addr >= guard && addr < (uintptr_t)f.stack) || (sp && sp < (uintptr_t)f.stack)))
        snprintf(buf, sizeof buf, "stack overflow in %s (the emulator gives each CUDA thread %zu KiB "
                 "of stack; large local arrays belong in shared or global memory)", where(w, w->cur).c_str(),
                 f.stack_size / 1024);
    else if (sig == SIGFPE)
        snprintf(buf, sizeof buf, "arithmetic fault (integer division by zero?) in %s", where(w, w->cur).c_str());
    else
        snprintf(buf, sizeof buf, "invalid memory access (%s at address %p) in %s; an index is probably out "
                 "of bounds: rerun with sanitizer=\"address\" to get the source line",
                 sig == SIGSEGV ? "segmentation fault" : sig == SIGBUS ? "bus error" : "illegal instruction",
                 si->si_addr, where(w, w->cur).c_str());
    record_error(w->L, E_FAULT, buf);
    w->aborted = true;
    w->in_fiber = false;
    w->fibers[w->cur].state = EXITED;
    setcontext(&w->sched_ctx);          // abandon the faulting fiber, back to the scheduler
}

void install_fault_handlers() {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
    sigaction(SIGFPE, &sa, &g_old_fpe);
    sigaction(SIGILL, &sa, &g_old_ill);
}
void restore_fault_handlers() {
    sigaction(SIGSEGV, &g_old_segv, nullptr);
    sigaction(SIGBUS, &g_old_bus, nullptr);
    sigaction(SIGFPE, &g_old_fpe, nullptr);
    sigaction(SIGILL, &g_old_ill, nullptr);
}

// ------------------------------------------------------------------------ workers
size_t fiber_stack_size(int mode) { return mode == PLAIN ? (128u << 10) : (512u << 10); }

// TSan fibers per worker. The TSan runtime of LLVM >= 14 (clang 14+, GCC 13+: "TSan v3") tags
// every access with one of 255 thread *slots* shared by all threads and fibers of the process;
// when more are alive, it preempts the least recently attached slot, and the new holder sees
// all earlier accesses made under that slot as ordered before its own -- races are silently lost
// (a 16x16 block, 256 fibers + main + worker, reported nothing). So a worker creates at most
// this many TSan fibers and CUDA threads t, t+K, t+2K... share one: no false reports (sharing only
// adds order), races between threads K apart are missed. K is not a power of two, so the usual
// partners (neighbours, warp lanes, reduction strides) never share a fiber; the caller frames of
// a report may mix the threads of a fiber, the access frame (file:line) is exact. GCC <= 12's
// runtime has no slots; the same cap keeps both generations reporting the same races.
int tsan_fibers_per_worker(int nworkers) {
    const int slots = 255, reserved = 1 /* main thread */ + 16 /* other threads, margin */;
    int k = (slots - reserved - nworkers) / std::max(1, nworkers);
    k = std::max(1, std::min(k, 200));
    if ((k & (k - 1)) == 0 && k > 1) --k;
    return k;
}

void worker_main(Launch* L) {
    Worker w;
    w.L = L;
    tl_w = &w;
    blockDim = dim3(L->block[0], L->block[1], L->block[2]);
    gridDim = dim3(L->grid[0], L->grid[1], L->grid[2]);
    const int n = (int)(L->block[0] * L->block[1] * L->block[2]);
    w.n = n;
    std::vector<char> altstack;
    if (L->mode == PLAIN) {            // the fault handler needs its own stack (stack overflow)
        altstack.resize(64 << 10);
        stack_t ss;
        ss.ss_sp = altstack.data();
        ss.ss_size = altstack.size();
        ss.ss_flags = 0;
        sigaltstack(&ss, nullptr);
    }
    // Dynamic shared memory. Plain mode: the buffer ends right at a PROT_NONE page, so running
    // past its end faults; ASan mode: an exact-size malloc that ASan bounds-checks.
    if (L->mode == ASAN) {
        w.smem = (char*)malloc(L->shmem);
    } else {
        size_t ps = page_size(), body = (L->shmem + ps - 1) / ps * ps;
        w.smem_map_size = body + ps;
        w.smem_map = mmap(nullptr, w.smem_map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mprotect((char*)w.smem_map + body, ps, PROT_NONE);
        size_t start = (body - L->shmem) & ~(size_t)15;
        w.smem = (char*)w.smem_map + start;
    }
    w.fibers.resize(n);
    w.lane_sync.assign(n, 0);
    size_t ss = fiber_stack_size(L->mode);
    bool ok = true;
    for (int t = 0; t < n; ++t) {
        Fiber& f = w.fibers[t];
        f.tid = uint3{(unsigned)(t % L->block[0]), (unsigned)((t / L->block[0]) % L->block[1]),
                      (unsigned)(t / (L->block[0] * L->block[1]))};
        f.stack_size = ss;
        f.stack = get_stack(ss);
        if (!f.stack) ok = false;
    }
#if defined(SIMT_TSAN)
    w.tsan_pool.resize((size_t)std::min(n, tsan_fibers_per_worker(L->nworkers)));
    for (void*& tf : w.tsan_pool) tf = __tsan_create_fiber(0);
    for (int t = 0; t < n; ++t) w.fibers[t].tsan_fiber = w.tsan_pool[(size_t)t % w.tsan_pool.size()];
    w.tsan_sched = __tsan_get_current_fiber();
#endif
    if (!ok) record_error(L, E_INTERNAL, "out of memory for fiber stacks");
    while (ok && L->code.load() == OK) {
        long long i = L->next.fetch_add(1);
        if (i >= L->nblocks) break;
        long long b = L->schedule == REVERSE ? L->nblocks - 1 - i
                    : L->schedule == RANDOM ? (long long)((L->perm_a * (uint64_t)i + L->perm_c) % (uint64_t)L->nblocks)
                    : i;
        run_block(&w, b);
        TSAN_ACQUIRE(&w.block_sync[w.block_count % 2]);   // the worker (then join) sees the block's writes
        ++w.block_count;
        if (L->cooperative) break;                        // one block per worker, all resident
        if (w.aborted) break;
    }
    if (L->cooperative) {            // blocks waiting at a grid barrier learn that this one is gone
        std::lock_guard<std::mutex> g(L->grid_mu);
        ++L->grid_finished;
        L->grid_cv.notify_all();
    }
    for (Fiber& f : w.fibers)
        if (f.stack) put_stack(f.stack, f.stack_size);
#if defined(SIMT_TSAN)
    for (void* tf : w.tsan_pool) __tsan_destroy_fiber(tf);
#endif
    if (L->mode == ASAN) free(w.smem);
    else munmap(w.smem_map, w.smem_map_size);
    for (void* p : tl_smem_blocks) free(p);         // the worker thread ends: no kernel code runs on
    tl_smem_blocks.clear();
    if (L->mode == PLAIN) {
        stack_t ss2;
        memset(&ss2, 0, sizeof ss2);
        ss2.ss_flags = SS_DISABLE;
        sigaltstack(&ss2, nullptr);
    }
    tl_w = nullptr;
}

uint64_t gcd(uint64_t a, uint64_t b) { while (b) { uint64_t t = a % b; a = b; b = t; } return a; }

}  // namespace

// ------------------------------------------------------------------------ device-side API
namespace __simt {

int syncthreads(int kind, int pred, const char* file, int line) {
    Worker* w = tl_w;
    Fiber& f = w->fibers[w->cur];
    f.state = AT_BARRIER;
    f.bar_kind = kind;
    f.pred = pred;
    f.file = file;
    f.line = line;
    TSAN_RELEASE(&w->bar_sync);        // the scheduler makes every thread acquire it on release
    switch_to_scheduler(w);
    return f.bar_result;
}

uint64_t warp_op(int op, unsigned mask, uint64_t value, int arg, int width, const char* file, int line) {
    Worker* w = tl_w;
    const int t = w->cur, lane = t % 32;
    Fiber& f = w->fibers[t];
    f.file = file;
    f.line = line;
    if (!(mask >> lane & 1u)) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s(mask=0x%08x) at %s:%d called by lane %d (%s), which is not in the mask; "
                 "the calling lane must be part of the mask", op_name(op), mask, file, line, lane, where(w, t).c_str());
        fail_in_fiber(w, E_WARP, buf);
    }
    if (width < 1 || width > 32 || (width & (width - 1))) {
        char buf[200];
        snprintf(buf, sizeof buf, "%s at %s:%d: width=%d must be a power of two between 1 and 32", op_name(op),
                 file, line, width);
        fail_in_fiber(w, E_WARP, buf);
    }
    f.state = AT_WARP;
    f.wop = op;
    f.mask = mask;
    f.val = value;
    f.arg = arg;
    f.width = width;
    TSAN_RELEASE(&w->lane_sync[t]);
    switch_to_scheduler(w);
    return f.res;
}

unsigned activemask(const char* file, int line) {
    // a scheduling point: the lanes that reach this call together form the mask (see resolve_warps)
    return (unsigned)warp_op(ACTIVEMASK, 1u << lane_id(), 0, 0, 32, file, line);
}

unsigned lane_id() { return (unsigned)(tl_w->cur % 32); }

int grid_is_valid() { return tl_w && tl_w->L->cooperative; }

void grid_sync(const char* file, int line) {
    Worker* w = tl_w;
    Fiber& f = w->fibers[w->cur];
    f.file = file;
    f.line = line;
    if (!w->L->cooperative) {
        char buf[400];
        snprintf(buf, sizeof buf, "this_grid().sync() at %s:%d in %s needs a cooperative launch, which keeps "
                 "every block of the grid resident: create the kernel with "
                 "RawKernel(..., enable_cooperative_groups=True) (a normal launch fails on a GPU too)",
                 file, line, where(w, w->cur).c_str());
        fail_in_fiber(w, E_COOPERATIVE, buf);
    }
    f.state = AT_GRID;
    TSAN_RELEASE(&w->L->grid_sync[w->grid_count % 2]);
    switch_to_scheduler(w);
}

// AddressSanitizer build: the storage of one static __shared__ array for this worker (the build
// rewrites its declaration), an exact-size allocation so that ASan's redzone follows its last
// byte; reported to the parent as "[simt-smem] name address size" to name it in a report.
void* shared_alloc(unsigned long size, unsigned long align, const char* name) {
    void* p = nullptr;
    if (align < sizeof(void*)) align = sizeof(void*);
    if (posix_memalign(&p, align, size ? size : 1) != 0) return nullptr;
    memset(p, 0xff, size);          // NaN bytes, as dynamic shared memory: uninitialised reads show
    tl_smem_blocks.push_back(p);
    fprintf(stderr, "[simt-smem] %s %p %lu\n", name, p, size);
    return p;
}

void* dynamic_smem() {
    Worker* w = tl_w;
    return w ? w->smem : nullptr;
}

void fail(const char* what, const char* file, int line) {
    Worker* w = tl_w;
    std::string m = std::string(what) + " at " + file + ":" + std::to_string(line) + " in " + where(w, w->cur);
    fail_in_fiber(w, E_FAULT, m);
}

int device_printf(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    Launch* L = tl_w ? tl_w->L : nullptr;
    if (!L) { fputs(buf, stdout); return k; }
    while (L->out_lock.test_and_set(std::memory_order_acquire)) {}
    if (L->out.size() < (1u << 20)) L->out += buf;
    L->out_lock.clear(std::memory_order_release);
    return k;
}

long long clock64() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

}  // namespace __simt

// ------------------------------------------------------------------------ host-side entry point
// cfg: grid[3], block[3], shared_mem, schedule, seed, workers, mode, cooperative.
// Returns 0 or an error code; err receives the message, *out the captured printf output.
extern "C" int __simt_launch(void (*thunk)(void**), void** args, const long long* cfg, char* err, int errlen,
                             char** out, long long* outlen) {
    std::lock_guard<std::mutex> guard(g_launch_mu);
    Launch L;
    L.thunk = thunk;
    L.args = args;
    for (int i = 0; i < 3; ++i) { L.grid[i] = (unsigned)cfg[i]; L.block[i] = (unsigned)cfg[3 + i]; }
    L.shmem = (size_t)cfg[6];
    L.schedule = (int)cfg[7];
    L.seed = (uint64_t)cfg[8];
    L.nworkers = (int)cfg[9];
    L.mode = (int)cfg[10];
    L.cooperative = (int)cfg[11];
    L.nblocks = (long long)L.grid[0] * L.grid[1] * L.grid[2];
    if (L.schedule == RANDOM && L.nblocks > 1) {   // a random affine permutation of the blocks
        std::mt19937_64 rng(L.seed ^ 0x5DEECE66Dull);
        uint64_t N = (uint64_t)L.nblocks;
        do { L.perm_a = 1 + rng() % (N - 1 ? N - 1 : 1); } while (gcd(L.perm_a, N) != 1);
        L.perm_c = rng() % N;
    }
    int nw = (int)std::max(1ll, std::min<long long>(L.nworkers, L.nblocks));
    if (L.mode == TSAN) nw = std::min(nw, 2);   // 2 workers show races between blocks; more would shrink K
    if (L.cooperative) nw = (int)L.nblocks;     // every block resident at once (size checked by the caller)
    L.nworkers = nw;
    if (L.mode == PLAIN) install_fault_handlers();
    std::vector<std::thread> threads;
    for (int i = 0; i < nw; ++i) threads.emplace_back(worker_main, &L);
    for (auto& t : threads) t.join();
    if (L.mode == PLAIN) restore_fault_handlers();
    if (err && errlen > 0) {
        snprintf(err, (size_t)errlen, "%s", L.msg.c_str());
    }
    if (out && outlen) {
        *outlen = (long long)L.out.size();
        *out = (char*)malloc(L.out.size() + 1);
        memcpy(*out, L.out.data(), L.out.size());
        (*out)[L.out.size()] = 0;
    }
    return L.code.load();
}

extern "C" void __simt_free(char* p) { free(p); }
extern "C" int __simt_abi_version() { return 2; }

// Guarded copies of the array arguments (plain mode): each array sits between two PROT_NONE
// pages, its last byte (rounded up to 16) right before the upper one, so an index just past the
// end (or before the start) faults at once -- reported as KernelFaultError -- instead of silently
// corrupting the Python process's heap.
extern "C" void* __simt_guarded_alloc(long long nbytes) {
    size_t ps = page_size();
    size_t n16 = ((size_t)nbytes + 15) & ~(size_t)15;
    size_t body = (n16 + ps - 1) / ps * ps;
    if (body == 0) body = ps;
    char* base = (char*)mmap(nullptr, body + 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == (char*)MAP_FAILED) return nullptr;
    mprotect(base, ps, PROT_NONE);
    mprotect(base + ps + body, ps, PROT_NONE);
    return base + ps + (body - n16);
}
extern "C" void __simt_guarded_free(void* p, long long nbytes) {
    size_t ps = page_size();
    size_t n16 = ((size_t)nbytes + 15) & ~(size_t)15;
    size_t body = (n16 + ps - 1) / ps * ps;
    if (body == 0) body = ps;
    char* base = (char*)p - (body - n16) - ps;
    munmap(base, body + 2 * ps);
}
