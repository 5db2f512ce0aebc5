package dev.teardown.history;

import java.util.Locale;

/**
 * Why a connection ended: a fixed vocabulary, each judged from what the ends recorded (their
 * calls, the flags of their closes, what they saw of the peer). Shown by {@code teardown why} as
 * {@link #token()}.
 */
public enum Cause {
  /** A close with the default linger options, nothing shut down before it: FIN. */
  GRACEFUL_CLOSE("the initiator closed the socket gracefully"),
  /** The initiator shut down its sending side (or both) first, then closed: FIN. */
  SHUTDOWN_THEN_CLOSE("the initiator shut down its sending side, then closed"),
  /** SO_LINGER on with a zero timeout, then close: RST. */
  LINGER_ZERO_CLOSE("the initiator closed with SO_LINGER {on, 0}: an abortive close"),
  /** Closed while received data was still unread: the stack resets the connection, RST. */
  CLOSE_WITH_UNREAD_DATA("the initiator closed with received data unread"),
  /** An abortive close that Teardown's abortive-to-graceful policy performed gracefully: FIN. */
  ABORTIVE_MADE_GRACEFUL("an abortive close made graceful by policy"),
  /**
   * The initiator's close was made where the layer could not see it (a raw close system call,
   * io_uring), and noticed later: FIN, unless the peer's record says otherwise.
   */
  CLOSED_UNSEEN("the initiator closed the socket where the layer could not see it (a raw system call)"),
  /**
   * The initiator's process ended (killed, crashed) with the connection open, without a close the
   * layer saw: the system closed its socket (FIN, or RST with data unread).
   */
  PROCESS_KILLED("the initiator's process ended (killed or crashed) with the connection open"),
  /** The process exited with the connection open, and its exit closed it. */
  PROCESS_EXIT("the initiator's process exited with the connection open"),
  /** Windows: the program's last WSACleanup closed the socket still open. */
  CLEANUP("the initiator's last WSACleanup closed the socket"),
  /** The peer reset the connection; it is not recorded here, or recorded nothing to explain it. */
  PEER_RESET("the peer reset the connection"),
  /** Both ends sent their FIN before the other's reached them: the FINs crossed. */
  SIMULTANEOUS_CLOSE("both ends closed at once: their FINs crossed"),
  /**
   * The initiator closed (FIN); the peer kept sending, and the initiator's kernel answered the
   * data with a reset: FIN, then RST.
   */
  DATA_AFTER_CLOSE("the initiator closed, the peer kept sending, and the initiator's kernel reset it"),
  /** Retransmissions or keepalive probes went unanswered: a stack gave the connection up. */
  TIMED_OUT("the connection timed out: retransmissions or keepalive probes went unanswered"),
  /** A connect answered by a reset: nothing listened on the port (or a firewall refused it). */
  CONNECT_REFUSED("the connect was refused: nothing listened on the port"),
  /** A connect whose SYN went unanswered until the stack gave up. */
  CONNECT_TIMED_OUT("the connect timed out: the SYN went unanswered"),
  /** A connect the network could not carry: no route, host or network unreachable, or denied. */
  CONNECT_UNREACHABLE("the connect failed: the peer could not be reached"),
  /** Disconnect-data emulation: a stream not framed as agreed, reset by the layer: RST. */
  FRAMING_ERROR("the layer reset a stream that was not framed as agreed"),
  /** The ends exchanged disconnect data (WSPSendDisconnect / WSPRecvDisconnect) as they ended. */
  DISCONNECT_DATA("the ends exchanged disconnect data"),
  /** The peer ended the connection gracefully; it is not recorded here: FIN. */
  PEER_CLOSED("the peer closed gracefully"),
  /** Nothing recorded ends it yet. */
  OPEN("not ended when last recorded"),
  /** It ended, but what was recorded does not say how (its records were lost or abandoned). */
  UNKNOWN("ended, and what was recorded does not say how");

  private final String description;

  Cause(String description) {
    this.description = description;
  }

  /** One sentence, for people. */
  public String description() {
    return description;
  }

  /** The name in output and JSON: lower case, words joined by hyphens ("linger-zero-close"). */
  public String token() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The cause a {@link #token()} (or an enum name) stands for. */
  public static Cause fromToken(String token) {
    return valueOf(token.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
  }
}
