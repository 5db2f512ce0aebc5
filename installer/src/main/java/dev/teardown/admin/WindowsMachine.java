package dev.teardown.admin;

import com.sun.jna.Platform;
import com.sun.jna.platform.win32.Advapi32Util;
import dev.teardown.admin.winsock.Catalog32Process;
import dev.teardown.admin.winsock.Ws2Catalog;
import dev.teardown.admin.winsock.WindowsCatalog;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The Windows this command runs on, for the verbs that change or read the live catalog: refused
 * with a clear message (exit 2) where they cannot work, before anything is touched.
 */
final class WindowsMachine {
  static final int CANNOT_RUN_HERE = 2;

  private WindowsMachine() {}

  /**
   * The machine, or empty after saying on {@code err} why {@code verb} cannot run here: not
   * Windows, a 32-bit Java on 64-bit Windows, or (when {@code changes}) not elevated.
   */
  static Optional<Installation.Machine> detect(String verb, boolean changes, PrintWriter err) {
    if (!Platform.isWindows()) {
      err.println("teardown " + verb + " works on the Winsock catalog, which only Windows has. To see what it would"
          + " do to a machine, save `netsh winsock show catalog` there and run `teardown catalog "
          + (changes ? "plan " + verb : "check") + " DUMP` here.");
      return Optional.empty();
    }
    if (System.getenv("PROCESSOR_ARCHITEW6432") != null) {
      err.println("teardown " + verb + " must run on a 64-bit Java: a 32-bit process cannot reach the 64-bit catalog.");
      return Optional.empty();
    }
    if (changes && !Advapi32Util.isCurrentProcessElevated()) {
      err.println("teardown " + verb + " changes the Winsock catalog and needs an elevated administrator:"
          + " run it from a command prompt opened with \"Run as administrator\".");
      return Optional.empty();
    }
    boolean has32BitCatalog = Platform.is64Bit();
    Path systemRoot = Path.of(Optional.ofNullable(System.getenv("SystemRoot")).orElse("C:\\Windows"));
    return Optional.of(new Installation.Machine(new WindowsCatalog(Ws2Catalog.load(), has32BitCatalog,
        new Catalog32Process()),
        has32BitCatalog, systemRoot, HistoryDatabase.windowsFolder().resolve("catalog-backups")));
  }

  /** The programs' LSP categories on this machine, or empty as {@link #detect} says why. */
  static Optional<ProgramCategories> programs(String verb, boolean changes, PrintWriter err) {
    return detect(verb, changes, err).map(machine -> new ProgramCategories(
        new WindowsPrograms(Ws2Catalog.load()),
        ProgramCategories.recordIn(machine.backupDir().getParent())));
  }
}
