package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Events made by hand, as users make them to test their own listeners. */
class TeardownEventBuilderTest {
  @Test
  void anEventNeedsOnlyItsKindAndTheRestIsNothingInParticular() {
    Instant before = Instant.now();
    TeardownEvent event = TeardownEvent.builder(EventKind.FD_CLOSE).build();
    assertEquals(EventKind.FD_CLOSE, event.kind());
    assertEquals(ProcessHandle.current().pid(), event.pid());
    assertTrue(!event.time().isBefore(before.minusMillis(1)) && !event.time().isAfter(Instant.now()), event.time().toString());
    assertEquals(6, event.protocol());
    assertEquals(1, event.socketType());
    assertEquals(Set.of(), event.flags());
    assertNull(event.local());
    assertEquals("", event.user());
  }

  @Test
  void whatIsGivenIsWhatTheEventHoldsAndItIsCheckedAsTheConstructorChecksIt() {
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 50000);
    InetSocketAddress remote = new InetSocketAddress("::1", 443);
    TeardownEvent event = TeardownEvent.builder(EventKind.RECV_DISCONNECT)
        .pid(42).processName("server").socketId(7).local(local).remote(remote)
        .disconnectData(new byte[] {1, 2, 3}).time(Instant.parse("2026-12-07T03:00:00Z")).build();
    assertEquals(42, event.pid());
    assertEquals("server", event.processName());
    assertEquals(remote, event.remote());
    assertEquals(3, event.dataLength());
    assertArrayEquals(new byte[] {1, 2, 3}, event.captured());
    assertEquals(Instant.parse("2026-12-07T03:00:00Z"), event.time());

    TeardownEvent close = event.toBuilder().kind(EventKind.CLOSE).closeMode(CloseMode.GRACEFUL_LINGER)
        .linger(Duration.ofSeconds(5)).dataLength(0).captured(null)
        .summary(new ConnectionSummary(Duration.ofMillis(12), 10, 20, Initiator.LOCAL, Ending.GRACEFUL)).build();
    assertEquals(EventKind.CLOSE, close.kind());
    assertEquals(local, close.local());
    assertEquals(Duration.ofSeconds(5), close.linger());
    assertEquals(Ending.GRACEFUL, close.summary().ending());

    assertThrows(IllegalArgumentException.class,
        () -> TeardownEvent.builder(EventKind.SEND_DISCONNECT).dataLength(1).captured(new byte[] {1, 2}).build(),
        "more captured than sent");
    assertThrows(IllegalArgumentException.class,
        () -> TeardownEvent.builder(EventKind.CLOSE).flag(EventFlag.KERNEL_VIEW).build(),
        "a kernel's view flagged but missing");
  }

  @Test
  void aListenerCanBeTestedWithBuiltEvents() {
    List<String> seen = new java.util.ArrayList<>();
    TeardownListener listener = events -> events.forEach(e -> seen.add(e.kind() + " " + e.errorName()));
    listener.onEvents(List.of(TeardownEvent.builder(EventKind.RESET).error(10054).build()));
    assertEquals(List.of("RESET WSAECONNRESET"), seen);
  }
}
