package dev.teardown.api;

/** A configuration value was rejected; {@link #field()} names which. */
public final class InvalidConfigurationException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String field;

  public InvalidConfigurationException(String field, String message) {
    super(field + ": " + message);
    this.field = field;
  }

  /** The configuration field that was rejected, for example "captureBytes" or "ports". */
  public String field() {
    return field;
  }
}
