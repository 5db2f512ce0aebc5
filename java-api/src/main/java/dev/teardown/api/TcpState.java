package dev.teardown.api;

import java.util.Locale;

/**
 * The kernel's TCP state of a connection, read by the layer just before the program closed it
 * (Linux {@code TCP_INFO}, Windows {@code SIO_TCP_INFO}). It tells what the program's own calls may
 * not have: {@link #CLOSE_WAIT} is a peer's FIN that arrived and was never read, {@link #CLOSED}
 * on a connection this side had not ended is a reset (or a timeout) that was never read.
 */
public enum TcpState {
  /** Not read: not a connected stream, or the system could not tell (Windows before 10 1703). */
  UNKNOWN(0),
  ESTABLISHED(1),
  SYN_SENT(2),
  SYN_RECEIVED(3),
  /** This side sent its FIN; the peer has not acknowledged it. */
  FIN_WAIT_1(4),
  /** This side's FIN was acknowledged; the peer has not sent its own. */
  FIN_WAIT_2(5),
  /** Both FINs went, this side's first. */
  TIME_WAIT(6),
  /** No connection left: reset, timed out, or (Linux) both FINs done. */
  CLOSED(7),
  /** The peer's FIN arrived; this side has not sent its own. */
  CLOSE_WAIT(8),
  /** The peer's FIN arrived, then this side sent its own. */
  LAST_ACK(9),
  LISTEN(10),
  /** Both sides sent a FIN before either arrived: a simultaneous close. */
  CLOSING(11);

  private static final TcpState[] BY_CODE = values();

  private final int code;

  TcpState(int code) {
    this.code = code;
  }

  /** The number in {@code td_event_record.kernel_state}. */
  public int code() {
    return code;
  }

  /** The state numbered {@code code}, or null for a number that names none. */
  public static TcpState of(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }

  /** The name in output and JSON, as {@code ss} and {@code netstat} print it: "close-wait". */
  public String token() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** True when the peer's FIN had arrived and this side had sent none before it. */
  public boolean peerFinFirst() {
    return this == CLOSE_WAIT || this == LAST_ACK;
  }
}
