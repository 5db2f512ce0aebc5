package dev.teardown.api;

/** The {@code how} of a shutdown: SD_RECEIVE, SD_SEND or SD_BOTH. */
public enum ShutdownHow {
  RECEIVE,
  SEND,
  BOTH;

  static ShutdownHow fromCode(int code) {
    return switch (code) {
      case 0 -> RECEIVE;
      case 1 -> SEND;
      case 2 -> BOTH;
      default -> throw new IllegalArgumentException("unknown shutdown how " + code);
    };
  }
}
