package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.TeardownChannel.ReadFrom;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The flyweight read: every accessor says what the decoded event says, and nothing is made. */
class EventViewTest {
  @TempDir Path dir;

  private static List<TeardownEvent> variety() throws Exception {
    List<TeardownEvent> events = new ArrayList<>();
    byte[] data = "total=42".getBytes(StandardCharsets.UTF_8);
    long time = TeardownEvent.epochNanos(Instant.parse("2026-12-01T03:00:00.000000001Z"));
    events.add(new TeardownEvent(0, time, 77, "server", 1, 6, 1, EventKind.CLOSE,
        WinsockErrors.WSAEWOULDBLOCK, null, CloseMode.GRACEFUL_LINGER, Duration.ofSeconds(30),
        Set.of(EventFlag.CONVERTED, EventFlag.CLEANUP), data.length, data,
        new InetSocketAddress(InetAddress.getByName("::1"), 443),
        new InetSocketAddress(InetAddress.getByName("fe80::1%1"), 51000),
        new ConnectionSummary(Duration.ofNanos(987), 1L << 40, 3, Initiator.REMOTE, Ending.ABORTIVE),
        null));
    events.add(new TeardownEvent(0, time + 1, 78, "client", 2, 6, 1, EventKind.SHUTDOWN, 0,
        ShutdownHow.BOTH, null, Duration.ZERO, Set.of(), 0, null,
        new InetSocketAddress("127.0.0.1", 50000), new InetSocketAddress("127.0.0.1", 8080), null,
        null));
    events.add(new TeardownEvent(0, time + 2, 78, "client", 2, 6, 1, EventKind.RESET,
        WinsockErrors.WSAECONNABORTED, null, null, Duration.ZERO, Set.of(EventFlag.FRAMING), 0, null,
        new InetSocketAddress("127.0.0.1", 50000), new InetSocketAddress("127.0.0.1", 8080), null,
        FramingError.NOT_FRAMED));
    events.add(new TeardownEvent(0, time + 3, 79, "bare", 3, 6, 1, EventKind.EOF, 0, null, null,
        Duration.ZERO, Set.of(), 0, null, null, null, null, null));
    return events;
  }

  @Test
  void everyAccessorSaysWhatTheDecodedEventSays() throws Exception {
    List<TeardownEvent> events = variety();
    try (TeardownChannel channel = TeardownChannel.create(dir);
        EventReader objects = channel.reader(ReadFrom.OLDEST);
        EventReader views = channel.reader(ReadFrom.OLDEST)) {
      events.forEach(channel::publish);
      List<TeardownEvent> decoded = objects.read().events();
      List<String> mismatches = new ArrayList<>();
      int[] next = {0};  // both readers deliver in the same order
      int visited = views.read(view -> {
        TeardownEvent e = decoded.get(next[0]++);
        check(mismatches, "sequence", e.sequence(), view.sequence());
        check(mismatches, "toEvent", e, view.toEvent());
        check(mismatches, "time", e.timeNanos(), view.timeNanos());
        check(mismatches, "pid", e.pid(), view.pid());
        check(mismatches, "process", e.processName(), view.processName());
        check(mismatches, "user", e.user(), view.user());
        check(mismatches, "socket", e.socketId(), view.socketId());
        check(mismatches, "protocol", e.protocol(), view.protocol());
        check(mismatches, "type", e.socketType(), view.socketType());
        check(mismatches, "kind", e.kind(), view.kind());
        check(mismatches, "error", e.error(), view.error());
        check(mismatches, "how", e.shutdownHow(), view.shutdownHow());
        check(mismatches, "mode", e.closeMode(), view.closeMode());
        check(mismatches, "linger", e.linger(), view.linger());
        check(mismatches, "flags", e.flags(), view.flags());
        check(mismatches, "flag bits", EventFlag.toBits(e.flags()), view.flagBits());
        check(mismatches, "data", e.dataLength(), view.dataLength());
        check(mismatches, "local", e.local(), view.local());
        check(mismatches, "remote", e.remote(), view.remote());
        check(mismatches, "local port", e.local() == null ? 0 : e.local().getPort(), view.localPort());
        check(mismatches, "remote port", e.remote() == null ? 0 : e.remote().getPort(), view.remotePort());
        check(mismatches, "summary", e.summary(), view.summary());
        check(mismatches, "framing", e.framingError(), view.framingError());
        assertArrayEquals(e.captured(), view.captured() == null ? new byte[0] : view.captured());
      });
      assertEquals(events.size(), visited);
      assertEquals(List.of(), mismatches);
      assertEquals(0, views.lastLost());
      assertEquals(events.size(), views.delivered());
    }
  }

  private static void check(List<String> mismatches, String what, Object expected, Object actual) {
    if (!java.util.Objects.equals(expected, actual)) {
      mismatches.add(what + ": " + expected + " != " + actual);
    }
  }

  @Test
  void visitingAllocatesNothingPerEvent() {
    int events = 8192;
    // One thread's events, in one lane: a ring of up to four lanes, each holding them all.
    try (TeardownChannel channel = TeardownChannel.create(dir, 1 << 15);
        EventReader reader = channel.reader(ReadFrom.OLDEST, 1024, Duration.ofMillis(100))) {
      for (int i = 0; i < events; i++) {
        channel.publish(Events.of(i % 2 == 0 ? EventKind.CLOSE : EventKind.EOF, i));
      }
      long[] sum = {0};
      EventView.Visitor visitor = view -> sum[0] += view.kind().code() + view.localPort() + view.pid()
          + view.flagBits() + (view.has(EventFlag.SHARED) ? 1 : 0) + view.timeNanos();
      com.sun.management.ThreadMXBean threads =
          (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      long before = threads.getCurrentThreadAllocatedBytes();
      int visited = 0;
      for (int n = reader.read(visitor); n > 0 || reader.lastLost() > 0; n = reader.read(visitor)) {
        visited += n;
      }
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      assertEquals(events, visited);
      // What a read allocates is per batch (the native call), never per event: 8 batches here.
      assertTrue(allocated < events, allocated + " bytes allocated for " + events + " events");
      assertTrue(sum[0] != 0);
    }
  }

  @Test
  void aSubscriptionsLongestWaitMustBePositive() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      assertThrows(IllegalArgumentException.class,
          () -> channel.subscribe(ReadFrom.NEWEST, events -> {}, Duration.ZERO));
    }
  }
}
