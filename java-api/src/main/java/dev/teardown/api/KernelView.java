package dev.teardown.api;

import java.time.Duration;

/**
 * The kernel's view of a connection, read by the layer without consuming anything (Linux
 * {@code TCP_INFO} and {@code FIONREAD}, Windows {@code SIO_TCP_INFO}) at a close and when a
 * receive or send fails: what the program's calls do not tell. A count the system did not tell is
 * {@link #UNKNOWN}; an RTT it did not tell is null.
 *
 * @param bytesAcked payload bytes this end sent that the peer acknowledged
 * @param bytesReceived payload bytes the kernel received in order, read by the program or not
 * @param unreadBytes received and never read: a close discards them (and resets the connection)
 * @param unsentBytes written by the program and not yet sent
 * @param rtt the smoothed round-trip time, or null
 * @param retransmits segments retransmitted over the connection's life
 * @param timeouts retransmission timeouts in a row, unanswered, when it was read
 * @param probes keepalive (or zero-window) probes unanswered when it was read
 */
public record KernelView(
    long bytesAcked,
    long bytesReceived,
    long unreadBytes,
    long unsentBytes,
    Duration rtt,
    int retransmits,
    int timeouts,
    int probes) {

  /** A count the system did not tell. */
  public static final long UNKNOWN = -1;

  /** Whether {@code value} was told. */
  public static boolean known(long value) {
    return value != UNKNOWN;
  }

  /**
   * Whether the connection was being given up on when this was read: retransmissions or
   * keepalive probes going unanswered.
   */
  public boolean stalled() {
    return timeouts > 0 || probes > 0;
  }
}
