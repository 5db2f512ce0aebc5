package dev.teardown.history;

import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;

/**
 * One end of a connection as recorded: one socket of one process, from its first recorded event
 * to its close.
 *
 * @param id the end's number in the history
 * @param user who owns the ring its events came from
 * @param pid the process
 * @param process the process's executable name
 * @param socketId the handle or descriptor the program used
 * @param local this end's address, or null when never known
 * @param remote the peer's address, or null when never known
 * @param first its first recorded event
 * @param last its last recorded event
 * @param state whether it is still open, was closed, or was given up (see {@link State})
 * @param summary what its close said of the whole connection, or null before the close
 * @param events its events, oldest first
 */
public record RecordedEnd(
    long id,
    String user,
    long pid,
    String process,
    long socketId,
    InetSocketAddress local,
    InetSocketAddress remote,
    Instant first,
    Instant last,
    State state,
    ConnectionSummary summary,
    List<TeardownEvent> events) {

  /** Where an end's record stands. */
  public enum State {
    /** No close recorded yet. */
    OPEN,
    /** Its close is recorded. */
    CLOSED,
    /**
     * Its handle was used for another connection (or too many ends were open) before a close was
     * recorded: its close was lost, or the process was killed.
     */
    ABANDONED,
    /**
     * Its process ended (killed, crashed) with it open and no close recorded: the system closed
     * its socket then. Its last recorded activity is {@link RecordedEnd#last()}.
     */
    PROCESS_ENDED
  }

  public RecordedEnd {
    events = List.copyOf(events);
  }

  /** {@code ip:port} of this end, or {@code ?} when unknown. */
  public String localText() {
    return addressText(local);
  }

  /** {@code ip:port} of the peer, or {@code ?} when unknown. */
  public String remoteText() {
    return addressText(remote);
  }

  static String addressText(InetSocketAddress address) {
    if (address == null) {
      return "?";
    }
    String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
