package dev.teardown.history;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.KernelView;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TcpState;
import dev.teardown.api.TeardownEvent;
import dev.teardown.api.WinsockErrors;
import java.time.Duration;
import java.time.Instant;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Judges a connection from its recorded ends: who started the teardown, FIN or RST, and why.
 *
 * <p>The initiator is the end whose first teardown call (a shutdown of its sending side, a
 * send-disconnect, or a close) came before anything of the peer's teardown reached it; with one
 * end recorded, a peer whose FIN or reset arrived first is the initiator. The cause is read off
 * the initiator's first call and the flags of its close, in this order: a framing error, disconnect
 * data, then what closed it (process exit, WSACleanup, the policy, unread data, SO_LINGER {on,
 * 0}), then a shutdown before the close, else a plain graceful close.
 *
 * <p>A close also carries the kernel's view of the connection just before it: the peer's FIN
 * already in (CLOSE_WAIT, LAST_ACK), or the connection already gone without this end's FIN (a
 * reset). That counts as the peer's teardown reaching this end before its first call, even when
 * the program never read it.
 */
final class Verdicts {
  private Verdicts() {}

  private static final int EPIPE = 32;

  /** The connection these ends (one or two, of one connection) make, judged. */
  static RecordedConnection judge(List<RecordedEnd> recorded, List<Gap> gaps) {
    List<EndFacts> ends = new ArrayList<>();
    for (RecordedEnd end : recorded) {
      ends.add(new EndFacts(end));
    }
    EndFacts failedConnect = ends.stream().filter(e -> e.connectFailed != null).findFirst().orElse(null);
    boolean simultaneous = failedConnect == null && simultaneous(ends);
    EndFacts initiator = failedConnect != null || simultaneous ? null : initiator(ends);
    boolean peerStarted = initiator == null && !simultaneous && ends.size() == 1 && ends.get(0).peerFirst();
    Mechanism mechanism;
    Cause cause;
    InetSocketAddress initiatorAddress;
    if (failedConnect != null) {
      cause = connectCause(failedConnect.connectFailed.error());
      mechanism = cause == Cause.CONNECT_REFUSED ? Mechanism.RST
          : cause == Cause.CONNECT_TIMED_OUT ? Mechanism.TIMEOUT : Mechanism.NONE;
      initiatorAddress = cause == Cause.CONNECT_REFUSED ? failedConnect.end.remote() : null;
    } else if (simultaneous) {
      mechanism = mechanism(ends);
      cause = Cause.SIMULTANEOUS_CLOSE;
      initiatorAddress = null;
    } else if (initiator == null && !peerStarted && killed(ends) != null) {
      // Nothing of the peer's reached the end whose process ended: its death began the teardown.
      initiator = killed(ends);
      mechanism = mechanism(ends);
      cause = Cause.PROCESS_KILLED;
      initiatorAddress = initiator.end.local();
    } else {
      mechanism = mechanism(ends);
      cause = cause(ends, initiator, peerStarted);
      initiatorAddress =
          initiator != null
              ? initiator.end.local()
              : peerStarted ? ends.get(0).end.remote() : null;
      if (cause == Cause.TIMED_OUT) {
        mechanism = Mechanism.TIMEOUT;
        initiatorAddress = null;
      }
    }

    List<RecordedEnd> ordered = new ArrayList<>(recorded);
    if (initiator != null) {
      ordered.remove(initiator.end);
      ordered.add(0, initiator.end);
    }
    List<TeardownEvent> timeline = new ArrayList<>();
    for (RecordedEnd end : ordered) {
      timeline.addAll(end.events());
    }
    timeline.sort(Comparator.comparingLong(TeardownEvent::timeNanos));
    RecordedEnd first = ordered.get(0);
    long bytesSent = first.summary() != null ? first.summary().bytesSent() : 0;
    long bytesReceived = first.summary() != null ? first.summary().bytesReceived() : 0;
    return new RecordedConnection(ordered, initiatorAddress, mechanism, cause, lifetime(ordered), bytesSent,
        bytesReceived, timeline, gaps, detail(ends, cause, failedConnect),
        zeekState(ends, cause, mechanism, initiator, peerStarted));
  }

  /** The end whose process ended with it open, no close recorded and nothing of the peer's seen. */
  private static EndFacts killed(List<EndFacts> ends) {
    for (EndFacts end : ends) {
      if (end.end.state() == RecordedEnd.State.PROCESS_ENDED && end.close == null && !end.peerFirst()) {
        return end;
      }
    }
    return null;
  }

  /** When an end began: its close's lifetime back from the close, else its first record. */
  static Instant began(RecordedEnd end) {
    Instant began = end.first();
    for (TeardownEvent event : end.events()) {
      if ((event.kind() == EventKind.CLOSE || event.kind() == EventKind.CONNECT_FAILED)
          && event.summary() != null) {
        Instant created = event.time().minus(event.summary().lifetime());
        if (created.isBefore(began)) {
          began = created;
        }
      }
    }
    return began;
  }

  /** The connection's life: from the earliest end's beginning to the last record of any end. */
  private static Duration lifetime(List<RecordedEnd> ends) {
    Instant from = null;
    Instant to = null;
    for (RecordedEnd end : ends) {
      Instant began = began(end);
      from = from == null || began.isBefore(from) ? began : from;
      to = to == null || end.last().isAfter(to) ? end.last() : to;
    }
    return from == null || to.isBefore(from) ? Duration.ZERO : Duration.between(from, to);
  }

  /**
   * Whether the FINs crossed. One end: its kernel had both in flight at its close (CLOSING). Both
   * ends, recorded on one machine's clock: each began its teardown before anything of the other's
   * reached it (no call saw it, its kernel had no FIN of the peer's at the close), within
   * {@link #CROSSING} of each other. (A shutdown's kernel state is not read: two shutdowns further
   * apart than that are judged by which came first.)
   */
  private static boolean simultaneous(List<EndFacts> ends) {
    if (ends.size() == 1) {
      return ends.get(0).kernelClosing;
    }
    if (ends.size() != 2) {
      return false;
    }
    for (EndFacts end : ends) {
      if (end.firstLocal == null || end.peerFirst() || end.reset || end.abortiveClose
          || end.firstLocal.flags().contains(EventFlag.FRAMING)) {
        return false;
      }
    }
    long apart = Math.abs(ends.get(0).firstLocal.timeNanos() - ends.get(1).firstLocal.timeNanos());
    return apart <= CROSSING.toNanos();
  }

  /** How close two ends' first teardown calls must be to have crossed on one machine. */
  static final Duration CROSSING = Duration.ofMillis(1);

  private static Cause connectCause(int error) {
    return switch (error) {
      case WinsockErrors.WSAECONNREFUSED, WinsockErrors.WSAECONNRESET -> Cause.CONNECT_REFUSED;
      case WinsockErrors.WSAETIMEDOUT -> Cause.CONNECT_TIMED_OUT;
      default -> Cause.CONNECT_UNREACHABLE;
    };
  }

  /** What the verdict rests on beyond its cause, in one sentence; empty when nothing more. */
  private static String detail(List<EndFacts> ends, Cause cause, EndFacts failedConnect) {
    if (failedConnect != null) {
      TeardownEvent failed = failedConnect.connectFailed;
      String took = failed.summary() != null
          ? " after " + failed.summary().lifetime().toNanos() / 1000 + " µs" : "";
      return switch (cause) {
        case CONNECT_REFUSED -> "refused by " + failedConnect.end.remoteText() + " (" + failed.errorName() + took + ")";
        case CONNECT_TIMED_OUT -> "no answer from " + failedConnect.end.remoteText() + " (" + failed.errorName() + took + ")";
        default -> failedConnect.end.remoteText() + " could not be reached (" + failed.errorName() + took + ")";
      };
    }
    List<String> parts = new ArrayList<>();
    for (EndFacts end : ends) {
      KernelView kernel = end.closeKernel();
      if (kernel != null && kernel.unreadBytes() > 0) {
        parts.add(end.end.process() + "[" + end.end.pid() + "] closed with " + kernel.unreadBytes()
            + " received bytes never read");
      }
      boolean lossExplains = cause == Cause.TIMED_OUT || cause == Cause.DATA_AFTER_CLOSE || cause == Cause.PEER_RESET;
      if (end.lostWith != null && lossExplains) {
        KernelView lost = end.lostWith.kernel();
        String how = end.lostWith.errorName();
        if (lost != null && lost.timeouts() > 0) {
          how += ", " + lost.timeouts() + " retransmission timeouts in a row";
        }
        if (lost != null && lost.probes() > 0) {
          how += ", " + lost.probes() + " keepalive probes unanswered";
        }
        parts.add(end.end.process() + "[" + end.end.pid() + "] saw " + how);
      }
    }
    return String.join("; ", parts);
  }

  /**
   * Zeek's {@code conn_state} for what was recorded: the originator is the end that connected (an
   * end whose socket came from accept is the responder). Null where the record does not say.
   */
  private static String zeekState(List<EndFacts> ends, Cause cause, Mechanism mechanism, EndFacts initiator,
      boolean peerStarted) {
    switch (cause) {
      case CONNECT_REFUSED:
        return "REJ";
      case CONNECT_TIMED_OUT:
        return "S0";
      case OPEN:
        return "S1";
      default:
        break;
    }
    if (mechanism == Mechanism.FIN) {
      return "SF";
    }
    if (mechanism != Mechanism.RST) {
      return null;
    }
    // Which end sent the reset, and whether it is the originator.
    for (EndFacts end : ends) {
      Boolean originator = end.originator();
      if (originator == null) {
        continue;
      }
      boolean thisEndReset = end.abortiveClose || end.framing
          || cause == Cause.DATA_AFTER_CLOSE && end == initiator;
      boolean peerReset = !thisEndReset && (end.reset || end.kernelReset);
      if (thisEndReset) {
        return originator ? "RSTO" : "RSTR";
      }
      if (peerReset) {
        return originator ? "RSTR" : "RSTO";
      }
    }
    return null;
  }

  private static EndFacts initiator(List<EndFacts> ends) {
    EndFacts best = null;
    for (EndFacts end : ends) {
      if (end.firstLocal == null) {
        continue;
      }
      // Started by this end only if nothing of the peer's teardown reached it before.
      if (end.peerFirst()) {
        continue;
      }
      if (best == null || end.firstLocal.timeNanos() < best.firstLocal.timeNanos()) {
        best = end;
      }
    }
    if (best == null && ends.size() == 2 && ends.stream().allMatch(end -> end.firstLocal != null)) {
      // Both saw the other first (clocks of two machines, or calls a few microseconds apart):
      // the earlier call.
      for (EndFacts end : ends) {
        if (end.firstLocal != null
            && (best == null || end.firstLocal.timeNanos() < best.firstLocal.timeNanos())) {
          best = end;
        }
      }
    }
    return best;
  }

  private static Mechanism mechanism(List<EndFacts> ends) {
    boolean ended = false;
    for (EndFacts end : ends) {
      if (end.reset || end.abortiveClose || end.kernelReset) {
        return Mechanism.RST;
      }
      ended |= end.close != null || end.firstRemote != null;
    }
    return ended ? Mechanism.FIN : Mechanism.NONE;
  }

  private static Cause cause(List<EndFacts> ends, EndFacts initiator, boolean peerStarted) {
    for (EndFacts end : ends) {
      if (end.framing) {
        return Cause.FRAMING_ERROR;
      }
    }
    for (EndFacts end : ends) {
      if (end.disconnectData) {
        return Cause.DISCONNECT_DATA;
      }
    }
    for (EndFacts end : ends) {
      if (end.timedOut()) {
        return Cause.TIMED_OUT;
      }
    }
    if (peerStarted) {
      EndFacts only = ends.get(0);
      if (only.resetAfterPeerFin) {
        return Cause.DATA_AFTER_CLOSE;  // the peer closed; this end wrote on into its reset
      }
      return only.peerReset() ? Cause.PEER_RESET : Cause.PEER_CLOSED;
    }
    if (initiator == null) {
      for (EndFacts end : ends) {
        if (end.reset || end.kernelReset) {
          return Cause.PEER_RESET;
        }
      }
      boolean abandoned = ends.stream().anyMatch(e -> e.end.state() == RecordedEnd.State.ABANDONED);
      boolean closed = ends.stream().anyMatch(e -> e.close != null);
      return abandoned || closed ? Cause.UNKNOWN : Cause.OPEN;
    }
    TeardownEvent close = initiator.close;
    if (close != null) {
      if (close.flags().contains(EventFlag.UNSEEN_CLOSE)) {
        return Cause.CLOSED_UNSEEN;
      }
      if (close.flags().contains(EventFlag.AT_EXIT)) {
        return Cause.PROCESS_EXIT;
      }
      if (close.flags().contains(EventFlag.CLEANUP)) {
        return Cause.CLEANUP;
      }
      if (close.flags().contains(EventFlag.CONVERTED)) {
        return Cause.ABORTIVE_MADE_GRACEFUL;
      }
      // Unread data resets whatever the linger options, and a close records the mode it
      // performed: ABORTIVE with UNREAD_DATA says nothing of SO_LINGER, ABORTIVE alone is {on, 0}.
      if (close.flags().contains(EventFlag.UNREAD_DATA)) {
        return Cause.CLOSE_WITH_UNREAD_DATA;
      }
      if (close.closeMode() == CloseMode.ABORTIVE) {
        return Cause.LINGER_ZERO_CLOSE;
      }
      // A graceful close, and the other end's writes met a reset after it.
      for (EndFacts other : ends) {
        if (other != initiator && other.lostWith != null && other.lostWith.timeNanos() >= close.timeNanos()) {
          return Cause.DATA_AFTER_CLOSE;
        }
      }
    }
    return initiator.firstLocal.kind() == EventKind.CLOSE ? Cause.GRACEFUL_CLOSE : Cause.SHUTDOWN_THEN_CLOSE;
  }

  /** What one end's events say. */
  private static final class EndFacts {
    final RecordedEnd end;
    TeardownEvent firstLocal;   // first shutdown(SEND/BOTH), send-disconnect or close
    TeardownEvent firstRemote;  // first FD_CLOSE, EOF, WSAEDISCON or reset from the peer
    TeardownEvent close;
    boolean reset;
    boolean abortiveClose;
    boolean framing;
    boolean disconnectData;
    boolean kernelPeerFin;  // the kernel had the peer's FIN before this end sent one
    boolean kernelReset;    // the kernel had the connection gone (reset) before this end's FIN
    boolean kernelClosing;  // the kernel had both FINs crossing (CLOSING) at the close
    TeardownEvent connectFailed;  // a connect that made no connection
    TeardownEvent lostWith;       // the receive's or send's failure that lost the connection
    boolean resetAfterPeerFin;    // Linux's EPIPE: a reset that came after the peer's FIN

    EndFacts(RecordedEnd end) {
      this.end = end;
      for (TeardownEvent event : end.events()) {
        switch (event.kind()) {
          case SHUTDOWN -> {
            if (event.shutdownHow() != ShutdownHow.RECEIVE) {
              firstLocal = earlier(firstLocal, event);
            }
          }
          case SEND_DISCONNECT -> {
            firstLocal = earlier(firstLocal, event);
            disconnectData |= event.dataLength() > 0;
          }
          case CLOSE -> {
            firstLocal = earlier(firstLocal, event);
            close = close == null ? event : close;
            abortiveClose |=
                (event.closeMode() == CloseMode.ABORTIVE && !event.flags().contains(EventFlag.CONVERTED))
                    || event.flags().contains(EventFlag.UNREAD_DATA);
            ConnectionSummary summary = event.summary();
            if (summary != null) {
              kernelClosing |= summary.kernelState() == TcpState.CLOSING;
              kernelPeerFin |= summary.kernelState().peerFinFirst();
              // The layer concluded a reset from the kernel's CLOSED: the summary ends abortively
              // with the peer first, and nothing this end did or saw says why.
              kernelReset |= summary.kernelState() == TcpState.CLOSED
                  && summary.ending() == Ending.ABORTIVE
                  && summary.firstShutdown() == Initiator.REMOTE;
            }
          }
          case RESET -> {
            reset = true;
            if (event.flags().contains(EventFlag.FRAMING)) {
              framing = true;  // the layer's own reset: this end's doing
              firstLocal = earlier(firstLocal, event);
            } else {
              firstRemote = earlier(firstRemote, event);
              lostWith = earlier(lostWith, event);
              // Linux says EPIPE for a reset that arrived after the peer's FIN (in CLOSE_WAIT).
              resetAfterPeerFin |= event.osError() == EPIPE;
            }
          }
          case CONNECT_FAILED -> connectFailed = connectFailed == null ? event : connectFailed;
          case FD_CLOSE, EOF, DISCON -> firstRemote = earlier(firstRemote, event);
          case RECV_DISCONNECT -> disconnectData |= event.dataLength() > 0;
          default -> {}
        }
      }
    }

    /** The kernel's view read at this end's close, or null. */
    KernelView closeKernel() {
      return close != null ? close.kernel() : null;
    }

    /** Whether this end lost the connection to its own stack giving up on it. */
    boolean timedOut() {
      if (lostWith == null) {
        return false;
      }
      int error = lostWith.error();
      return error == WinsockErrors.WSAETIMEDOUT || error == WinsockErrors.WSAENETRESET
          || error == WinsockErrors.WSAECONNABORTED && lostWith.kernel() != null && lostWith.kernel().stalled();
    }

    /** Whether this end connected (true), was accepted (false), or the record does not say (null). */
    Boolean originator() {
      for (TeardownEvent event : end.events()) {
        if (event.accepted()) {
          return false;
        }
      }
      // Only a connect's end is known not to be accepted when its events came from the layer that
      // marks accepted ones: any event with the kernel's view does.
      for (TeardownEvent event : end.events()) {
        if (event.kernel() != null || event.kind() == EventKind.CONNECT_FAILED) {
          return true;
        }
      }
      return null;
    }

    /** Whether a call of this end saw the peer's teardown before this end's first call (or none). */
    boolean seenPeerFirst() {
      return firstRemote != null && (firstLocal == null || firstRemote.timeNanos() < firstLocal.timeNanos());
    }

    /** Whether the peer's teardown that reached this end first was a reset. */
    boolean peerReset() {
      if (seenPeerFirst()) {
        return firstRemote.kind() == EventKind.RESET;
      }
      return kernelReset || firstRemote != null && firstRemote.kind() == EventKind.RESET;
    }

    /**
     * Whether the peer's teardown reached this end before its own first call: seen by a call, or
     * told by the kernel at the close (then it came before every call of this end's: a close
     * after a shutdown of this end's sending side is never judged a reset, and a FIN that came
     * after this end's shows as FIN_WAIT or TIME_WAIT, not CLOSE_WAIT).
     */
    boolean peerFirst() {
      return seenPeerFirst() || kernelPeerFin || kernelReset && !reset;
    }

    private static TeardownEvent earlier(TeardownEvent current, TeardownEvent candidate) {
      return current == null || candidate.timeNanos() < current.timeNanos() ? candidate : current;
    }
  }
}
