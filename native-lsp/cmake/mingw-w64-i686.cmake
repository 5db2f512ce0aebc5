# Cross-compiling for 32-bit Windows (the 32-bit Winsock catalog) with Debian's mingw-w64.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86)
set(TEARDOWN_MINGW_TRIPLET i686-w64-mingw32)
set(TEARDOWN_MINGW_PACKAGE g++-mingw-w64-i686-posix)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)
