// The application's memory, where Teardown reads or writes it itself rather than through the
// provider below. A bad pointer there must give the application WSAEFAULT, as the provider below
// gives it, and never take the process down: MSVC builds copy under structured exception handling;
// mingw-w64, which has none, copies with a routine of its own whose faults a vectored exception
// handler turns into a failed copy (see app_memory.cpp).
#pragma once

#include <cstddef>

namespace teardown::lsp {

// Thrown where the application's memory cannot be read or written; the entry points answer it
// with WSAEFAULT, as a failure before the call below (never after it: what went below stands).
struct AppFault {};

// Copies `length` bytes; false, with `to` in an undefined state, when either side faults.
bool try_copy(void* to, const void* from, size_t length) noexcept;

// The same, throwing AppFault.
void copy_app(void* to, const void* from, size_t length);

// One value of the application's.
template <typename T>
T read_app(const T* from) {
  T value;
  copy_app(&value, from, sizeof(value));
  return value;
}

template <typename T>
void write_app(T* to, const T& value) {
  copy_app(to, &value, sizeof(value));
}

// At the first WSPStartup: what makes the copies safe (nothing under MSVC). Until then, and where
// it cannot be done, they copy unguarded, as they did before it existed.
void guard_app_memory() noexcept;
// At the DLL's unload: taken away again, so that nothing points into the unloaded DLL.
void unguard_app_memory() noexcept;

}  // namespace teardown::lsp
