#include "async_select.h"

#include <atomic>
#include <mutex>

#include "recorder.h"
#include "sockets.h"
#include "upcalls.h"

namespace teardown::lsp {

namespace {

constexpr wchar_t kWindowClass[] = L"TeardownLspNotifications";
constexpr DWORD kStartTimeoutMs = 5000;

std::mutex lock_;
HWND window_ = nullptr;

// Shared by the caller and the new thread, freed by whichever lets go last: a caller that gave
// up waiting must not leave the thread writing to its stack.
struct ThreadStart {
  HANDLE ready = nullptr;
  std::atomic<HWND> window{nullptr};
  std::atomic<int> holders{2};

  void let_go() {
    if (holders.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    CloseHandle(ready);
    delete this;
  }
};

void forward(SOCKET lower, LPARAM notification) {
  SocketRef context = sockets().find_lower(lower);
  if (!context) return;  // closed, or no longer selected: FD_CLOSE is never posted after close
  HWND target = context->notify_window.load(std::memory_order_acquire);
  if (target == nullptr) return;
  if ((WSAGETSELECTEVENT(notification) & FD_CONNECT) != 0) {
    record_connect_outcome(*context, WSAGETSELECTERROR(notification));
  }
  if ((WSAGETSELECTEVENT(notification) & FD_CLOSE) != 0) {
    td_event_record event;
    if (context->teardown.on_fd_close(WSAGETSELECTERROR(notification), event)) {
      emit(*context, event);
    }
  }
  upcalls().lpWPUPostMessage(target, context->notify_message.load(std::memory_order_relaxed),
                             static_cast<WPARAM>(context->app), notification);
}

LRESULT CALLBACK window_procedure(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
  try {
    if (message == kLowerNotification) {
      forward(static_cast<SOCKET>(wparam), lparam);
      return 0;
    }
    if (message == WM_DESTROY) {
      PostQuitMessage(0);
      return 0;
    }
  } catch (...) {
  }
  return DefWindowProcW(window, message, wparam, lparam);
}

DWORD WINAPI notification_thread(void* parameter) {
  auto* start = static_cast<ThreadStart*>(parameter);
  // The thread holds the DLL: Winsock may unload it while the window is closing.
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                     reinterpret_cast<LPCWSTR>(&notification_thread), &self);
  WNDCLASSEXW window_class{};
  window_class.cbSize = sizeof(window_class);
  window_class.lpfnWndProc = window_procedure;
  window_class.hInstance = self;
  window_class.lpszClassName = kWindowClass;
  RegisterClassExW(&window_class);
  HWND window =
      CreateWindowExW(0, kWindowClass, L"", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr, self, nullptr);
  start->window.store(window, std::memory_order_release);
  SetEvent(start->ready);
  start->let_go();
  if (window != nullptr) {
    MSG message;
    while (GetMessageW(&message, nullptr, 0, 0) > 0) DispatchMessageW(&message);
  }
  UnregisterClassW(kWindowClass, self);
  FreeLibraryAndExitThread(self, 0);
}

}  // namespace

HWND notification_window() {
  std::lock_guard<std::mutex> hold(lock_);
  if (window_ != nullptr) return window_;
  auto* start = new ThreadStart();
  start->ready = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE thread = start->ready == nullptr
                      ? nullptr
                      : CreateThread(nullptr, 0, notification_thread, start, 0, nullptr);
  if (thread == nullptr) {
    if (start->ready != nullptr) CloseHandle(start->ready);
    delete start;
    return nullptr;
  }
  if (WaitForSingleObject(start->ready, kStartTimeoutMs) == WAIT_OBJECT_0) {
    window_ = start->window.load(std::memory_order_acquire);
  }
  CloseHandle(thread);
  start->let_go();
  return window_;
}

void stop_notification_window() {
  std::lock_guard<std::mutex> hold(lock_);
  if (window_ == nullptr) return;
  PostMessageW(window_, WM_CLOSE, 0, 0);
  window_ = nullptr;
}

}  // namespace teardown::lsp
