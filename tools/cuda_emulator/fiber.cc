// tools/cuda_emulator/fiber.cc — switching stacks, with ASan told about each switch.
#include "tools/cuda_emulator/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define GPT_EMU_ASAN 1
#else
#define GPT_EMU_ASAN 0
#endif

#if defined(__x86_64__)
// gpt_emu_switch_stack(save, load): pushes the registers the System V ABI
// says a call preserves (rbp, rbx, r12–r15, and the SSE and x87 control
// words), stores the stack pointer in *save, continues on stack `load` and
// pops the same registers there. `ret` then returns into the other stack's
// gpt_emu_switch_stack call — or, the first time, into Fiber::start.
extern "C" void gpt_emu_switch_stack(void** save, void* load);
asm(R"(
  .text
  .globl gpt_emu_switch_stack
  .type gpt_emu_switch_stack, @function
  .p2align 4
gpt_emu_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size gpt_emu_switch_stack, .-gpt_emu_switch_stack
  .section .note.GNU-stack, "", @progbits
  .text
)");
#endif

namespace gpt_emu {
namespace {

// The fiber that switched last (one OS thread runs all fibers): a fiber that
// has just arrived learns from it where it came from.
Fiber* switching_from = nullptr;
Fiber* switching_to = nullptr;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::abort();
}

}  // namespace

Fiber::Fiber() = default;

Fiber::Fiber(void (*entry)(), size_t stack_bytes) : entry_(entry) {
  // The stack, with one inaccessible page below it: an overflow faults at
  // once instead of overwriting another fiber's stack.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  stack_bytes_ = (stack_bytes + page - 1) / page * page;
  mapping_bytes_ = stack_bytes_ + page;
  void* mapping = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mapping == MAP_FAILED) die("gpt_emu: mmap of a fiber stack");
  mapping_ = static_cast<char*>(mapping);
  if (mprotect(mapping_, page, PROT_NONE) != 0) die("gpt_emu: mprotect of a stack guard");
  stack_ = mapping_ + page;
#if defined(__x86_64__)
  // The stack as gpt_emu_switch_stack leaves it, from the top (16-byte aligned):
  // a zero return address for start() (it never returns), start() itself for
  // `ret`, six zero registers, and this thread's SSE and x87 control words.
  auto* top = reinterpret_cast<uint64_t*>(mapping_ + page + stack_bytes_);
  top[-1] = 0;
  top[-2] = reinterpret_cast<uint64_t>(&Fiber::start);
  for (int i = 3; i <= 8; ++i) top[-i] = 0;
  uint32_t mxcsr = 0;
  uint16_t fpucw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpucw));
  top[-9] = 0;
  std::memcpy(&top[-9], &mxcsr, 4);
  std::memcpy(reinterpret_cast<char*>(&top[-9]) + 4, &fpucw, 2);
  sp_ = &top[-9];
#else
  if (getcontext(&context_) != 0) die("gpt_emu: getcontext");
  context_.uc_stack.ss_sp = mapping_ + page;
  context_.uc_stack.ss_size = stack_bytes_;
  context_.uc_link = nullptr;
  makecontext(&context_, &Fiber::start, 0);
#endif
}

Fiber::~Fiber() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_bytes_);
}

void Fiber::start() {
  switching_to->arrived();
  switching_to->entry_();
  std::fputs("gpt_emu: a fiber's entry returned\n", stderr);
  std::abort();
}

void Fiber::switch_to(Fiber& next) {
  if (&next == this) return;
  switching_from = this;
  switching_to = &next;
#if GPT_EMU_ASAN
  __sanitizer_start_switch_fiber(&fake_stack_, next.stack_, next.stack_bytes_);
#endif
#if defined(__x86_64__)
  gpt_emu_switch_stack(&sp_, next.sp_);
#else
  if (swapcontext(&context_, &next.context_) != 0) die("gpt_emu: swapcontext");
#endif
  arrived();
}

void Fiber::arrived() {
#if GPT_EMU_ASAN
  const void* from_stack = nullptr;
  size_t from_bytes = 0;
  __sanitizer_finish_switch_fiber(fake_stack_, &from_stack, &from_bytes);
  fake_stack_ = nullptr;
  // The OS thread's stack has no bounds of its own until ASan reports them.
  if (switching_from->mapping_ == nullptr) {
    switching_from->stack_ = from_stack;
    switching_from->stack_bytes_ = from_bytes;
  }
#endif
}

}  // namespace gpt_emu
