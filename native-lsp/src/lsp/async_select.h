// WSPAsyncSelect: the lower provider notifies Teardown's own message-only window, on a thread of
// its own; that window records FD_CLOSE and posts each notification on to the application's
// window with the application's handle (WPUPostMessage), as Winsock would have.
#pragma once

#include "spi.h"

namespace teardown::lsp {

constexpr UINT kLowerNotification = WM_APP + 0x2A5D;

// The window lower providers notify, made with its thread the first time; null if it cannot be
// (no window station, say), and then WSPAsyncSelect fails rather than lose notifications.
HWND notification_window();

// At the last WSPCleanup: the window closes and its thread ends, releasing its hold on the DLL.
void stop_notification_window();

}  // namespace teardown::lsp
