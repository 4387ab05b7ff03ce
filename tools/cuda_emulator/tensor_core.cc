// tools/cuda_emulator/tensor_core.cc — mma.sync, ldmatrix, cp.async, WMMA and wgmma on the CPU.
//
// What each instruction means is in tensor_core.h; this file is how.
//
// A warp-collective instruction (mma, ldmatrix, every WMMA call) meets like a
// full-mask shuffle: each lane deposits, through warp_exchange, the address
// of a record on its own stack (its arguments: register arrays, addresses),
// tagged with the instruction in the top 16 bits. The exchange completes only
// when all 32 lanes have arrived, and then the lanes go on one after another
// (scheduler.cc). The FIRST of them to run performs the instruction for the
// whole warp: every other lane is still suspended inside its own call, so its
// record is alive, nothing any lane does after the instruction has happened
// yet, and everything each lane did before it has. It reads all 32 records,
// computes, writes each lane's result into that lane's arrays, and marks the
// records done; each other lane, when it runs, finds its record done and
// returns. One exchange per instruction, and the operands are read at one
// moment, as the hardware reads them.
//
// cp.async is per thread: a queue of copies beside the fiber that runs the
// thread (runtime_state.h's AsyncCopies), performed by cp_async_wait_group.
// wgmma meets per warp (each warp of a warpgroup computes its own 16 rows),
// and its results wait in a queue of the same kind (AsyncMmas) for
// wgmma.wait_group.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "tools/cuda_emulator/emulator.h"
#include "tools/cuda_emulator/runtime_state.h"
#include "tools/cuda_emulator/tensor_core.h"

namespace gpt_emu {
namespace {

constexpr unsigned kFullWarp = 0xffffffffu;

// The tags of the warp-collective instructions, in the top 16 bits of what
// each lane deposits (a user-space address fits in the low 48).
enum Op : uint64_t {
  kMma = 0x7e01,
  kLdmatrix = 0x7e02,
  kWmmaLoad = 0x7e03,
  kWmmaStore = 0x7e04,
  kWmmaFill = 0x7e05,
  kWmmaMma = 0x7e06,
  kWgmma = 0x7e07,
  kWgmmaWait = 0x7e08,
};
constexpr uint64_t kAddressBits = (uint64_t{1} << 48) - 1;

const char* op_name(uint64_t op) {
  switch (op) {
    case kMma: return "mma.sync.m16n8k16";
    case kLdmatrix: return "ldmatrix";
    case kWmmaLoad: return "wmma::load_matrix_sync";
    case kWmmaStore: return "wmma::store_matrix_sync";
    case kWmmaFill: return "wmma::fill_fragment";
    case kWmmaMma: return "wmma::mma_sync";
    case kWgmma: return "wgmma.mma_async";
    case kWgmmaWait: return "wgmma.wait_group";
    default: return "another warp operation (a shuffle or __syncwarp)";
  }
}

bool same_site(Site a, Site b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

[[noreturn]] void failf(Site site, const char* format, ...) __attribute__((format(printf, 2, 3)));
void failf(Site site, const char* format, ...) {
  char message[768];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  fail(message, site);
}

// What every lane's record starts with.
struct LaneRecord {
  Site site;
  bool done = false;
};

// The meeting of a warp-collective instruction `op`: deposits `mine` and
// waits for all 32 lanes. Returns true, with every lane's record in `lanes`,
// in the one lane that performs the instruction (the first to go on); false
// in the others, whose records that lane has already completed.
template <typename Record>
bool meet(Op op, Record* mine, Record* (&lanes)[32]) {
  const Site site = mine->site;
  const uint64_t address = reinterpret_cast<uintptr_t>(mine);
  if ((address & ~kAddressBits) != 0) fail("a stack address above 2^48 (not emulated)", site);
  const uint64_t* values = warp_exchange(kFullWarp, (static_cast<uint64_t>(op) << 48) | address,
                                         site);
  if (mine->done) return false;
  // The first lane on: `values` is still this exchange's until it switches away.
  for (int lane = 0; lane < 32; ++lane) {
    if (values[lane] >> 48 != op) {
      failf(site,
            "the lanes of a warp meet at different warp operations: this lane at %s, lane %d "
            "at %s (every lane must reach the same instruction)",
            op_name(op), lane, op_name(values[lane] >> 48));
    }
    lanes[lane] = reinterpret_cast<Record*>(values[lane] & kAddressBits);
  }
  for (int lane = 0; lane < 32; ++lane) {
    const Site other = lanes[lane]->site;
    if (!same_site(other, site)) {
      failf(site,
            "the lanes of a warp reach %s at two different places (here and, in lane %d, "
            "%s:%d): it is warp-collective, every lane must execute the same one",
            op_name(op), lane, other.file, other.line);
    }
    lanes[lane]->done = true;
  }
  return true;
}

// bf16 bits widened to float: exact, the 16 bits become the top half.
inline float bf16_to_float(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t low_half(uint32_t r) { return static_cast<uint16_t>(r & 0xffffu); }
inline uint16_t high_half(uint32_t r) { return static_cast<uint16_t>(r >> 16); }
inline uint32_t pack(uint16_t low, uint16_t high) {
  return static_cast<uint32_t>(low) | (static_cast<uint32_t>(high) << 16);
}

// ---------------------------------------------------------------------------
// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

struct MmaLane : LaneRecord {
  float* d;
  const uint32_t* a;
  const uint32_t* b;
  const float* c;
};

}  // namespace

void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                       const float (&c)[4], Site site) {
  MmaLane mine;
  mine.site = site;
  mine.d = d;
  mine.a = a;
  mine.b = b;
  mine.c = c;
  MmaLane* lanes[32];
  if (!meet(kMma, &mine, lanes)) return;
  // Gather A (16×16), B (16×8, k × n) and C (16×8) from the fragments.
  float A[16][16], B[16][8], C[16][8];
  for (int lane = 0; lane < 32; ++lane) {
    const MmaLane& l = *lanes[lane];
    const int g = lane / 4, t = lane % 4;
    for (int half = 0; half < 2; ++half) {  // rows g and g + 8 (a[0], a[1]); k + 8 (a[2], a[3])
      for (int kh = 0; kh < 2; ++kh) {
        const uint32_t r = l.a[2 * kh + half];
        A[g + 8 * half][2 * t + 8 * kh] = bf16_to_float(low_half(r));
        A[g + 8 * half][2 * t + 8 * kh + 1] = bf16_to_float(high_half(r));
      }
      B[2 * t + 8 * half][g] = bf16_to_float(low_half(l.b[half]));
      B[2 * t + 8 * half + 1][g] = bf16_to_float(high_half(l.b[half]));
      C[g + 8 * half][2 * t] = l.c[2 * half];
      C[g + 8 * half][2 * t + 1] = l.c[2 * half + 1];
    }
  }
  // D = C + A·B, each element summed in float32 in k order from C. (A
  // product of two bf16 is exact in float32, so a fused multiply-add, should
  // the compiler make one, rounds the same.)
  float D[16][8];
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 8; ++j) {
      float sum = C[i][j];
      for (int k = 0; k < 16; ++k) sum += A[i][k] * B[k][j];
      D[i][j] = sum;
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    float* out = lanes[lane]->d;
    const int g = lane / 4, t = lane % 4;
    out[0] = D[g][2 * t];
    out[1] = D[g][2 * t + 1];
    out[2] = D[g + 8][2 * t];
    out[3] = D[g + 8][2 * t + 1];
  }
}

// ---------------------------------------------------------------------------
// ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].shared.b16

namespace {
struct LdmatrixLane : LaneRecord {
  uint32_t* regs;
  int matrices;
  bool transpose;
  const void* row;
};
}  // namespace

void ldmatrix_m8n8_b16(uint32_t* regs, int matrices, bool transpose, const void* row_address,
                       Site site) {
  if (matrices != 1 && matrices != 2 && matrices != 4) {
    failf(site, "ldmatrix loads 1, 2 or 4 matrices (.x1, .x2, .x4), not %d", matrices);
  }
  // This lane's own address, if its lane gives one: checked before the
  // meeting, so that the message names the lane at fault.
  if (lane_id() < 8 * matrices) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(row_address);
    if (address % 16 != 0) {
      failf(site,
            "ldmatrix: lane %d gives the row address %p, which is not 16-byte aligned (each "
            "row is 8 b16 values, read as one 16-byte access; align the shared array with "
            "__align__(16) and keep its row stride a multiple of 16 bytes)",
            lane_id(), row_address);
    }
    if (is_device_range(row_address, 0)) {
      failf(site,
            "ldmatrix: lane %d gives the row address %p, which is in device (global) memory: "
            "ldmatrix reads shared memory only",
            lane_id(), row_address);
    }
  }
  LdmatrixLane mine;
  mine.site = site;
  mine.regs = regs;
  mine.matrices = matrices;
  mine.transpose = transpose;
  mine.row = row_address;
  LdmatrixLane* lanes[32];
  if (!meet(kLdmatrix, &mine, lanes)) return;
  for (int lane = 0; lane < 32; ++lane) {
    if (lanes[lane]->matrices != matrices || lanes[lane]->transpose != transpose) {
      failf(site, "ldmatrix: lane %d asks for .x%d%s, lane %d for .x%d%s", lane_id(), matrices,
            transpose ? ".trans" : "", lane, lanes[lane]->matrices,
            lanes[lane]->transpose ? ".trans" : "");
    }
  }
  // Matrix i's row r is the 16 bytes at the address lane 8i + r gave.
  uint16_t M[4][8][8];
  for (int i = 0; i < matrices; ++i) {
    for (int r = 0; r < 8; ++r) std::memcpy(M[i][r], lanes[8 * i + r]->row, 16);
  }
  for (int lane = 0; lane < 32; ++lane) {
    const int row = lane / 4, col = 2 * (lane % 4);
    for (int i = 0; i < matrices; ++i) {
      lanes[lane]->regs[i] = transpose ? pack(M[i][col][row], M[i][col + 1][row])
                                       : pack(M[i][row][col], M[i][row][col + 1]);
    }
  }
}

// ---------------------------------------------------------------------------
// cp.async

namespace {

void perform(const AsyncCopy& copy) {
  std::memcpy(copy.dst, copy.src, static_cast<size_t>(copy.src_bytes));
  std::memset(static_cast<char*>(copy.dst) + copy.src_bytes, 0,
              static_cast<size_t>(copy.bytes - copy.src_bytes));
}

}  // namespace

void cp_async(void* shared_dst, const void* global_src, int bytes, int src_bytes, Site site) {
  AsyncCopies& q = running_thread_copies(site);
  if (bytes != 4 && bytes != 8 && bytes != 16) {
    failf(site, "cp.async copies 4, 8 or 16 bytes, not %d", bytes);
  }
  if (src_bytes < 0 || src_bytes > bytes) {
    failf(site, "cp.async of %d bytes with a source size of %d: it must be 0 to %d", bytes,
          src_bytes, bytes);
  }
  if (reinterpret_cast<uintptr_t>(shared_dst) % static_cast<unsigned>(bytes) != 0) {
    failf(site, "cp.async of %d bytes: the shared-memory destination %p is not %d-byte aligned",
          bytes, shared_dst, bytes);
  }
  if (reinterpret_cast<uintptr_t>(global_src) % static_cast<unsigned>(bytes) != 0) {
    failf(site, "cp.async of %d bytes: the global source %p is not %d-byte aligned", bytes,
          global_src, bytes);
  }
  if (!is_device_range(global_src, static_cast<size_t>(src_bytes))) {
    failf(site,
          "cp.async: the source %p (%d bytes read) is not inside one cudaMalloc allocation (a "
          "host pointer, or past the end of the array?)",
          global_src, src_bytes);
  }
  if (is_device_range(shared_dst, 0)) {
    failf(site,
          "cp.async: the destination %p is in device (global) memory: cp.async copies into "
          "shared memory",
          shared_dst);
  }
  q.items.push_back(AsyncCopy{shared_dst, global_src, bytes, src_bytes});
}

void cp_async_commit_group(Site site) { running_thread_copies(site).commit(); }

void cp_async_wait_group(int pending, Site site) {
  AsyncCopies& q = running_thread_copies(site);
  if (pending < 0) failf(site, "cp.async.wait_group %d: the count must be 0 or more", pending);
  q.complete_all_but(static_cast<size_t>(pending), [&](const AsyncCopy& copy) {
    perform(copy);
    q.unfenced = true;
  });
  q.compact();
}

void finish_async_copies(AsyncCopies& q) {
  for (; q.first < q.items.size(); ++q.first) perform(q.items[q.first]);
  q.items.clear();
  q.group_ends.clear();
  q.first = q.first_group = 0;
}

// ---------------------------------------------------------------------------
// WMMA (<mma.h>): every lane holds the whole 16×16 tile.

namespace {

constexpr int kTile = 16;
constexpr int kElements = kTile * kTile;

struct WmmaLane : LaneRecord {
  void* out = nullptr;       // load, fill: the fragment; store: the memory; mma: d
  const void* in = nullptr;  // load: the memory; store: the fragment; mma: a
  const void* b = nullptr;   // mma
  const void* c = nullptr;   // mma
  unsigned ldm = 0;
  bool col_major = false;
  int element_bytes = 0;
  uint32_t value = 0;  // fill
};

const char* element_name(int element_bytes) { return element_bytes == 2 ? "bf16" : "float"; }

// Where element (r, c) of a tile lies in memory, in elements from its start
// p: p[r·ldm + c] row-major, p[c·ldm + r] column-major. Loads and stores alike.
size_t tile_offset(int r, int c, unsigned ldm, bool col_major) {
  return col_major ? static_cast<size_t>(c) * ldm + r : static_cast<size_t>(r) * ldm + c;
}

// A load's or store's own arguments, checked in its lane before the meeting.
void check_tile_address(const char* what, const void* p, int element_bytes, unsigned ldm,
                        Site site) {
  if (reinterpret_cast<uintptr_t>(p) % 32 != 0) {
    failf(site,
          "wmma::%s: the pointer %p is not 256-bit (32-byte) aligned, as WMMA requires (align "
          "the array, e.g. __align__(32), and start tiles at multiples of 32 bytes)",
          what, p);
  }
  if (ldm < kTile || (static_cast<size_t>(ldm) * element_bytes) % 16 != 0) {
    failf(site,
          "wmma::%s: ldm %u (%s elements) must be at least 16 and a multiple of 16 bytes (%d "
          "elements)",
          what, ldm, element_name(element_bytes), 16 / element_bytes);
  }
  // In device memory, the whole tile must lie in one allocation. (Shared
  // memory is not checked here; AddressSanitizer checks it.)
  const size_t span = (static_cast<size_t>(kTile - 1) * ldm + kTile) * element_bytes;
  if (is_device_range(p, 0) && !is_device_range(p, span)) {
    failf(site,
          "wmma::%s: the 16×16 tile at %p with ldm %u (%zu bytes) runs past the end of its "
          "device allocation",
          what, p, ldm, span);
  }
}

void check_same_arguments(const char* what, WmmaLane* const* lanes, const WmmaLane& mine,
                          bool pointer_in) {
  for (int lane = 0; lane < 32; ++lane) {
    const WmmaLane& l = *lanes[lane];
    const void* p = pointer_in ? l.in : l.out;
    const void* q = pointer_in ? mine.in : mine.out;
    if (p != q || l.ldm != mine.ldm || l.col_major != mine.col_major ||
        l.element_bytes != mine.element_bytes) {
      failf(mine.site,
            "wmma::%s: lane %d passes (%p, ldm %u, %s) and lane %d (%p, ldm %u, %s): every lane "
            "of the warp must pass the same pointer, ldm and layout",
            what, lane_id(), q, mine.ldm, mine.col_major ? "col-major" : "row-major", lane, p,
            l.ldm, l.col_major ? "col-major" : "row-major");
    }
  }
}

// Every lane must hold the same fragment: the emulator keeps the whole tile
// in each lane, and a kernel cannot tell which lane holds which element on a
// GPU, so a fragment that differs between lanes is a kernel that depends on
// an unspecified mapping (or uses a fragment nobody filled).
void check_same_fragment(const char* what, const char* which, const void* const* fragments,
                         int element_bytes, Site site) {
  const size_t bytes = static_cast<size_t>(kElements) * element_bytes;
  for (int lane = 1; lane < 32; ++lane) {
    if (std::memcmp(fragments[lane], fragments[0], bytes) != 0) {
      failf(site,
            "wmma::%s: lane %d holds a different %s fragment from lane 0's. The emulator keeps "
            "the whole 16×16 tile in every lane, and on a GPU which lane holds which element "
            "is unspecified: every lane must fill and change its fragments alike (was the "
            "fragment loaded or filled?)",
            what, lane, which);
    }
  }
}

}  // namespace

void wmma_load(void* x, int element_bytes, const void* p, unsigned ldm, bool col_major,
               Site site) {
  check_tile_address("load_matrix_sync", p, element_bytes, ldm, site);
  WmmaLane mine;
  mine.site = site;
  mine.out = x;
  mine.in = p;
  mine.ldm = ldm;
  mine.col_major = col_major;
  mine.element_bytes = element_bytes;
  WmmaLane* lanes[32];
  if (!meet(kWmmaLoad, &mine, lanes)) return;
  check_same_arguments("load_matrix_sync", lanes, mine, true);
  unsigned char tile[kElements * 4];
  const unsigned char* base = static_cast<const unsigned char*>(p);
  for (int r = 0; r < kTile; ++r) {
    for (int c = 0; c < kTile; ++c) {
      const size_t at = tile_offset(r, c, ldm, col_major);
      std::memcpy(tile + (r * kTile + c) * element_bytes, base + at * element_bytes,
                  element_bytes);
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    std::memcpy(lanes[lane]->out, tile, static_cast<size_t>(kElements) * element_bytes);
  }
}

void wmma_store(void* p, const void* x, int element_bytes, unsigned ldm, bool col_major,
                Site site) {
  check_tile_address("store_matrix_sync", p, element_bytes, ldm, site);
  WmmaLane mine;
  mine.site = site;
  mine.out = p;
  mine.in = x;
  mine.ldm = ldm;
  mine.col_major = col_major;
  mine.element_bytes = element_bytes;
  WmmaLane* lanes[32];
  if (!meet(kWmmaStore, &mine, lanes)) return;
  check_same_arguments("store_matrix_sync", lanes, mine, false);
  const void* fragments[32];
  for (int lane = 0; lane < 32; ++lane) fragments[lane] = lanes[lane]->in;
  check_same_fragment("store_matrix_sync", "accumulator", fragments, element_bytes, site);
  // All lanes hold the same tile: this lane stores it for the warp.
  const unsigned char* tile = static_cast<const unsigned char*>(x);
  unsigned char* base = static_cast<unsigned char*>(p);
  for (int r = 0; r < kTile; ++r) {
    for (int c = 0; c < kTile; ++c) {
      const size_t at = tile_offset(r, c, ldm, col_major);
      std::memcpy(base + at * element_bytes, tile + (r * kTile + c) * element_bytes,
                  element_bytes);
    }
  }
}

void wmma_fill(void* x, int element_bytes, uint32_t value, Site site) {
  WmmaLane mine;
  mine.site = site;
  mine.out = x;
  mine.element_bytes = element_bytes;
  mine.value = value;
  WmmaLane* lanes[32];
  if (!meet(kWmmaFill, &mine, lanes)) return;
  for (int lane = 0; lane < 32; ++lane) {
    if (lanes[lane]->value != value || lanes[lane]->element_bytes != element_bytes) {
      failf(site,
            "wmma::fill_fragment: lane %d fills with 0x%x, lane %d with 0x%x: every lane must "
            "fill with the same value (which lane holds which element is unspecified)",
            lane_id(), value, lane, lanes[lane]->value);
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    unsigned char* out = static_cast<unsigned char*>(lanes[lane]->out);
    for (int i = 0; i < kElements; ++i) {
      std::memcpy(out + i * element_bytes, &value, element_bytes);  // little-endian: the low bytes
    }
  }
}

void wmma_mma_bf16(float* d, const void* a, const void* b, const float* c, Site site) {
  WmmaLane mine;
  mine.site = site;
  mine.out = d;
  mine.in = a;
  mine.b = b;
  mine.c = c;
  WmmaLane* lanes[32];
  if (!meet(kWmmaMma, &mine, lanes)) return;
  const void* fragments[32];
  for (int lane = 0; lane < 32; ++lane) fragments[lane] = lanes[lane]->in;
  check_same_fragment("mma_sync", "matrix_a", fragments, 2, site);
  for (int lane = 0; lane < 32; ++lane) fragments[lane] = lanes[lane]->b;
  check_same_fragment("mma_sync", "matrix_b", fragments, 2, site);
  for (int lane = 0; lane < 32; ++lane) fragments[lane] = lanes[lane]->c;
  check_same_fragment("mma_sync", "accumulator", fragments, 4, site);
  uint16_t A[kElements], B[kElements];
  float D[kElements];
  std::memcpy(A, a, sizeof A);
  std::memcpy(B, b, sizeof B);
  for (int i = 0; i < kTile; ++i) {
    for (int j = 0; j < kTile; ++j) {
      float sum = c[i * kTile + j];
      for (int k = 0; k < kTile; ++k) {
        sum += bf16_to_float(A[i * kTile + k]) * bf16_to_float(B[k * kTile + j]);
      }
      D[i * kTile + j] = sum;
    }
  }
  for (int lane = 0; lane < 32; ++lane) std::memcpy(lanes[lane]->out, D, sizeof D);
}


// ---------------------------------------------------------------------------
// wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16, and its fences

// The shared memory one wgmma read, 16 bytes at a time, as it was then.
struct WgmmaOperands {
  struct Piece {
    const unsigned char* at;
    unsigned char bytes[16];
  };
  std::vector<Piece> pieces;
  std::vector<uintptr_t> sorted;  // the pieces' addresses, sorted
  Site site;
  bool checked = false;
};

namespace {

struct WgmmaLane : LaneRecord {
  float* d;
  int n;
  uint64_t desc_a, desc_b;
  bool accumulate;
  AsyncMmas* queue;
};

// An operand as its descriptor places it: where its first row starts, and
// how far apart its 8-row groups are (shared-window addresses, in bytes).
struct SwizzledOperand {
  uint32_t start;
  uint32_t stride;
};

SwizzledOperand decode(uint64_t desc, const char* which, Site site) {
  const unsigned swizzle = static_cast<unsigned>(desc >> 62);
  if (swizzle != 1) {
    failf(site,
          "wgmma.mma_async: %s's descriptor asks for swizzle mode %u; the emulator models only "
          "mode 1 (128-byte swizzle) of K-major bf16 operands",
          which, swizzle);
  }
  if ((desc >> 49 & 7u) != 0) {
    failf(site, "wgmma.mma_async: %s's descriptor has a base offset (not emulated)", which);
  }
  SwizzledOperand m;
  m.start = static_cast<uint32_t>(desc & 0x3fffu) << 4;
  m.stride = static_cast<uint32_t>(desc >> 32 & 0x3fffu) << 4;
  if ((m.start >> 7 & 7u) != 0) {
    failf(site,
          "wgmma.mma_async: %s starts at shared address 0x%x, in row %u of a 1024-byte 8-row "
          "pattern; with the 128-byte swizzle the emulator models an operand that starts in "
          "the pattern's first row (is the tile 1024-byte aligned by its shared address?)",
          which, m.start, m.start >> 7 & 7u);
  }
  if ((m.start & 31u) != 0) {
    failf(site,
          "wgmma.mma_async: %s starts at shared address 0x%x, %u bytes into its 128-byte row; "
          "its 16 columns start 0, 32, 64 or 96 bytes in (from a tile aligned to 1024 bytes "
          "by its shared address, a step of 16 along K is 32 bytes)",
          which, m.start, m.start & 127u);
  }
  if (m.stride == 0) failf(site, "wgmma.mma_async: %s's stride byte offset is 0", which);
  return m;
}

// Where row r's columns 8h .. 8h+7 (16 bytes) of the operand lie: the plain
// address, then the 128-byte swizzle (address bits 4-6 ^= bits 7-9).
uint32_t piece_address(const SwizzledOperand& m, int r, int h) {
  const uint32_t plain = m.start + static_cast<uint32_t>(r / 8) * m.stride +
                         static_cast<uint32_t>(r % 8) * 128 + static_cast<uint32_t>(h) * 16;
  return plain ^ (((plain >> 7) & 7u) << 4);
}

// Reads 8 bf16 at shared-window address `address` as float, and remembers them.
void read_piece(uint32_t address, const char* which, float* out, WgmmaOperands& seen,
                Site site) {
  const size_t bytes = dynamic_shared_bytes();
  if (address < kSharedWindowBase || address - kSharedWindowBase + 16 > bytes) {
    failf(site,
          "wgmma.mma_async: %s reads shared address 0x%x, outside the launch's %zu bytes of "
          "dynamic shared memory (at 0x%x)",
          which, address, bytes, kSharedWindowBase);
  }
  WgmmaOperands::Piece piece;
  piece.at = static_cast<const unsigned char*>(dynamic_shared_memory) +
             (address - kSharedWindowBase);
  std::memcpy(piece.bytes, piece.at, 16);
  for (int i = 0; i < 8; ++i) {
    uint16_t bits;
    std::memcpy(&bits, piece.bytes + 2 * i, 2);
    out[i] = bf16_to_float(bits);
  }
  seen.pieces.push_back(piece);
}

// The pending result this thread's queue holds for registers d, if any.
const AsyncMma* pending_for(const AsyncMmas& q, const float* d) {
  for (size_t i = q.items.size(); i > q.first; --i) {
    if (q.items[i - 1].d == d) return &q.items[i - 1];
  }
  return nullptr;
}

}  // namespace

uint32_t shared_window_address(const void* p, Site site) {
  const auto* base = static_cast<const unsigned char*>(dynamic_shared_memory);
  const auto* at = static_cast<const unsigned char*>(p);
  if (base == nullptr || at < base || at > base + dynamic_shared_bytes()) {
    fail("a shared-window address of a pointer outside the launch's dynamic shared memory "
         "(the emulator gives one only to extern __shared__ memory)",
         site);
  }
  return kSharedWindowBase + static_cast<uint32_t>(at - base);
}

void wgmma_m64nNk16_bf16(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool accumulate,
                         Site site) {
  AsyncMmas& q = running_thread_mmas(site);
  if (n < 8 || n > 256 || n % 8 != 0) {
    failf(site, "wgmma.mma_async.m64nNk16: N = %d must be a multiple of 8 from 8 to 256", n);
  }
  if (!q.fenced) {
    fail("wgmma.mma_async without a wgmma.fence by this thread since its last wgmma.wait_group "
         "(or since it started): the registers it accumulates into are not ordered",
         site);
  }
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  if (threads % 128 != 0) {
    failf(site, "wgmma.mma_async in a block of %u threads: a block of whole warpgroups (128) "
          "runs it", threads);
  }
  WgmmaLane mine;
  mine.site = site;
  mine.d = d;
  mine.n = n;
  mine.desc_a = desc_a;
  mine.desc_b = desc_b;
  mine.accumulate = accumulate;
  mine.queue = &q;
  WgmmaLane* lanes[32];
  if (!meet(kWgmma, &mine, lanes)) return;
  for (int lane = 0; lane < 32; ++lane) {
    const WgmmaLane& l = *lanes[lane];
    if (l.n != n || l.desc_a != desc_a || l.desc_b != desc_b || l.accumulate != accumulate) {
      failf(site, "wgmma.mma_async: lane %d passes other operands than this lane (N, the "
            "descriptors and scale-d are the warpgroup's, the same in every lane)", lane);
    }
  }
  const int unfenced = thread_with_unfenced_copies();
  if (unfenced >= 0) {
    failf(site,
          "wgmma.mma_async while thread %d of the block holds cp.async copies not followed by "
          "fence.proxy.async: wgmma reads shared memory through the async proxy, and may not "
          "see what the generic proxy (cp.async) wrote",
          unfenced);
  }
  const unsigned linear = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int warp_in_group = static_cast<int>(linear / 32 % 4);
  const SwizzledOperand a = decode(desc_a, "A", site);
  const SwizzledOperand b = decode(desc_b, "B", site);
  auto seen = std::make_shared<WgmmaOperands>();
  seen->site = site;
  float A[16][16];
  std::vector<float> B(static_cast<size_t>(n) * 16);  // (n, k)
  for (int r = 0; r < 16; ++r) {
    for (int h = 0; h < 2; ++h) {
      read_piece(piece_address(a, 16 * warp_in_group + r, h), "A", &A[r][8 * h], *seen, site);
    }
  }
  for (int r = 0; r < n; ++r) {
    for (int h = 0; h < 2; ++h) {
      read_piece(piece_address(b, r, h), "B", &B[static_cast<size_t>(r) * 16 + 8 * h], *seen,
                 site);
    }
  }
  for (const WgmmaOperands::Piece& piece : seen->pieces) {
    seen->sorted.push_back(reinterpret_cast<uintptr_t>(piece.at));
  }
  std::sort(seen->sorted.begin(), seen->sorted.end());
  const int copying = thread_with_pending_copy_into(seen->sorted);
  if (copying >= 0) {
    failf(site,
          "wgmma.mma_async reads shared memory that a cp.async of thread %d has not been "
          "waited for (cp.async.wait_group, then a barrier, before the wgmma)",
          copying);
  }
  const int values = n / 2;
  for (int lane = 0; lane < 32; ++lane) {
    WgmmaLane& l = *lanes[lane];
    AsyncMmas& lq = *l.queue;
    const int g = lane / 4, t = lane % 4;
    AsyncMma result;
    result.d = l.d;
    result.operands = seen;
    if (accumulate) {
      const AsyncMma* before = pending_for(lq, l.d);
      if (before != nullptr && before->values.size() != static_cast<size_t>(values)) {
        failf(site,
              "wgmma.mma_async of N = %d accumulates into registers whose unfinished wgmma "
              "has N = %zu (chained wgmma on the same registers have one shape)",
              n, 2 * before->values.size());
      }
      result.values = before != nullptr ? before->values
                                        : std::vector<float>(l.d, l.d + values);
    } else {
      result.values.assign(static_cast<size_t>(values), 0.0f);
    }
    for (int j = 0; j < n / 8; ++j) {
      for (int i = 0; i < 4; ++i) {
        const int row = g + 8 * (i / 2), col = 8 * j + 2 * t + i % 2;
        float sum = result.values[static_cast<size_t>(4 * j + i)];
        for (int k = 0; k < 16; ++k) sum += A[row][k] * B[static_cast<size_t>(col) * 16 + k];
        result.values[static_cast<size_t>(4 * j + i)] = sum;
      }
    }
    for (int i = 0; i < values; ++i) l.d[i] = std::nanf("");  // in flight until the wait
    lq.items.push_back(std::move(result));
  }
}

void wgmma_fence(Site site) { running_thread_mmas(site).fenced = true; }

void wgmma_commit_group(Site site) { running_thread_mmas(site).commit(); }

namespace {
struct WgmmaWaitLane : LaneRecord {
  int pending;
  AsyncMmas* queue;
};
}  // namespace

// Warp-collective (.sync.aligned), so that the operands are checked once
// every lane of the warp has done what it did before its wait: a store by
// any lane before the wait is a store before the wait.
void wgmma_wait_group(int pending, Site site) {
  if (pending < 0) failf(site, "wgmma.wait_group %d: the count must be 0 or more", pending);
  WgmmaWaitLane mine;
  mine.site = site;
  mine.pending = pending;
  mine.queue = &running_thread_mmas(site);
  WgmmaWaitLane* lanes[32];
  if (!meet(kWgmmaWait, &mine, lanes)) return;
  for (int lane = 0; lane < 32; ++lane) {
    if (lanes[lane]->pending != pending) {
      failf(site, "wgmma.wait_group: lane %d waits for %d groups, this lane for %d (the count "
            "is the warp's, the same in every lane)", lane, lanes[lane]->pending, pending);
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    AsyncMmas& q = *lanes[lane]->queue;
    q.complete_all_but(static_cast<size_t>(pending), [&](const AsyncMma& m) {
      WgmmaOperands& seen = *m.operands;
      if (!seen.checked) {
        const int copying = thread_with_pending_copy_into(seen.sorted);
        if (copying >= 0) {
          failf(site,
                "thread %d has a cp.async in flight into shared memory that the unfinished "
                "wgmma.mma_async at %s:%d reads: on a GPU the copy may land before the "
                "instruction reads it (wait for the wgmma, then a barrier, before refilling "
                "its stage)",
                copying, seen.site.file, seen.site.line);
        }
        for (const WgmmaOperands::Piece& piece : seen.pieces) {
          if (std::memcmp(piece.at, piece.bytes, 16) != 0) {
            failf(site,
                  "shared memory that the wgmma.mma_async at %s:%d reads was written before "
                  "the wgmma.wait_group that completes it (here): a GPU may read it any time "
                  "until then",
                  seen.site.file, seen.site.line);
          }
        }
        seen.checked = true;
      }
      std::copy(m.values.begin(), m.values.end(), m.d);
    });
    q.fenced = false;
    q.compact();
  }
}

void fence_proxy_async_shared(Site site) { running_thread_copies(site).unfenced = false; }

void finish_async_mmas(AsyncMmas& q) {
  if (q.first < q.items.size()) {
    const Site site = q.items[q.first].operands->site;
    fail("a thread returns with a wgmma.mma_async (issued here) not completed by a "
         "wgmma.wait_group: its result never reaches its registers",
         site);
  }
  q.items.clear();
  q.group_ends.clear();
  q.first = q.first_group = 0;
  q.fenced = false;
}

}  // namespace gpt_emu
