package dev.teardown.admin.winsock;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.BaseTSD.SIZE_T;
import com.sun.jna.platform.win32.Guid;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.win32.StdCallLibrary;

/**
 * ws2_32's catalog functions (ws2spi.h, sporder.h), as C declares them. The *32 forms reach the
 * 32-bit catalog of 64-bit Windows and exist only in the 64-bit ws2_32; installing there takes a
 * 32-bit process ({@link Catalog32Helper}). Most return 0 or
 * SOCKET_ERROR with the Winsock error in {@code errno}; WSCWriteProviderOrder(32) returns the error.
 */
public interface Ws2Catalog extends StdCallLibrary {
  int SOCKET_ERROR = -1;
  /** WSC_PROVIDER_INFO_TYPE ProviderInfoLspCategories. */
  int PROVIDER_INFO_LSP_CATEGORIES = 0;
  /** WSCGetApplicationCategory's error for a program that is not categorised. */
  int WSASERVICE_NOT_FOUND = 10108;

  /** Loads ws2_32; only on Windows. */
  static Ws2Catalog load() {
    return Native.load("ws2_32", Ws2Catalog.class);
  }

  int WSCEnumProtocols(int[] protocols, Pointer buffer, IntByReference bufferLength, IntByReference errno);

  int WSCEnumProtocols32(int[] protocols, Pointer buffer, IntByReference bufferLength, IntByReference errno);

  int WSCInstallProvider(Guid.GUID providerId, WString dllPath, Pointer protocolInfoList, int count,
      IntByReference errno);

  int WSCDeinstallProvider(Guid.GUID providerId, IntByReference errno);

  int WSCDeinstallProvider32(Guid.GUID providerId, IntByReference errno);

  int WSCUpdateProvider(Guid.GUID providerId, WString dllPath, Pointer protocolInfoList, int count,
      IntByReference errno);

  int WSCUpdateProvider32(Guid.GUID providerId, WString dllPath, Pointer protocolInfoList, int count,
      IntByReference errno);

  /** Returns 0 or the error itself. */
  int WSCWriteProviderOrder(int[] catalogIds, int count);

  /** Returns 0 or the error itself. */
  int WSCWriteProviderOrder32(int[] catalogIds, int count);

  int WSCGetProviderPath(Guid.GUID providerId, char[] dllPath, IntByReference dllPathLength,
      IntByReference errno);

  int WSCGetProviderPath32(Guid.GUID providerId, char[] dllPath, IntByReference dllPathLength,
      IntByReference errno);

  int WSCSetProviderInfo(Guid.GUID providerId, int infoType, Pointer info, SIZE_T infoSize, int flags,
      IntByReference errno);

  int WSCSetProviderInfo32(Guid.GUID providerId, int infoType, Pointer info, SIZE_T infoSize, int flags,
      IntByReference errno);

  /** {@code infoSize} points to a size_t: the room at {@code info}, then the bytes written. */
  int WSCGetProviderInfo(Guid.GUID providerId, int infoType, Pointer info, Pointer infoSize, int flags,
      IntByReference errno);

  int WSCSetApplicationCategory(WString path, int pathLength, WString extra, int extraLength,
      int permittedLspCategories, IntByReference previousLspCategories, IntByReference errno);

  int WSCGetApplicationCategory(WString path, int pathLength, WString extra, int extraLength,
      IntByReference permittedLspCategories, IntByReference errno);
}
