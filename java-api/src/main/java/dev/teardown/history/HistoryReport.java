package dev.teardown.history;

import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How the recorded connections ended, summed up: by mechanism and by cause, and who had the most
 * abortive (RST) endings. Built by {@link #add} over connections, then {@link #top} for the ranks.
 */
public final class HistoryReport {
  /** One rank of a top list: a process name, a port, or a peer address, and its RST endings. */
  public record Rank(String name, long resets) {}

  private long connections;
  private long lost;
  private final Map<Mechanism, Long> byMechanism = new EnumMap<>(Mechanism.class);
  private final Map<Cause, Long> byCause = new EnumMap<>(Cause.class);
  private final Map<String, Long> processes = new HashMap<>();
  private final Map<String, Long> ports = new HashMap<>();
  private final Map<String, Long> peers = new HashMap<>();
  private final Map<String, Long> failedConnects = new HashMap<>();

  /** Counts one connection (or connect that made none). */
  public void add(RecordedConnection connection) {
    connections++;
    byMechanism.merge(connection.mechanism(), 1L, Long::sum);
    byCause.merge(connection.cause(), 1L, Long::sum);
    String failed = switch (connection.cause()) {
      case CONNECT_REFUSED -> "refused by ";
      case CONNECT_TIMED_OUT -> "no answer from ";
      case CONNECT_UNREACHABLE -> "could not reach ";
      default -> null;
    };
    if (failed != null) {
      // Not an ending of a connection: ranked on its own, by the address tried.
      failedConnects.merge(failed + connection.ends().get(0).remoteText(), 1L, Long::sum);
      return;
    }
    if (connection.mechanism() != Mechanism.RST) {
      return;
    }
    RecordedEnd first = connection.ends().get(0);
    // A name is anyone's to take: counted per user, so one user's programs never add to another's.
    processes.merge(first.user().isEmpty() ? first.process() : first.process() + " (" + first.user() + ")", 1L, Long::sum);
    Integer service = servicePort(connection);
    if (service != null) {
      ports.merge(Integer.toString(service), 1L, Long::sum);
    }
    if (first.remote() != null && first.remote().getAddress() != null) {
      peers.merge(first.remote().getAddress().getHostAddress(), 1L, Long::sum);
    }
  }

  /**
   * The port of the connection's service: the listener's, which an accepted end has as its local
   * port and a connecting end (one whose record says it connected) as its remote one; where no
   * end's record says, the lower of the two ports (a client's is usually ephemeral, and high).
   */
  static Integer servicePort(RecordedConnection connection) {
    for (RecordedEnd end : connection.ends()) {
      if (end.local() != null && end.events().stream().anyMatch(TeardownEvent::accepted)) {
        return end.local().getPort();
      }
    }
    for (RecordedEnd end : connection.ends()) {
      if (end.remote() != null && end.events().stream().anyMatch(e -> e.kernel() != null || e.kind() == EventKind.CONNECTED)) {
        return end.remote().getPort();
      }
    }
    RecordedEnd first = connection.ends().get(0);
    if (first.local() == null || first.remote() == null) {
      return null;
    }
    return Math.min(first.local().getPort(), first.remote().getPort());
  }

  /** Counts events lost while the connections counted lived (gaps, added by the caller). */
  public void addLost(long count) {
    lost += count;
  }

  public long connections() {
    return connections;
  }

  public long lost() {
    return lost;
  }

  public Map<Mechanism, Long> byMechanism() {
    return Map.copyOf(byMechanism);
  }

  public Map<Cause, Long> byCause() {
    return Map.copyOf(byCause);
  }

  /** The {@code n} processes with the most RST endings, most first. */
  public List<Rank> topProcesses(int n) {
    return top(processes, n);
  }

  /** The {@code n} ports (each connection's lower port) with the most RST endings. */
  public List<Rank> topPorts(int n) {
    return top(ports, n);
  }

  /**
   * The {@code n} addresses whose connects most often made no connection, with why ("refused by
   * 10.0.0.5:443"), most first; {@link Rank#resets()} counts the attempts.
   */
  public List<Rank> topFailedConnects(int n) {
    return top(failedConnects, n);
  }

  /** The {@code n} peer addresses with the most RST endings. */
  public List<Rank> topPeers(int n) {
    return top(peers, n);
  }

  private static List<Rank> top(Map<String, Long> counts, int n) {
    List<Rank> ranks = new ArrayList<>();
    counts.forEach((name, resets) -> ranks.add(new Rank(name, resets)));
    ranks.sort(Comparator.comparingLong(Rank::resets).reversed().thenComparing(Rank::name));
    return ranks.subList(0, Math.min(n, ranks.size()));
  }
}
