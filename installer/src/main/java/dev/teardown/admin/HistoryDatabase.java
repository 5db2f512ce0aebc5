package dev.teardown.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --db FILE}, shared by the commands that use a history, and where a history lives when it
 * is not given: {@code %ProgramData%\Teardown\history.db} on Windows; on Linux {@code
 * /var/lib/teardown/history.db} for the system channel, and the user's own data directory ({@code
 * $XDG_DATA_HOME/teardown}, else {@code ~/.local/share/teardown}) for a private one.
 */
final class HistoryDatabase {
  static final Path LINUX_SYSTEM_CHANNEL = Path.of("/dev/shm/teardown");
  static final Path LINUX_SYSTEM_HISTORY = Path.of("/var/lib/teardown/history.db");

  @Option(
      names = "--db",
      paramLabel = "FILE",
      description =
          "History database (default: %%ProgramData%%\\Teardown\\history.db on Windows;"
              + " /var/lib/teardown/history.db for the system channel on Linux, else"
              + " $XDG_DATA_HOME/teardown/history.db).")
  Path file;

  /** The database given, or the default for the channel in {@code channel} (null: the default channel). */
  Path resolve(Path channel) {
    return file != null ? file : defaultFor(channel);
  }

  /** Whether this is Windows, where Teardown's files are in {@link #windowsFolder()}. */
  static boolean onWindows() {
    return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
  }

  /** {@code %ProgramData%\Teardown}: the system channel, the history, the catalog backups. */
  static Path windowsFolder() {
    return Path.of(Optional.ofNullable(System.getenv("ProgramData")).orElse("C:\\ProgramData"), "Teardown");
  }

  /** The channel {@code $TEARDOWN_CHANNEL} names, or null when it is not set. */
  static String channelFromEnvironment() {
    String fromEnvironment = System.getenv("TEARDOWN_CHANNEL");
    return fromEnvironment == null || fromEnvironment.isEmpty() ? null : fromEnvironment;
  }

  static Path defaultFor(Path channel) {
    if (onWindows()) {
      return windowsFolder().resolve("history.db");
    }
    Path effective = channel;
    if (effective == null) {
      String fromEnvironment = channelFromEnvironment();
      if (fromEnvironment != null) {
        effective = Path.of(fromEnvironment);
      } else if (Files.isDirectory(LINUX_SYSTEM_CHANNEL)) {
        effective = LINUX_SYSTEM_CHANNEL;
      }
    }
    if (effective != null && effective.toAbsolutePath().normalize().equals(LINUX_SYSTEM_CHANNEL)) {
      return LINUX_SYSTEM_HISTORY;
    }
    String data = System.getenv("XDG_DATA_HOME");
    Path base = data != null && Path.of(data).isAbsolute()
        ? Path.of(data)
        : Path.of(System.getProperty("user.home"), ".local", "share");
    return base.resolve("teardown").resolve("history.db");
  }
}
