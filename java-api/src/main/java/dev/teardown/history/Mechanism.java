package dev.teardown.history;

/** How a connection ended on the wire. */
public enum Mechanism {
  /** Orderly: FINs, no reset. */
  FIN,
  /** A reset. */
  RST,
  /**
   * Given up by a stack: retransmissions or keepalive probes went unanswered, and nothing (or, from
   * Linux's keepalive, a last reset nobody answers) ended it on the wire.
   */
  TIMEOUT,
  /** Not ended, or nothing recorded says. */
  NONE
}
