package dev.teardown.admin.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * `teardown record` as a Windows service: installed by `teardown install --recorder`, started at
 * boot, stopped and removed by `teardown uninstall`.
 */
public final class RecorderService {
  public static final String NAME = "TeardownRecorder";
  static final String DISPLAY_NAME = "Teardown recorder";
  static final String DESCRIPTION = "Records how every TCP connection on this machine ends into"
      + " %ProgramData%\\Teardown\\history.db; query it with `teardown why`.";
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private RecorderService() {}

  /**
   * The service's command line: {@code java -jar teardown.jar record --service --db DB}, each
   * argument quoted as CommandLineToArgvW reads it.
   */
  public static String commandLine(Path java, Path jar, Path database) {
    return String.join(" ", List.of(quote(java.toString()), "-jar", quote(jar.toString()), "record", "--service",
        "--db", quote(database.toString())));
  }

  /** One argument for CommandLineToArgvW: quoted when it holds a space, tab or quote. */
  static String quote(String argument) {
    if (!argument.isEmpty() && argument.chars().noneMatch(c -> c == ' ' || c == '\t' || c == '"')) {
      return argument;
    }
    StringBuilder out = new StringBuilder("\"");
    int backslashes = 0;
    for (char c : argument.toCharArray()) {
      if (c == '\\') {
        backslashes++;
        continue;
      }
      // Backslashes before a quote are doubled, and the quote escaped.
      out.append("\\".repeat(c == '"' ? backslashes * 2 + 1 : backslashes)).append(c);
      backslashes = 0;
    }
    return out.append("\\".repeat(backslashes * 2)).append('"').toString();
  }

  /**
   * Installs the service to run {@code commandLine} and starts it. A recorder service already
   * there is stopped and replaced, so that it runs this build. Returns what was done, line by line.
   */
  public static void install(ServiceControl control, String commandLine, Consumer<String> say) {
    if (control.state(NAME) != ServiceControl.State.ABSENT) {
      remove(control, say);
    }
    control.create(new ServiceControl.Spec(NAME, DISPLAY_NAME, DESCRIPTION, commandLine));
    say.accept("recorder service " + NAME + " installed: starts at boot, runs " + commandLine);
    control.start(NAME);
    say.accept("recorder service started");
  }

  /** Stops and removes the service, if it is there; says nothing when it is not. */
  public static boolean uninstall(ServiceControl control, Consumer<String> say) {
    if (control.state(NAME) == ServiceControl.State.ABSENT) {
      return false;
    }
    remove(control, say);
    return true;
  }

  private static void remove(ServiceControl control, Consumer<String> say) {
    ServiceControl.State state = control.state(NAME);
    if (state != ServiceControl.State.STOPPED) {
      if (!control.stop(NAME, STOP_TIMEOUT)) {
        throw new ServiceControl.ServiceException("the recorder service " + NAME + " did not stop within "
            + STOP_TIMEOUT.toSeconds() + " s; stop it (sc stop " + NAME + ") and run this again");
      }
      say.accept("recorder service stopped (its last commit made)");
    }
    control.delete(NAME);
    say.accept("recorder service " + NAME + " removed");
  }
}
