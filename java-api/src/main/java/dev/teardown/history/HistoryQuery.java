package dev.teardown.history;

import java.time.Instant;

/**
 * Which connections to find: every filter given must match (null: any).
 *
 * @param port either end's local or remote port
 * @param pid a process of either end
 * @param process the start of a process name of either end, without regard to case ("python3"
 *     is also python3.11)
 * @param peer an address ({@code 10.0.0.7}, {@code ::1}) or address and port ({@code
 *     10.0.0.7:443}, {@code [::1]:443}) that either end talked to
 * @param since only connections with an event at or after this time
 * @param limit at most this many connections
 * @param before only connections whose end last heard of was before this time (a page of
 *     {@code why} older than the one shown)
 * @param newestFirst the newest connections first (and the limit takes the newest); else the
 *     oldest first
 */
public record HistoryQuery(Integer port, Long pid, String process, String peer, Instant since, int limit,
    Instant before, boolean newestFirst) {
  /** Every connection, oldest first: no limit (connections are delivered a page at a time). */
  public static final HistoryQuery ALL = new HistoryQuery(null, null, null, null, null, Integer.MAX_VALUE);

  /** The newest {@code count} connections, newest first: the question is usually about last night. */
  public static HistoryQuery latest(int count) {
    return ALL.withLimit(count).withNewestFirst(true);
  }

  /** Oldest first, with no upper bound in time. */
  public HistoryQuery(Integer port, Long pid, String process, String peer, Instant since, int limit) {
    this(port, pid, process, peer, since, limit, null, false);
  }

  public HistoryQuery {
    if (port != null && (port < 0 || port > 65535)) {
      throw new IllegalArgumentException("not a port: " + port);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("the limit must be at least 1: " + limit);
    }
    if (peer != null) {
      Peer.parse(peer);  // refuses what is not an address
    }
  }

  public HistoryQuery withPort(Integer value) {
    return new HistoryQuery(value, pid, process, peer, since, limit, before, newestFirst);
  }

  public HistoryQuery withPid(Long value) {
    return new HistoryQuery(port, value, process, peer, since, limit, before, newestFirst);
  }

  /** Connections of this process ({@code withPid(10382)}; {@code ProcessHandle.pid()} as it is). */
  public HistoryQuery withPid(long value) {
    return withPid(Long.valueOf(value));
  }

  public HistoryQuery withProcess(String value) {
    return new HistoryQuery(port, pid, value, peer, since, limit, before, newestFirst);
  }

  public HistoryQuery withPeer(String value) {
    return new HistoryQuery(port, pid, process, value, since, limit, before, newestFirst);
  }

  /** Connections with this address at the other end, any port (null: any). */
  public HistoryQuery withPeer(java.net.InetAddress value) {
    return withPeer(value == null ? null : bracketed(value));
  }

  /**
   * Connections with this address and port at the other end (null: any): the type {@link
   * RecordedEnd#remote()} and {@link RecordedConnection#initiator()} have. Its address must be
   * resolved: names are not looked up.
   */
  public HistoryQuery withPeer(java.net.InetSocketAddress value) {
    if (value == null) {
      return withPeer((String) null);
    }
    if (value.isUnresolved()) {
      throw new IllegalArgumentException("not an IP address: " + value.getHostString() + " (names are not looked up)");
    }
    return withPeer(bracketed(value.getAddress()) + ":" + value.getPort());
  }

  private static String bracketed(java.net.InetAddress address) {
    String host = address.getHostAddress();
    return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
  }

  public HistoryQuery withSince(Instant value) {
    return new HistoryQuery(port, pid, process, peer, value, limit, before, newestFirst);
  }

  public HistoryQuery withLimit(int value) {
    return new HistoryQuery(port, pid, process, peer, since, value, before, newestFirst);
  }

  public HistoryQuery withBefore(Instant value) {
    return new HistoryQuery(port, pid, process, peer, since, limit, value, newestFirst);
  }

  public HistoryQuery withNewestFirst(boolean value) {
    return new HistoryQuery(port, pid, process, peer, since, limit, before, value);
  }

  /** An address with an optional port, as --peer takes it. */
  record Peer(String host, Integer port) {
    static Peer parse(String text) {
      String value = text.trim();
      String host = value;
      Integer port = null;
      if (value.startsWith("[")) {
        int close = value.indexOf(']');
        if (close < 0) {
          throw new IllegalArgumentException("not an address: " + text);
        }
        host = value.substring(1, close);
        if (close + 1 < value.length()) {
          if (value.charAt(close + 1) != ':') {
            throw new IllegalArgumentException("not an address: " + text);
          }
          port = parsePort(value.substring(close + 2), text);
        }
      } else if (value.indexOf(':') == value.lastIndexOf(':') && value.indexOf(':') >= 0) {
        host = value.substring(0, value.indexOf(':'));
        port = parsePort(value.substring(value.indexOf(':') + 1), text);
      }
      if (!isLiteral(host)) {
        throw new IllegalArgumentException("not an IP address: " + text + " (names are not looked up)");
      }
      try {
        host = java.net.InetAddress.getByName(host).getHostAddress();  // a literal: no lookup
      } catch (java.net.UnknownHostException e) {
        throw new IllegalArgumentException("not an IP address: " + text);
      }
      return new Peer(host, port);
    }

    private static boolean isLiteral(String host) {
      return !host.isEmpty()
          && (host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || host.matches("[0-9a-fA-F:.]+(%[\\w.]+)?") && host.contains(":"));
    }

    private static int parsePort(String text, String whole) {
      try {
        int port = Integer.parseInt(text);
        if (port >= 0 && port <= 65535) {
          return port;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException("not a port in " + whole + ": " + text);
    }
  }
}
