package dev.teardown.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/** The recorder service's log: one timestamped line per start, stop and failure. */
final class ServiceLog {
  private ServiceLog() {}

  static void append(Path log, String line) {
    try {
      Files.writeString(log, Instant.now() + " " + line + System.lineSeparator(), StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      // A service has nowhere else to say it; what it records is unaffected.
    }
  }
}
