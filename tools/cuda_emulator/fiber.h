// tools/cuda_emulator/fiber.h — a stack of its own for each emulated GPU thread.
//
// A kernel's threads wait for each other at barriers, so the emulator must be
// able to stop one thread in the middle of the kernel, run another, and come
// back. A Fiber is such a resumable function: its own small stack and its
// saved registers, switched by hand on ONE OS thread. switch_to(next) saves
// this fiber and continues `next` where it stopped; nothing runs in parallel.
//
// On x86-64 a switch is a dozen instructions (fiber.cc): save the registers a
// called function must preserve, swap stack pointers, restore. (ucontext's
// swapcontext also saves the signal mask: a system call per switch, and
// kernels with warp shuffles switch millions of times.) Elsewhere ucontext
// is used.
//
// Under AddressSanitizer every switch is announced (__sanitizer_start_switch_fiber
// and __sanitizer_finish_switch_fiber), so that ASan knows which stack is live
// and checks kernels' stack accesses as it does any other code's.
#pragma once

#include <cstddef>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace gpt_emu {

class Fiber {
 public:
  // The OS thread's own stack, as a fiber that others can switch back to.
  Fiber();
  // A fiber that will run entry() on a new stack when first switched to.
  // entry must never return: it switches away instead.
  Fiber(void (*entry)(), size_t stack_bytes);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Saves this fiber (which must be the one running) and runs `next`;
  // returns when some fiber switches back to this one.
  void switch_to(Fiber& next);

 private:
  static void start();  // the first thing a new fiber runs: calls entry_
  void arrived();       // on this fiber's stack, after a switch to it (ASan bookkeeping)

  void (*entry_)() = nullptr;
#if defined(__x86_64__)
  void* sp_ = nullptr;  // the saved stack pointer, while suspended
#else
  ucontext_t context_;
#endif
  char* mapping_ = nullptr;  // the stack and its guard page (none for the OS thread's)
  size_t mapping_bytes_ = 0;
  const void* stack_ = nullptr;  // [stack_, stack_ + stack_bytes_): for the OS thread's
  size_t stack_bytes_ = 0;       // fiber, ASan tells us on the first switch away
  void* fake_stack_ = nullptr;   // ASan's, kept across a switch
};

}  // namespace gpt_emu
