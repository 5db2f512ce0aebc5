package dev.teardown.admin;

import com.sun.jna.Memory;
import com.sun.jna.WString;
import com.sun.jna.Native;
import com.sun.jna.platform.win32.Guid;
import com.sun.jna.ptr.IntByReference;
import dev.teardown.admin.catalog.CatalogCalls.CatalogException;
import dev.teardown.admin.catalog.TeardownProvider;
import dev.teardown.admin.winsock.Ws2Catalog;
import java.util.Locale;
import java.util.OptionalInt;

/** {@link ProgramCategories.Calls} through ws2_32: programs' and Teardown's LSP categories. */
final class WindowsPrograms implements ProgramCategories.Calls {
  private final Ws2Catalog ws2;

  WindowsPrograms(Ws2Catalog ws2) {
    this.ws2 = ws2;
  }

  @Override
  public OptionalInt applicationCategories(String program) {
    IntByReference categories = new IntByReference();
    IntByReference errno = new IntByReference();
    if (ws2.WSCGetApplicationCategory(new WString(program), program.length(), null, 0, categories,
        errno) == Ws2Catalog.SOCKET_ERROR) {
      if (errno.getValue() == Ws2Catalog.WSASERVICE_NOT_FOUND) {
        return OptionalInt.empty();  // "the application is currently not categorized"
      }
      throw new CatalogException("WSCGetApplicationCategory of " + program, errno.getValue());
    }
    return OptionalInt.of(categories.getValue());
  }

  @Override
  public void categorise(String program, int categories) {
    IntByReference previous = new IntByReference();
    IntByReference errno = new IntByReference();
    if (ws2.WSCSetApplicationCategory(new WString(program), program.length(), null, 0, categories,
        previous, errno) == Ws2Catalog.SOCKET_ERROR) {
      throw new CatalogException("WSCSetApplicationCategory of " + program, errno.getValue());
    }
  }

  @Override
  public OptionalInt teardownCategories() {
    try (Memory value = new Memory(4); Memory size = new Memory(Native.SIZE_T_SIZE)) {
      if (Native.SIZE_T_SIZE == 8) {
        size.setLong(0, 4);
      } else {
        size.setInt(0, 4);
      }
      IntByReference errno = new IntByReference();
      Guid.GUID guid = Guid.GUID.fromString(
          "{" + TeardownProvider.GUID.toString().toUpperCase(Locale.ROOT) + "}");
      if (ws2.WSCGetProviderInfo(guid, Ws2Catalog.PROVIDER_INFO_LSP_CATEGORIES, value, size, 0, errno)
          == Ws2Catalog.SOCKET_ERROR) {
        return OptionalInt.empty();  // not installed (or uncategorised): the defaults apply
      }
      return OptionalInt.of(value.getInt(0));
    }
  }
}
