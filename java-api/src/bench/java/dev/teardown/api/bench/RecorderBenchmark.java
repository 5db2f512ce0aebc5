package dev.teardown.api.bench;

import com.sun.jna.Memory;
import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import dev.teardown.api.internal.EventEncoder;
import dev.teardown.api.internal.EventRecordLayout;
import dev.teardown.api.internal.NativeChannel;
import dev.teardown.history.Recorder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Set;

/**
 * How fast the recorder drains a channel into its database: a ring filled with {@value #EVENTS}
 * events (connections of four events each: a shutdown, the peer's EOF, a close, and a fourth
 * connection-less kind mix), then a recorder started on it and timed until it has committed them
 * all. Repeated {@value #ROUNDS} times into one database (so later rounds insert into a larger
 * one); prints each round, the median, and the heap in use after the last round.
 *
 * <p>Prints {@code recorder_events_per_s VALUE events/s} and {@code recorder_heap_mib VALUE MiB}.
 *
 * <pre>mvn -B -q -Pbench -DskipTests verify -pl java-api \
 *   -Dbench.main=dev.teardown.api.bench.RecorderBenchmark -Djmh.args=</pre>
 */
public final class RecorderBenchmark {
  private static final int EVENTS = 200_000;
  private static final int ROUNDS = 5;

  private RecorderBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path shm = Path.of("/dev/shm");
    Path dir = Files.isDirectory(shm) ? Files.createTempDirectory(shm, "teardown-recorder") : Files.createTempDirectory("teardown-recorder");
    Path data = Files.createTempDirectory("teardown-recorder-db");  // the database on disk, as in production
    double[] rates = new double[ROUNDS];
    // One thread publishes every round's events, into one lane: a ring of at most four lanes,
    // each holding them all.
    try (TeardownChannel channel = TeardownChannel.create(dir.resolve("channel"), 1 << 20);
        NativeChannel raw = NativeChannel.open(dir.resolve("channel").toString(), false, 0);
        Memory encoded = new Memory((long) EVENTS * EventRecordLayout.SIZE)) {
      Path db = data.resolve("history.db");
      for (int round = 0; round < ROUNDS; round++) {
        encode(encoded, round);
        raw.publish(encoded, EVENTS);
        try (Recorder recorder = Recorder.open(channel, db, Recorder.Options.DEFAULT)) {
          // Timed from the start of recording: opening checks the whole database first.
          long start = System.nanoTime();
          Thread thread = new Thread(recorder::run, "recorder");
          thread.start();
          long target = (long) EVENTS * (round + 1);
          while (recorder.progress().recorded() < target) {
            Thread.sleep(1);
          }
          long elapsed = System.nanoTime() - start;
          recorder.stopAndWait(Duration.ofSeconds(30));
          thread.join();
          if (recorder.progress().lost() != 0) {
            throw new IllegalStateException("events lost: " + recorder.progress());
          }
          rates[round] = EVENTS * 1e9 / elapsed;
          System.out.printf("round %d: %,d events in %.0f ms: %,.0f events/s (database %,d bytes)%n",
              round + 1, EVENTS, elapsed / 1e6, rates[round], Files.size(db));
        }
      }
      System.gc();
      Thread.sleep(200);
      System.gc();
      long heap = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
      double[] sorted = rates.clone();
      java.util.Arrays.sort(sorted);
      System.out.printf("recorder_events_per_s %.0f events/s%n", sorted[ROUNDS / 2]);
      System.out.printf("recorder_heap_mib %.1f MiB%n", heap / (double) (1 << 20));
    } finally {
      delete(dir);
      delete(data);
    }
  }

  /** Connections of four events, with ports and sockets unique to the round. */
  private static void encode(Memory encoded, int round) {
    ByteBuffer records = encoded.getByteBuffer(0, encoded.size());
    long base = TeardownEvent.epochNanos(Instant.now());
    for (int i = 0; i < EVENTS; i++) {
      int connection = round * EVENTS / 4 + i / 4;
      EventKind kind = switch (i % 4) {
        case 0 -> EventKind.SHUTDOWN;
        case 1 -> EventKind.EOF;
        case 2 -> EventKind.FD_CLOSE;
        default -> EventKind.CLOSE;
      };
      EventEncoder.encode(new TeardownEvent(0, base + i * 1000L, 1000 + connection % 64, "worker", connection, 6, 1,
          kind, 0, kind == EventKind.SHUTDOWN ? ShutdownHow.SEND : null, kind == EventKind.CLOSE ? CloseMode.GRACEFUL : null,
          Duration.ZERO, Set.of(), 0, null,
          new InetSocketAddress("127.0.0.1", 1024 + connection % 60000), new InetSocketAddress("10.1.2.3", 443),
          kind == EventKind.CLOSE ? new ConnectionSummary(Duration.ofMillis(3), 100, 200, Initiator.LOCAL, Ending.GRACEFUL) : null,
          null), records, i * EventRecordLayout.SIZE);
    }
  }

  private static void delete(Path dir) throws IOException {
    try (var all = Files.walk(dir)) {
      for (Path path : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
