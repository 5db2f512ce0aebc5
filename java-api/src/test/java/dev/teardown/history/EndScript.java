package dev.teardown.history;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.FramingError;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.KernelView;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TcpState;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** One end of a connection, scripted event by event, for tests. */
final class EndScript {
  /** An hour ago, to the second: within the recorder's clock (which re-dates what is not). */
  static final long BASE = TeardownEvent.epochNanos(Instant.now().minusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));

  private final long pid;
  private final String process;
  private final long socket;
  private final InetSocketAddress local;
  private final InetSocketAddress remote;
  private final List<TeardownEvent> events = new ArrayList<>();
  private boolean accepted;

  EndScript(long pid, String process, long socket, int localPort, int remotePort) {
    this.pid = pid;
    this.process = process;
    this.socket = socket;
    this.local = new InetSocketAddress("127.0.0.1", localPort);
    this.remote = new InetSocketAddress("127.0.0.1", remotePort);
  }

  List<TeardownEvent> events() {
    return events;
  }

  /** This end's socket came from accept: its events from here on say so. */
  EndScript accepted() {
    accepted = true;
    return this;
  }

  /** A receive or send that lost the connection with `error`, as the program saw `osError`. */
  EndScript lost(long atMs, int error, int osError, KernelView kernel) {
    Set<EventFlag> flags = EnumSet.of(EventFlag.KERNEL_VIEW);
    if (accepted) {
      flags.add(EventFlag.ACCEPTED);
    }
    events.add(new TeardownEvent(
        0, BASE + atMs * 1_000_000L, pid, process, socket, 6, 1, EventKind.RESET, error, null, null,
        Duration.ZERO, flags, 0, null, local, remote, null, null, "tester", osError, kernel));
    return this;
  }

  /** A connect that made no connection after `tookMs`. */
  EndScript connectFailed(long atMs, int error, int osError, long tookMs) {
    events.add(new TeardownEvent(
        0, BASE + atMs * 1_000_000L, pid, process, socket, 6, 1, EventKind.CONNECT_FAILED, error, null, null,
        Duration.ZERO, Set.of(), 0, null, null, remote,
        new ConnectionSummary(Duration.ofMillis(tookMs), 0, 0, Initiator.NONE, Ending.NONE), null, "tester",
        osError, null));
    return this;
  }

  /** A close with the kernel's state and view read just before it. */
  EndScript close(long atMs, CloseMode mode, Initiator first, Ending ending, TcpState state, KernelView kernel,
      EventFlag... flags) {
    Set<EventFlag> set = EnumSet.of(EventFlag.KERNEL_VIEW, flags);
    if (accepted) {
      set.add(EventFlag.ACCEPTED);
    }
    events.add(new TeardownEvent(
        0, BASE + atMs * 1_000_000L, pid, process, socket, 6, 1, EventKind.CLOSE, 0, null, mode,
        Duration.ZERO, set, 0, null, local, remote,
        new ConnectionSummary(Duration.ofMillis(atMs), 100, 200, first, ending, state), null, "tester", 0, kernel));
    return this;
  }

  /** A kernel's view with only the unread count told. */
  static KernelView unread(long bytes) {
    return new KernelView(0, bytes, bytes, 0, null, 0, 0, 0);
  }

  /** The connection made (a CONNECTED event). */
  EndScript connected(long atMs) {
    return add(atMs, EventKind.CONNECTED, null, null, Set.of(), 0, null);
  }

  EndScript shutdown(long atMs, ShutdownHow how) {
    return add(atMs, EventKind.SHUTDOWN, how, null, Set.of(), 0, null);
  }

  EndScript sendDisconnect(long atMs, String data) {
    return add(atMs, EventKind.SEND_DISCONNECT, null, null, Set.of(), data.length(), data.getBytes());
  }

  EndScript recvDisconnect(long atMs, String data) {
    return add(atMs, EventKind.RECV_DISCONNECT, null, null, Set.of(), data.length(), data.getBytes());
  }

  EndScript remote(long atMs, EventKind kind, EventFlag... flags) {
    return add(atMs, kind, null, null, flags.length == 0 ? Set.of() : EnumSet.of(flags[0], flags), 0, null);
  }

  EndScript framingReset(long atMs, FramingError error) {
    events.add(new TeardownEvent(
        0, BASE + atMs * 1_000_000L, pid, process, socket, 6, 1, EventKind.RESET, 10054, null, null,
        Duration.ZERO, EnumSet.of(EventFlag.FRAMING), 0, null, local, remote, null, error, "tester"));
    return this;
  }

  EndScript close(long atMs, CloseMode mode, Initiator first, Ending ending, EventFlag... flags) {
    return add(atMs, EventKind.CLOSE, null, mode, flags.length == 0 ? Set.of() : EnumSet.of(flags[0], flags), 0, null,
        new ConnectionSummary(Duration.ofMillis(atMs), 100, 200, first, ending));
  }

  /** A close whose summary carries the kernel's state just before it. */
  EndScript close(long atMs, CloseMode mode, Initiator first, Ending ending, TcpState kernel) {
    return add(atMs, EventKind.CLOSE, null, mode, Set.of(), 0, null,
        new ConnectionSummary(Duration.ofMillis(atMs), 100, 200, first, ending, kernel));
  }

  private EndScript add(long atMs, EventKind kind, ShutdownHow how, CloseMode mode, Set<EventFlag> flags, long dataLength, byte[] data) {
    return add(atMs, kind, how, mode, flags, dataLength, data, null);
  }

  private EndScript add(long atMs, EventKind kind, ShutdownHow how, CloseMode mode, Set<EventFlag> flags,
      long dataLength, byte[] data, ConnectionSummary summary) {
    if (accepted) {
      flags = EnumSet.copyOf(flags.isEmpty() ? EnumSet.of(EventFlag.ACCEPTED) : flags);
      flags.add(EventFlag.ACCEPTED);
    }
    events.add(new TeardownEvent(
        0, BASE + atMs * 1_000_000L, pid, process, socket, 6, 1, kind,
        kind == EventKind.RESET ? 10054 : 0, how, mode, Duration.ZERO, flags, dataLength, data,
        local, remote, summary, null, "tester"));
    return this;
  }

  /** This end as the history would hand it out. */
  RecordedEnd recorded(long id) {
    TeardownEvent last = events.get(events.size() - 1);
    TeardownEvent close = events.stream()
        .filter(e -> e.kind() == EventKind.CLOSE || e.kind() == EventKind.CONNECT_FAILED).findFirst().orElse(null);
    return recorded(id, close == null ? RecordedEnd.State.OPEN : RecordedEnd.State.CLOSED);
  }

  /** This end as the history would hand it out, in {@code state}. */
  RecordedEnd recorded(long id, RecordedEnd.State state) {
    TeardownEvent last = events.get(events.size() - 1);
    TeardownEvent close = events.stream()
        .filter(e -> e.kind() == EventKind.CLOSE || e.kind() == EventKind.CONNECT_FAILED).findFirst().orElse(null);
    return new RecordedEnd(id, "tester", pid, process, socket, local, remote, events.get(0).time(), last.time(),
        state, close == null ? null : close.summary(), events);
  }
}
