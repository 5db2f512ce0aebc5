package dev.teardown.history;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.KernelView;
import dev.teardown.api.TeardownEvent;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** An end's events as the history packs them: what goes in comes out, the newer fields too. */
class TimelineTest {
  private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 50000);
  private static final InetSocketAddress REMOTE = new InetSocketAddress("127.0.0.1", 9);

  @Test
  void theProgramsErrorTheKernelsViewAndAFailedConnectsLengthAreKept() {
    ConnectionSummary attempt = new ConnectionSummary(Duration.ofNanos(85_000), 0, 0, Initiator.NONE, Ending.NONE);
    TeardownEvent refused = new TeardownEvent(0, 1_000, 7, "probe", 3, 6, 1, EventKind.CONNECT_FAILED, 10061, null,
        null, Duration.ZERO, Set.of(), 0, null, LOCAL, REMOTE, attempt, null, "alice", 111, null);
    KernelView view = new KernelView(0, 5, KernelView.UNKNOWN, 0, Duration.ofNanos(31_000), 0, 1, 0);
    TeardownEvent lost = new TeardownEvent(1, 2_000, 7, "probe", 3, 6, 1, EventKind.RESET, 10054, null, null,
        Duration.ZERO, Set.of(EventFlag.KERNEL_VIEW), 0, null, LOCAL, REMOTE, null, null, "alice", 32, view);
    TeardownEvent plain = new TeardownEvent(2, 3_000, 7, "probe", 3, 6, 1, EventKind.EOF, 0, null, null,
        Duration.ZERO, Set.of(), 0, null, LOCAL, REMOTE, null, null, "alice");
    ByteArrayOutputStream packed = new ByteArrayOutputStream();
    for (TeardownEvent event : List.of(refused, lost, plain)) {
      Timeline.append(packed, event);
    }
    List<TeardownEvent> read = Timeline.read(packed.toByteArray(), 0, "alice", 7, "probe", 3, 6, 1, LOCAL, REMOTE,
        attempt);
    assertEquals(List.of(refused, lost, plain), read);
  }

  @Test
  void aRowCutInsideTheNewerFieldsEndsTheList() {
    KernelView view = new KernelView(0, 5, 0, 0, null, 0, 0, 0);
    TeardownEvent lost = new TeardownEvent(1, 2_000, 7, "probe", 3, 6, 1, EventKind.RESET, 10054, null, null,
        Duration.ZERO, Set.of(EventFlag.KERNEL_VIEW), 0, null, LOCAL, REMOTE, null, null, "alice", 32, view);
    ByteArrayOutputStream packed = new ByteArrayOutputStream();
    Timeline.append(packed, lost);
    byte[] whole = packed.toByteArray();
    byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 1);
    assertEquals(List.of(), Timeline.read(cut, 0, "alice", 7, "probe", 3, 6, 1, LOCAL, REMOTE, null));
  }
}
