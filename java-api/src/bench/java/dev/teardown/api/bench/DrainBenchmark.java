package dev.teardown.api.bench;

import java.util.Set;
import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventKind;
import dev.teardown.api.EventReader;
import dev.teardown.api.EventView;
import dev.teardown.api.Initiator;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import com.sun.jna.Memory;
import dev.teardown.api.internal.EventDecoder;
import dev.teardown.api.internal.EventEncoder;
import dev.teardown.api.internal.EventRecordLayout;
import dev.teardown.api.internal.NativeChannel;
import dev.teardown.api.internal.NativeReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * How fast a long-lived reader (a recorder's, a {@code watch}'s) drains a full channel: into
 * {@link TeardownEvent} objects (one native call per batch, then batch decoding), through {@link
 * EventView} flyweights (no object per event), the native copy alone, and the decoding alone
 * (the same records decoded where they lie in memory, as a reader's batch holds them). Before each
 * invocation, untimed, the channel is filled again with the same {@value #EVENTS} events; the
 * readers are made once, so what is timed is reading, not mapping rings. The score is events
 * per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DrainBenchmark {
  /** What a reader has to read each time: a default ring's worth. */
  static final int EVENTS = 16384;
  /**
   * The ring's size: one thread publishes all the events, into one lane, and a ring has at most
   * four lanes, so each of them holds {@value #EVENTS}.
   */
  static final int SLOTS = 4 * EVENTS;

  @Param({"1024", "8192"})
  public int batchSize;

  private Path dir;
  private TeardownChannel channel;
  private NativeChannel raw;
  private Memory encoded;
  private NativeReader copier;
  private EventReader drainer;
  private EventReader visitor;
  private ByteBuffer encodedRecords;
  private EventDecoder decoder;

  @Setup(Level.Trial)
  public void open() throws IOException {
    // Where channels live in production: tmpfs, not a disk-backed temporary directory.
    Path shm = Path.of("/dev/shm");
    dir = Files.isDirectory(shm) ? Files.createTempDirectory(shm, "teardown-drain") : Files.createTempDirectory("teardown-drain");
    channel = TeardownChannel.create(dir, SLOTS);
    raw = NativeChannel.open(dir.toString(), false, 0);
    encoded = new Memory((long) EVENTS * EventRecordLayout.SIZE);
    ByteBuffer records = encoded.getByteBuffer(0, encoded.size()).order(ByteOrder.LITTLE_ENDIAN);
    EventKind[] kinds = {EventKind.SHUTDOWN, EventKind.EOF, EventKind.CLOSE, EventKind.FD_CLOSE};
    for (int i = 0; i < EVENTS; i++) {
      EventKind kind = kinds[i & 3];
      EventEncoder.encode(
          new TeardownEvent(
              0, TeardownEvent.epochNanos(Instant.now()), 1000 + (i & 7), "worker-" + (i & 7), i, 6, 1, kind, 0,
              kind == EventKind.SHUTDOWN ? dev.teardown.api.ShutdownHow.SEND : null,
              kind == EventKind.CLOSE ? CloseMode.GRACEFUL : null, Duration.ZERO, Set.of(), 0,
              null, new InetSocketAddress("127.0.0.1", 40000 + (i & 255)),
              new InetSocketAddress("127.0.0.1", 8080),
              kind == EventKind.CLOSE
                  ? new ConnectionSummary(Duration.ofMillis(3), 100, 200, Initiator.LOCAL, Ending.GRACEFUL)
                  : null,
              null),
          records,
          i * EventRecordLayout.SIZE);
    }
    encodedRecords = records;
    decoder = new EventDecoder(user -> user == 0 ? "" : null);
    copier = raw.reader(false, batchSize, 100);
    drainer = channel.reader(TeardownChannel.ReadFrom.NEWEST, batchSize, Duration.ofMillis(100));
    visitor = channel.reader(TeardownChannel.ReadFrom.NEWEST, batchSize, Duration.ofMillis(100));
  }

  /** A lane full again: every reader has exactly {@value #EVENTS} new events to read. */
  @Setup(Level.Invocation)
  public void fill() {
    raw.publish(encoded, EVENTS);
  }

  @TearDown(Level.Trial)
  public void remove() throws IOException {
    copier.close();
    drainer.close();
    visitor.close();
    encoded.close();
    raw.close();
    channel.close();
    try (var all = Files.walk(dir)) {
      for (Path path : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  /** The native half alone: records copied out of the ring and verified, nothing decoded. */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long copyOnly() {
    long delivered = 0;
    for (int n = copier.read(); n > 0; n = copier.read()) {
      delivered += n;
    }
    if (delivered != EVENTS) {
      throw new IllegalStateException("copied " + delivered + " of " + EVENTS);
    }
    return delivered;
  }

  /** The Java half alone: the same records decoded where they lie, no native call. */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long decodeOnly(Blackhole blackhole) {
    long decoded = 0;
    for (int i = 0; i < EVENTS; i++) {
      TeardownEvent event = decoder.decode(encodedRecords, i * EventRecordLayout.SIZE);
      if (event != null) {
        decoded++;
      }
      blackhole.consume(event);
    }
    if (decoded != EVENTS) {
      throw new IllegalStateException("decoded " + decoded + " of " + EVENTS);
    }
    return decoded;
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long drain(Blackhole blackhole) {
    long delivered = 0;
    for (EventReader.Batch batch = drainer.read(); !batch.isEmpty(); batch = drainer.read()) {
      for (TeardownEvent event : batch.events()) {
        blackhole.consume(event);
      }
      delivered += batch.events().size();
    }
    if (delivered != EVENTS) {
      throw new IllegalStateException("drained " + delivered + " of " + EVENTS);
    }
    return delivered;
  }

  /**
   * The zero-allocation read: each event seen through an {@link EventView}, a filter's worth of
   * fields looked at (kind, port, pid), no {@link TeardownEvent} made.
   */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long flyweight() {
    long[] seen = {0, 0};
    EventView.Visitor filter = view -> {
      seen[0]++;
      if (view.kind() == EventKind.CLOSE && view.localPort() > 40000) {
        seen[1] += view.pid();
      }
    };
    while (visitor.read(filter) > 0) {
      // every batch visited
    }
    if (seen[0] != EVENTS) {
      throw new IllegalStateException("visited " + seen[0] + " of " + EVENTS);
    }
    return seen[1];
  }
}
