package dev.teardown.admin;

import dev.teardown.history.HistoryException;
import dev.teardown.history.TeardownHistory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;

/** What `teardown status` says of the history: the recorder's progress and health. */
record HistoryStatus(Path file, TeardownHistory.Summary summary, OptionalLong recorder, String error) {
  static HistoryStatus of(Path file) {
    OptionalLong recorder = TeardownHistory.recorderPid(file);
    if (Files.notExists(file)) {
      return new HistoryStatus(file, null, recorder, null);
    }
    try (TeardownHistory history = TeardownHistory.open(file)) {
      return new HistoryStatus(file, history.summary(), recorder, null);
    } catch (HistoryException e) {
      return new HistoryStatus(file, null, recorder, e.getMessage());
    }
  }

  String text() {
    String running = recorder.isPresent() ? "recorder running (pid " + recorder.getAsLong() + ")" : "no recorder running";
    if (error != null) {
      return error + "; " + running;
    }
    if (summary == null) {
      return "none at " + file + " (`teardown record` starts one); " + running;
    }
    return file + ": " + summary.events() + " events recorded, " + summary.lost() + " lost, "
        + summary.ends() + " connection ends held, " + Sizes.format(summary.fileBytes())
        + "; last event " + ago(summary.lastEvent()) + ", last commit " + ago(summary.lastCommit()) + "; " + running;
  }

  String json() {
    StringBuilder out = new StringBuilder("{\"file\":").append(EventFormat.quote(file.toString()))
        .append(",\"recorderPid\":").append(recorder.isPresent() ? Long.toString(recorder.getAsLong()) : "null")
        .append(",\"error\":").append(EventFormat.quote(error));
    if (summary != null) {
      out.append(",\"events\":").append(summary.events())
          .append(",\"lost\":").append(summary.lost())
          .append(",\"ends\":").append(summary.ends())
          .append(",\"bytes\":").append(summary.fileBytes())
          .append(",\"lastEvent\":").append(EventFormat.quote(summary.lastEvent() == null ? null : summary.lastEvent().toString()))
          .append(",\"lastCommit\":").append(EventFormat.quote(summary.lastCommit() == null ? null : summary.lastCommit().toString()));
    }
    return out.append('}').toString();
  }

  private static String ago(Instant when) {
    if (when == null) {
      return "never";
    }
    Duration age = Duration.between(when, Instant.now());
    if (age.isNegative()) {
      return when.toString();
    }
    long seconds = age.toSeconds();
    String text = seconds < 120 ? seconds + "s" : seconds < 7200 ? age.toMinutes() + "m" : seconds < 172800 ? age.toHours() + "h" : age.toDays() + "d";
    return when + " (" + text + " ago)";
  }
}
