package dev.teardown.history;

import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * A connection as recorded, with its verdict: one end, or both when both ran under Teardown on
 * this machine.
 *
 * @param ends one or two ends; with two, the first is the one that started the teardown (when
 *     known)
 * @param initiator the address of the end that started the teardown (for a refused connect, the
 *     address that refused it); null when no one end did: both closed at once ({@link
 *     Cause#SIMULTANEOUS_CLOSE}), or nothing recorded says (see {@link #initiatorText()})
 * @param mechanism FIN or RST, as the connection ended on the wire
 * @param cause why it ended
 * @param lifetime from the earliest end's creation (or first record) to the last record of any end
 * @param bytesSent bytes the first end (the initiator, when known) sent
 * @param bytesReceived bytes the first end received
 * @param events every end's events, oldest first
 * @param gaps losses recorded while the connection lived: what it did then may be missing
 * @param detail what the verdict rests on beyond its cause, for people ("1000 received bytes were
 *     never read"), or empty
 * @param zeekState the connection's state in Zeek's {@code conn_state} vocabulary (SF, REJ, RSTO,
 *     RSTR, S0, S1), or null where what was recorded does not say
 */
public record RecordedConnection(
    List<RecordedEnd> ends,
    InetSocketAddress initiator,
    Mechanism mechanism,
    Cause cause,
    Duration lifetime,
    long bytesSent,
    long bytesReceived,
    List<TeardownEvent> events,
    List<Gap> gaps,
    String detail,
    String zeekState) {

  public RecordedConnection {
    ends = List.copyOf(ends);
    events = List.copyOf(events);
    gaps = List.copyOf(gaps);
  }

  /** The initiator as people read it: {@code ip:port}, {@code both} (a simultaneous close) or {@code none}. */
  public String initiatorText() {
    if (initiator != null) {
      return RecordedEnd.addressText(initiator);
    }
    return cause == Cause.SIMULTANEOUS_CLOSE ? "both" : "none";
  }
}
