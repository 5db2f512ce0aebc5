package dev.teardown.history;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TcpState;
import dev.teardown.api.TeardownEvent;
import java.time.Duration;
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

  /** The connection these ends (one or two, of one connection) make, judged. */
  static RecordedConnection judge(List<RecordedEnd> recorded, List<Gap> gaps) {
    List<EndFacts> ends = new ArrayList<>();
    for (RecordedEnd end : recorded) {
      ends.add(new EndFacts(end));
    }
    EndFacts initiator = initiator(ends);
    boolean peerStarted = initiator == null && ends.size() == 1 && ends.get(0).peerFirst();
    Mechanism mechanism = mechanism(ends);
    Cause cause = cause(ends, initiator, peerStarted);
    String initiatorText =
        initiator != null
            ? initiator.end.localText()
            : peerStarted ? ends.get(0).end.remoteText() : "none";

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
    return new RecordedConnection(
        ordered, initiatorText, mechanism, cause, lifetime(ordered), bytesSent, bytesReceived, timeline, gaps);
  }

  private static Duration lifetime(List<RecordedEnd> ends) {
    Duration longest = Duration.ZERO;
    for (RecordedEnd end : ends) {
      Duration lived =
          end.summary() != null && !end.summary().lifetime().isZero()
              ? end.summary().lifetime()
              : Duration.between(end.first(), end.last());
      if (lived.compareTo(longest) > 0) {
        longest = lived;
      }
    }
    return longest;
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
    if (best == null && ends.size() == 2) {
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
    if (peerStarted) {
      return ends.get(0).peerReset() ? Cause.PEER_RESET : Cause.PEER_CLOSED;
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
            }
          }
          case FD_CLOSE, EOF, DISCON -> firstRemote = earlier(firstRemote, event);
          case RECV_DISCONNECT -> disconnectData |= event.dataLength() > 0;
          default -> {}
        }
      }
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
