package dev.teardown.api;

/** Which side began a connection's teardown. */
public enum Initiator {
  /** Nobody shut down before the close. */
  NONE,
  /** This side: shutdown (SEND or BOTH), send-disconnect or close came first. */
  LOCAL,
  /** The peer: FD_CLOSE, EOF, WSAEDISCON or a reset came first. */
  REMOTE
}
