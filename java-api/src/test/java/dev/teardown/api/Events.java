package dev.teardown.api;

import java.util.Set;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;

/** Events for tests. */
final class Events {
  private Events() {}

  static TeardownEvent of(EventKind kind, long socketId) {
    return new TeardownEvent(
        0, TeardownEvent.epochNanos(Instant.parse("2026-11-25T10:00:00.123456789Z")), 4242, "client.exe", socketId, 6, 1,
        kind, 0, kind == EventKind.SHUTDOWN ? ShutdownHow.SEND : null,
        kind == EventKind.CLOSE ? CloseMode.GRACEFUL : null, Duration.ZERO, Set.of(), 0, null,
        new InetSocketAddress("127.0.0.1", 50000), new InetSocketAddress("127.0.0.1", 8080),
        kind == EventKind.CLOSE
            ? new ConnectionSummary(Duration.ofMillis(5), 10, 20, Initiator.LOCAL, Ending.GRACEFUL)
            : null,
        null);
  }
}
