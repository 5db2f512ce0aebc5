package dev.teardown.api;

/** How a close was performed, as decided by the socket's linger options. */
public enum CloseMode {
  /** SO_DONTLINGER (the default): returns at once, the stack finishes with a FIN. */
  GRACEFUL(1),
  /** SO_LINGER with a timeout: the close waits up to the timeout for unsent data, then a FIN. */
  GRACEFUL_LINGER(2),
  /** SO_LINGER with a zero timeout: a hard close, the peer gets a reset. */
  ABORTIVE(3);

  private final int code;

  CloseMode(int code) {
    this.code = code;
  }

  /** The mode's number in the native event record. */
  public int code() {
    return code;
  }

  static CloseMode fromCode(int code) {
    for (CloseMode mode : values()) {
      if (mode.code == code) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown close mode " + code);
  }
}
