package dev.teardown.admin;

import dev.teardown.history.Cause;
import dev.teardown.history.Gap;
import dev.teardown.history.HistoryQuery;
import dev.teardown.history.HistoryReport;
import dev.teardown.history.Mechanism;
import dev.teardown.history.TeardownHistory;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code teardown report}: how the recorded connections ended, summed up. */
@Command(
    name = "report",
    description = "Sum up the recorded connections: endings by mechanism (FIN, RST) and by cause, and the"
        + " processes, ports and peers with the most abortive (RST) endings.")
final class ReportCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Mixin HistoryDatabase database;

  @Option(names = "--since", paramLabel = "DURATION", description = "Only connections with an event in the last DURATION: 30s, 15m, 24h, 7d.")
  Duration since;

  @Option(names = "--top", paramLabel = "N", description = "Length of each top list (default: ${DEFAULT-VALUE}).")
  int top = 10;

  @Option(names = "--json", description = "One JSON object.")
  boolean json;

  @Spec CommandSpec spec;

  /** The longest top list. */
  static final int MAX_TOP = 1000;

  @Override
  public Integer call() {
    if (top < 1 || top > MAX_TOP) {
      throw new ParameterException(spec.commandLine(), "--top must be between 1 and " + MAX_TOP + ", not " + top);
    }
    Instant from = since == null ? null : Instant.now().minus(since);
    HistoryReport report = new HistoryReport();
    long lost;
    try (TeardownHistory history = TeardownHistory.open(database.resolve(channel.directory))) {
      history.forEachConnection(HistoryQuery.ALL.withSince(from).withLimit(Integer.MAX_VALUE), report::add);
      lost = history.gaps(from, null).stream().mapToLong(Gap::lost).sum();
    }
    report.addLost(lost);
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? json(report) + "\n" : text(report));
    out.flush();
    return 0;
  }

  private String text(HistoryReport report) {
    StringBuilder out = new StringBuilder();
    out.append(String.format("connections %d%s%n", report.connections(),
        since == null ? "" : " in the last " + since.toString().substring(2).toLowerCase(java.util.Locale.ROOT)));
    if (report.lost() > 0) {
      out.append(String.format("lost        %d events went unrecorded meanwhile: counts may be short%n", report.lost()));
    }
    out.append("mechanism\n");
    for (Mechanism mechanism : Mechanism.values()) {
      long count = report.byMechanism().getOrDefault(mechanism, 0L);
      if (count > 0) {
        out.append(String.format("  %-24s %d%n", mechanism, count));
      }
    }
    out.append("cause\n");
    report.byCause().entrySet().stream()
        .sorted(Map.Entry.<Cause, Long>comparingByValue().reversed())
        .forEach(e -> out.append(String.format("  %-24s %d%n", e.getKey().token(), e.getValue())));
    rank(out, "processes with the most RST endings", report.topProcesses(top));
    rank(out, "ports with the most RST endings", report.topPorts(top));
    rank(out, "peers with the most RST endings", report.topPeers(top));
    rank(out, "connects that made no connection", report.topFailedConnects(top));
    return out.toString();
  }

  private static void rank(StringBuilder out, String title, List<HistoryReport.Rank> ranks) {
    out.append(title).append('\n');
    if (ranks.isEmpty()) {
      out.append("  none\n");
    }
    for (HistoryReport.Rank rank : ranks) {
      out.append(String.format("  %-24s %d%n", Shown.bounded(rank.name(), 48), rank.resets()));
    }
  }

  private String json(HistoryReport report) {
    return "{\"connections\":" + report.connections()
        + ",\"lost\":" + report.lost()
        + ",\"byMechanism\":{" + report.byMechanism().entrySet().stream().sorted(Map.Entry.comparingByKey())
            .map(e -> EventFormat.quote(e.getKey().name()) + ":" + e.getValue()).collect(Collectors.joining(",")) + "}"
        + ",\"byCause\":{" + report.byCause().entrySet().stream().sorted(Map.Entry.comparingByKey())
            .map(e -> EventFormat.quote(e.getKey().token()) + ":" + e.getValue()).collect(Collectors.joining(",")) + "}"
        + ",\"topProcesses\":" + ranks(report.topProcesses(top))
        + ",\"topPorts\":" + ranks(report.topPorts(top))
        + ",\"topPeers\":" + ranks(report.topPeers(top))
        + ",\"failedConnects\":" + report.topFailedConnects(top).stream()
            .map(r -> "{\"name\":" + EventFormat.quote(r.name()) + ",\"attempts\":" + r.resets() + "}")
            .collect(Collectors.joining(",", "[", "]")) + "}";
  }

  private static String ranks(List<HistoryReport.Rank> ranks) {
    return ranks.stream().map(r -> "{\"name\":" + EventFormat.quote(r.name()) + ",\"resets\":" + r.resets() + "}")
        .collect(Collectors.joining(",", "[", "]"));
  }
}
