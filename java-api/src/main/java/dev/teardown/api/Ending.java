package dev.teardown.api;

/** How a connection ended. */
public enum Ending {
  /** Not ended (yet). */
  NONE,
  /** With FINs on both sides: no reset seen, no abortive close. */
  GRACEFUL,
  /** With a reset, sent by an abortive close or received from the peer. */
  ABORTIVE
}
