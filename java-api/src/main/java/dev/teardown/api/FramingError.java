package dev.teardown.api;

/**
 * What was wrong with the peer's stream on a connection whose disconnect data is emulated (see
 * {@link Configuration#emulationPorts()}): the layer reset the connection and recorded a
 * {@link EventKind#RESET} with {@link EventFlag#FRAMING} and one of these.
 */
public enum FramingError {
  /** Emulation is on at this end only: the peer does not frame its stream. */
  NOT_FRAMED(1, "the peer does not frame its stream (disconnect-data emulation is on at this end only)"),
  /** The peer frames with a version this side does not speak. */
  VERSION(2, "the peer frames with a version this side does not speak"),
  /** A record of an unknown kind. */
  UNKNOWN_KIND(3, "a record of an unknown kind"),
  /** A record with flags this version does not define. */
  FLAGS(4, "a record with flags this version does not define"),
  /** A data record with no data. */
  EMPTY_DATA(5, "a data record with no data"),
  /** A record longer than its kind allows. */
  TOO_LONG(6, "a record longer than its kind allows"),
  /** Bytes after the disconnect record. */
  AFTER_DISCONNECT(7, "bytes after the disconnect record"),
  /** The stream ended inside the disconnect record. */
  TRUNCATED(8, "the stream ended inside the disconnect record"),
  /** Emulation is on at the peer's end only: it frames a stream this side does not. */
  UNEXPECTED(9, "the peer frames its stream (disconnect-data emulation is on at its end only)");

  private static final FramingError[] BY_CODE = new FramingError[10];

  static {
    for (FramingError error : values()) {
      BY_CODE[error.code] = error;
    }
  }

  private final int code;
  private final String description;

  FramingError(int code, String description) {
    this.code = code;
    this.description = description;
  }

  /** The native td_framing_error value. */
  public int code() {
    return code;
  }

  /** What went wrong, in words. */
  public String description() {
    return description;
  }

  /** The error with native value {@code code}, or null if there is none. */
  public static FramingError of(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
