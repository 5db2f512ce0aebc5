#include "app_memory.h"

#include <atomic>
#include <cstdint>
#include <cstring>

#include "spi.h"

namespace teardown::lsp {

namespace {

// Faults a copy may meet in memory the application named: unmapped or protected, a mapped file
// that cannot be read, another thread's stack guard.
bool is_memory_fault(DWORD code) {
  return code == EXCEPTION_ACCESS_VIOLATION || code == EXCEPTION_IN_PAGE_ERROR ||
         code == STATUS_GUARD_PAGE_VIOLATION;
}

}  // namespace

#if defined(_MSC_VER)

bool try_copy(void* to, const void* from, size_t length) noexcept {
  __try {
    std::memcpy(to, from, length);
    return true;
  } __except (is_memory_fault(GetExceptionCode()) ? EXCEPTION_EXECUTE_HANDLER
                                                  : EXCEPTION_CONTINUE_SEARCH) {
    return false;
  }
}

void guard_app_memory() noexcept {}
void unguard_app_memory() noexcept {}

#else

// mingw-w64 has no __try. The copy is a leaf routine of its own, byte by byte, touching no stack:
// a fault at its load or store (between copy_fault_begin and copy_fault_end) can be resumed at
// copy_failed, which returns 0, with every register as the fault left it. The vectored handler
// below does exactly that, and only that.
extern "C" int td_copy_guarded(void* to, const void* from, size_t length);
extern "C" const char td_copy_fault_begin[];
extern "C" const char td_copy_fault_end[];
extern "C" const char td_copy_failed[];

#if defined(__x86_64__)
// Microsoft x64: to in rcx, from in rdx, length in r8; rax, r9 are the routine's to use.
asm(R"(
    .text
    .p2align 4
    .globl td_copy_guarded
    .globl td_copy_fault_begin
    .globl td_copy_fault_end
    .globl td_copy_failed
td_copy_guarded:
    xorl %eax, %eax
1:  cmpq %r8, %rax
    jae 2f
td_copy_fault_begin:
    movzbl (%rdx,%rax,1), %r9d
    movb %r9b, (%rcx,%rax,1)
td_copy_fault_end:
    incq %rax
    jmp 1b
2:  movl $1, %eax
    ret
td_copy_failed:
    xorl %eax, %eax
    ret
)");
#elif defined(__i386__)
// cdecl: to, from, length on the stack; ebx is saved, so the failure path restores it too.
asm(R"(
    .text
    .p2align 4
    .globl _td_copy_guarded
    .globl _td_copy_fault_begin
    .globl _td_copy_fault_end
    .globl _td_copy_failed
_td_copy_guarded:
    pushl %ebx
    movl 8(%esp), %ecx
    movl 12(%esp), %edx
    xorl %eax, %eax
1:  cmpl 16(%esp), %eax
    jae 2f
_td_copy_fault_begin:
    movzbl (%edx,%eax,1), %ebx
    movb %bl, (%ecx,%eax,1)
_td_copy_fault_end:
    incl %eax
    jmp 1b
2:  popl %ebx
    movl $1, %eax
    ret
_td_copy_failed:
    popl %ebx
    xorl %eax, %eax
    ret
)");
#else
#error "the guarded copy is written for x86 and x86-64"
#endif

namespace {

std::atomic<void*> handler_{nullptr};

LONG CALLBACK on_exception(EXCEPTION_POINTERS* exception) {
  if (!is_memory_fault(exception->ExceptionRecord->ExceptionCode)) return EXCEPTION_CONTINUE_SEARCH;
#if defined(__x86_64__)
  DWORD64& ip = exception->ContextRecord->Rip;
#else
  DWORD& ip = exception->ContextRecord->Eip;
#endif
  auto at = static_cast<uintptr_t>(ip);
  if (at < reinterpret_cast<uintptr_t>(td_copy_fault_begin) ||
      at >= reinterpret_cast<uintptr_t>(td_copy_fault_end)) {
    return EXCEPTION_CONTINUE_SEARCH;  // not ours: the program's own handlers decide
  }
  ip = static_cast<decltype(+ip)>(reinterpret_cast<uintptr_t>(td_copy_failed));
  return EXCEPTION_CONTINUE_EXECUTION;
}

}  // namespace

bool try_copy(void* to, const void* from, size_t length) noexcept {
  if (handler_.load(std::memory_order_acquire) == nullptr) {
    std::memcpy(to, from, length);
    return true;
  }
  return td_copy_guarded(to, from, length) != 0;
}

void guard_app_memory() noexcept {
  if (handler_.load(std::memory_order_acquire) != nullptr) return;
  // First in line, so that no handler of the program's takes our fault for its own; it passes on
  // every exception that is not a fault in the copy routine.
  void* handler = AddVectoredExceptionHandler(1, on_exception);
  void* expected = nullptr;
  if (handler != nullptr && !handler_.compare_exchange_strong(expected, handler)) {
    RemoveVectoredExceptionHandler(handler);  // another thread's is in place
  }
}

void unguard_app_memory() noexcept {
  void* handler = handler_.exchange(nullptr, std::memory_order_acq_rel);
  if (handler != nullptr) RemoveVectoredExceptionHandler(handler);
}

#endif

void copy_app(void* to, const void* from, size_t length) {
  if (!try_copy(to, from, length)) throw AppFault{};
}

}  // namespace teardown::lsp
