package dev.teardown.api;

/** What happened to a connection, as the Winsock SPI's "Connection Shutdown" rules name it. */
public enum EventKind {
  /** Local {@code WSPShutdown} (or {@code shutdown}); SEND and BOTH initiate a graceful shutdown. */
  SHUTDOWN(1),
  /** Local {@code WSPSendDisconnect}: initiates a graceful shutdown, may carry disconnect data. */
  SEND_DISCONNECT(2),
  /** Local close; graceful or abortive by the linger options. Carries the connection summary. */
  CLOSE(3),
  /** The FD_CLOSE network event reached the application: the peer's teardown. */
  FD_CLOSE(4),
  /** A receive returned zero bytes on a byte stream: the peer shut down gracefully. */
  EOF(5),
  /** A receive failed with WSAEDISCON on a message-oriented socket: graceful remote shutdown. */
  DISCON(6),
  /**
   * A receive or send failed because the connection was lost: WSAECONNRESET or WSAECONNABORTED
   * (an abortive shutdown), or WSAETIMEDOUT or WSAENETRESET (this side's stack gave up on it).
   */
  RESET(7),
  /** Local {@code WSPRecvDisconnect}, with the disconnect data received. */
  RECV_DISCONNECT(8),
  /**
   * A connect made no connection (refused, timed out, unreachable): the error says why, the
   * remote address is the one tried, and the summary's lifetime is how long the attempt took.
   */
  CONNECT_FAILED(9),
  /**
   * A connection was made (a connect succeeded, accept returned it): what lets a recorder know of a
   * connection before it ends, and of one whose process ends without closing it. Not recorded by
   * default ({@link Configuration#DEFAULT}): it is an event more for every connection.
   */
  CONNECTED(10);

  private final int code;

  EventKind(int code) {
    this.code = code;
  }

  /** The kind's number in the native event record. */
  public int code() {
    return code;
  }

  /** Whether this kind reports the peer's teardown rather than a local call. */
  public boolean remote() {
    return this == FD_CLOSE || this == EOF || this == DISCON || this == RESET;
  }

  private static final EventKind[] BY_CODE = new EventKind[16];

  static {
    for (EventKind kind : values()) {
      BY_CODE[kind.code] = kind;
    }
  }

  /** The kind with this native number (a table look-up: nothing is allocated). */
  public static EventKind fromCode(int code) {
    EventKind kind = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    if (kind == null) {
      throw new IllegalArgumentException("unknown event kind " + code);
    }
    return kind;
  }
}
