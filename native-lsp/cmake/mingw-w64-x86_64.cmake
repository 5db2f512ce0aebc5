# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (POSIX threads variant).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(TEARDOWN_MINGW_TRIPLET x86_64-w64-mingw32)
set(TEARDOWN_MINGW_PACKAGE g++-mingw-w64-x86-64-posix)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)
