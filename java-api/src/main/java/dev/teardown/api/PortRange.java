package dev.teardown.api;

/**
 * An inclusive range of TCP or UDP ports.
 *
 * @param first the first port, 1 to 65535
 * @param last the last port, {@code first} to 65535
 */
public record PortRange(int first, int last) {

  public PortRange {
    if (first < 1 || first > 65535) {
      throw new InvalidConfigurationException("ports", "port " + first + " is not in 1..65535");
    }
    if (last < first || last > 65535) {
      throw new InvalidConfigurationException(
          "ports", "range " + first + "-" + last + " must end between " + first + " and 65535");
    }
  }

  /** A range of one port. */
  public static PortRange of(int port) {
    return new PortRange(port, port);
  }

  /** Parses "8080" or "8000-8099". */
  public static PortRange parse(String text) {
    String trimmed = text.trim();
    int dash = trimmed.indexOf('-');
    try {
      if (dash < 0) {
        return of(Integer.parseInt(trimmed));
      }
      return new PortRange(
          Integer.parseInt(trimmed.substring(0, dash).trim()),
          Integer.parseInt(trimmed.substring(dash + 1).trim()));
    } catch (NumberFormatException e) {
      throw new InvalidConfigurationException(
          "ports", "'" + text + "' is not a port or a range like 8000-8099");
    }
  }

  public boolean contains(int port) {
    return port >= first && port <= last;
  }

  @Override
  public String toString() {
    return first == last ? Integer.toString(first) : first + "-" + last;
  }
}
