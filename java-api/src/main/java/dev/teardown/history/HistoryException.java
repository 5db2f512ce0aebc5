package dev.teardown.history;

import java.nio.file.Path;

/** A history database that cannot be used as asked; the message names the file and the reason. */
public class HistoryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public HistoryException(Path file, String reason) {
    super(file + ": " + reason);
    this.file = file;
  }

  public HistoryException(Path file, String reason, Throwable cause) {
    super(file + ": " + reason, cause);
    this.file = file;
  }

  /** The database file concerned. */
  public Path file() {
    return file;
  }
}
