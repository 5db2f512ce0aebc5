package dev.teardown.api;

import java.io.IOException;

/** A disconnect-data call failed; {@link #error()} is the Winsock error it amounts to. */
public final class DisconnectDataException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int error;

  public DisconnectDataException(String message, int error) {
    super(message);
    this.error = error;
  }

  /** The Winsock error ({@link WinsockErrors}); an errno with no Winsock twin, negated. */
  public int error() {
    return error;
  }
}
