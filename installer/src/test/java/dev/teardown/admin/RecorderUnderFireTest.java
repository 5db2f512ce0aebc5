package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import dev.teardown.history.Gap;
import dev.teardown.history.HistoryException;
import dev.teardown.history.TeardownHistory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `teardown record` killed with SIGKILL again and again while events pour in, then stopped with
 * SIGTERM: every event published is in the history exactly once or counted in a gap, and the
 * gaps add up to the losses.
 */
class RecorderUnderFireTest {
  private static final int EVENTS = 120_000;

  @TempDir Path dir;

  /** Every recorder started, killed at the end whatever happened: none outlives the test. */
  private final List<Process> started = new ArrayList<>();

  private Process recorder(Path channel, Path db, Path log) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
            TeardownCommand.class.getName(), "record", "--channel", channel.toString(), "--db", db.toString())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    started.add(process);
    return process;
  }

  @AfterEach
  void killWhatIsLeft() throws InterruptedException {
    for (Process process : started) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** The history's summary as of its last commit; null before the recorder made the database. */
  private static TeardownHistory.Summary summary(Path db) {
    if (!Files.exists(db)) {
      return null;
    }
    try (TeardownHistory history = TeardownHistory.open(db)) {
      return history.summary();
    } catch (HistoryException e) {
      return null;  // being made
    }
  }

  /** Events recorded so far, by the recorder's own count; 0 before it made the database. */
  private static long recorded(Path db) {
    TeardownHistory.Summary summary = summary(db);
    return summary == null ? 0 : summary.events();
  }

  private static void waitFor(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    waitFor(() -> what, condition);
  }

  private static void waitFor(java.util.function.Supplier<String> what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() >= deadline) {
        fail("timed out waiting: " + what.get());
      }
      Thread.sleep(20);
    }
  }

  private static String summaryOf(Path db) {
    try (TeardownHistory history = TeardownHistory.open(db)) {
      StringBuilder out = new StringBuilder(history.summary().toString()).append(" gaps ").append(history.gaps(null, null));
      try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db);
          Statement statement = sql.createStatement();
          ResultSet rows = statement.executeQuery("SELECT ring, generation, next_sequence FROM positions")) {
        while (rows.next()) {
          out.append(" position ").append(rows.getString(1)).append('@').append(rows.getLong(2)).append('=').append(rows.getLong(3));
        }
      }
      return out.toString();
    } catch (HistoryException | java.sql.SQLException e) {
      return e.getMessage();
    }
  }

  private static String readQuietly(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  @Test
  void killedAndRestartedItLosesNothingItCommittedAndRepeatsNothing() throws Exception {
    Path channelDir = dir.resolve("channel");
    Path db = dir.resolve("history.db");
    Path log = dir.resolve("recorder.log");
    AtomicLong published = new AtomicLong();
    AtomicBoolean failed = new AtomicBoolean();
    try (TeardownChannel channel = TeardownChannel.create(channelDir, 4096)) {
      Process running = recorder(channelDir, db, log);
      // A new history begins with the oldest event the ring holds when the recorder's reader
      // opens, which it says it did: only then does every event published count.
      waitFor("the first recorder reading", () -> readQuietly(log).contains("teardown: recording "));
      Thread publisher = new Thread(() -> {
        try {
          long base = TeardownEvent.epochNanos(Instant.now());
          long started = System.nanoTime();
          for (int i = 0; i < EVENTS; i++) {
            channel.publish(new TeardownEvent(0, base + i * 1000L, 7, "load", i, 6, 1, EventKind.CLOSE, 0, null,
                CloseMode.GRACEFUL, Duration.ZERO, Set.of(), 0, new byte[0],
                new InetSocketAddress("127.0.0.1", 10000 + i % 50000), new InetSocketAddress("127.0.0.1", 443),
                new ConnectionSummary(Duration.ofMillis(1), 1, 1, Initiator.LOCAL, Ending.GRACEFUL), null, ""));
            published.incrementAndGet();
            // 20,000 events a second: the rings hold 4,096, a recorder takes a second to start.
            long due = started + i * 50_000L;
            while (System.nanoTime() < due) {
              Thread.sleep(1);
            }
          }
        } catch (Throwable e) {
          failed.set(true);
        }
      }, "publisher");
      publisher.start();
      for (int kill = 0; kill < 3; kill++) {
        long before = recorded(db);
        waitFor("recording under load", () -> recorded(db) > before + 1000 || published.get() == EVENTS);
        running.destroyForcibly();  // SIGKILL: no hook runs, no last commit
        assertTrue(running.waitFor(30, TimeUnit.SECONDS));
        running = recorder(channelDir, db, log);
      }
      publisher.join();
      assertTrue(!failed.get(), "the publisher ran to the end");
      Process last = running;
      waitFor(() -> "the last recorder catching up: " + summaryOf(db) + ", alive " + last.isAlive() + "\n"
          + readQuietly(log), () -> {
        TeardownHistory.Summary summary = summary(db);
        return summary != null && summary.events() + summary.lost() == EVENTS;
      });
      running.destroy();  // SIGTERM: commits and says so
      assertTrue(running.waitFor(30, TimeUnit.SECONDS));
      assertEquals(143, running.exitValue(), "the JVM's status after SIGTERM: " + Files.readString(log));
    }
    assertTrue(Files.readString(log).contains("teardown: stopped; "), Files.readString(log));
    try (TeardownHistory history = TeardownHistory.open(db)) {
      TeardownHistory.Summary summary = history.summary();
      List<Gap> gaps = history.gaps(null, null);
      long inGaps = gaps.stream().mapToLong(Gap::lost).sum();
      assertEquals(summary.lost(), inGaps, "every loss is a gap with its count");
      assertEquals(EVENTS, summary.events() + summary.lost(), "recorded or counted lost, each event");
      assertTrue(summary.events() > 10_000 && summary.lost() > 0 && gaps.size() >= 1,
          "recorded across the kills, and the restarts lost some: " + summary + " " + gaps);
    }
    try (Connection sql = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement statement = sql.createStatement();
        ResultSet counts = statement.executeQuery(
            "SELECT count(*), count(DISTINCT socket_id), sum(event_count) FROM ends")) {
      counts.next();
      assertEquals(counts.getLong(1), counts.getLong(2), "no event recorded twice");
      assertEquals(counts.getLong(1), counts.getLong(3), "one event per connection end");
    }
  }
}
