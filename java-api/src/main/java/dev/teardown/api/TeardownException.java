package dev.teardown.api;

/** A channel operation failed; {@link #status()} says how. */
public final class TeardownException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The control library's status codes. */
  public enum Status {
    INVALID_ARGUMENT(1),
    NOT_FOUND(2),
    ACCESS_DENIED(3),
    CORRUPT(4),
    VERSION(5),
    IO(6),
    INVALID_CONFIG(7),
    INTERNAL(8),
    UNKNOWN(-1);

    private final int code;

    Status(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    public static Status fromCode(int code) {
      for (Status status : values()) {
        if (status.code == code) {
          return status;
        }
      }
      return UNKNOWN;
    }
  }

  private final Status status;

  public TeardownException(Status status, String message) {
    super(message);
    this.status = status;
  }

  /** A failure that is not the control library's, for example thrown while decoding. */
  public TeardownException(Status status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public Status status() {
    return status;
  }
}
