package dev.teardown.history;

/** How a connection ended on the wire. */
public enum Mechanism {
  /** Orderly: FINs, no reset. */
  FIN,
  /** A reset. */
  RST,
  /** Not ended, or nothing recorded says. */
  NONE
}
