package dev.teardown.admin;

import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownEvent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The seed's transaction-totals table, and which observed events belong to which of its steps.
 * The client and server are told apart by process id.
 */
final class TransactionTimeline {
  /** A row of the seed's table. */
  enum Step {
    S1("1", "client", "WSPSendDisconnect: concludes the session, supplies its total"),
    S2("2", "server", "gets FD_CLOSE, or a receive of 0 / WSAEDISCON: graceful shutdown"),
    S3("3", "server", "WSPRecvDisconnect: gets the client's total"),
    S4("4", "server", "computes the grand total (no call)"),
    S5("5", "server", "WSPSendDisconnect: transmits the grand total"),
    S5_PRIME("5'", "server", "WSPCloseSocket"),
    S6("6", "client", "receives the FD_CLOSE indication"),
    S7("7", "client", "WSPRecvDisconnect: receives the grand total"),
    S8("8", "client", "WSPCloseSocket");

    final String number;
    final String side;
    final String description;

    Step(String number, String side, String description) {
      this.number = number;
      this.side = side;
      this.description = description;
    }
  }

  private final Map<Step, List<TeardownEvent>> events = new LinkedHashMap<>();

  TransactionTimeline(List<TeardownEvent> observed, long clientPid, long serverPid) {
    for (Step step : Step.values()) {
      events.put(step, new ArrayList<>());
    }
    for (TeardownEvent event : observed) {
      Step step = event.pid() == clientPid ? clientStep(event.kind())
          : event.pid() == serverPid ? serverStep(event.kind()) : null;
      if (step != null) {
        events.get(step).add(event);
      }
    }
    // Steps (1) and (5) are the send-disconnects. A plain shutdown stands for one only where the
    // program had none (the totals then went in-band): the first such. A shutdown a runtime makes
    // as it closes the socket (Java does) is part of step (8) or (5'), not a second (1) or (5).
    for (Step step : new Step[] {Step.S1, Step.S5}) {
      List<TeardownEvent> initiated = events.get(step);
      boolean disconnected = initiated.stream().anyMatch(e -> e.kind() == EventKind.SEND_DISCONNECT);
      List<TeardownEvent> kept = disconnected
          ? initiated.stream().filter(e -> e.kind() == EventKind.SEND_DISCONNECT).toList()
          : initiated.stream().limit(1).toList();
      initiated.retainAll(kept);
    }
  }

  private static Step clientStep(EventKind kind) {
    return switch (kind) {
      case SEND_DISCONNECT, SHUTDOWN -> Step.S1;
      case FD_CLOSE, EOF, DISCON -> Step.S6;
      case RECV_DISCONNECT -> Step.S7;
      case CLOSE -> Step.S8;
      case RESET, CONNECT_FAILED, CONNECTED -> null;
    };
  }

  private static Step serverStep(EventKind kind) {
    return switch (kind) {
      case FD_CLOSE, EOF, DISCON -> Step.S2;
      case RECV_DISCONNECT -> Step.S3;
      case SEND_DISCONNECT, SHUTDOWN -> Step.S5;
      case CLOSE -> Step.S5_PRIME;
      case RESET, CONNECT_FAILED, CONNECTED -> null;
    };
  }

  List<TeardownEvent> eventsOf(Step step) {
    return events.get(step);
  }

  /**
   * What is wrong with the observed order, or an empty list when it is a valid order of the
   * seed's table: every step but (4) observed; (1) < (2) < (3) < (5) < (5'), and (5) < (6) <
   * (7) < (8); (5') free against (6), (7) and (8). Steps are compared by time (when a call
   * began, when an indication was seen), not by sequence: a call's event is published after
   * it returns, by which time the peer may have published its reaction.
   */
  List<String> problems() {
    List<String> problems = new ArrayList<>();
    for (Step step : Step.values()) {
      if (step != Step.S4 && events.get(step).isEmpty()) {
        problems.add("step (" + step.number + ") was not observed");
      }
    }
    if (!problems.isEmpty()) {
      return problems;
    }
    before(Step.S1, Step.S2, problems);
    before(Step.S2, Step.S3, problems);
    before(Step.S3, Step.S5, problems);
    before(Step.S5, Step.S5_PRIME, problems);
    before(Step.S5, Step.S6, problems);
    before(Step.S6, Step.S7, problems);
    before(Step.S7, Step.S8, problems);
    return problems;
  }

  /**
   * What is wrong with the totals the disconnect data carried, or an empty list: steps (1) and
   * (3) carry the client's total, (5) and (7) the grand total, each as 8 bytes, big-endian.
   */
  List<String> totalProblems(long clientTotal, long grandTotal) {
    List<String> problems = new ArrayList<>();
    carried(Step.S1, EventKind.SEND_DISCONNECT, clientTotal, problems);
    carried(Step.S3, EventKind.RECV_DISCONNECT, clientTotal, problems);
    carried(Step.S5, EventKind.SEND_DISCONNECT, grandTotal, problems);
    carried(Step.S7, EventKind.RECV_DISCONNECT, grandTotal, problems);
    return problems;
  }

  private void carried(Step step, EventKind kind, long expected, List<String> problems) {
    TeardownEvent event = events.get(step).stream().filter(e -> e.kind() == kind).findFirst().orElse(null);
    if (event == null || event.dataLength() == 0) {
      problems.add("step (" + step.number + ") carried no disconnect data");
    } else if (event.captured().length < Long.BYTES) {
      problems.add("step (" + step.number + ") captured " + event.captured().length + " of its bytes: capture at least 8");
    } else if (ByteBuffer.wrap(event.captured()).getLong() != expected) {
      problems.add("step (" + step.number + ") carried " + ByteBuffer.wrap(event.captured()).getLong()
          + ", not " + expected);
    }
  }

  private void before(Step earlier, Step later, List<String> problems) {
    long lastOfEarlier = events.get(earlier).stream().mapToLong(TeardownEvent::timeNanos).max().orElseThrow();
    long firstOfLater = events.get(later).stream().mapToLong(TeardownEvent::timeNanos).min().orElseThrow();
    if (lastOfEarlier > firstOfLater) {
      problems.add("step (" + earlier.number + ") came after step (" + later.number + ")");
    }
  }
}
