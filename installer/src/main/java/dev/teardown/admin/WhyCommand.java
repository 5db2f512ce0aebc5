package dev.teardown.admin;

import dev.teardown.history.HistoryQuery;
import dev.teardown.history.TeardownHistory;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code teardown why}: recorded connections, each with how and why it ended. */
@Command(
    name = "why",
    description =
        "Show recorded connections (see `teardown record`), each with its verdict: who started"
            + " the teardown, FIN or RST, and the cause, and the timeline of both ends.")
final class WhyCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Mixin HistoryDatabase database;

  @Option(names = "--port", paramLabel = "N", description = "Connections with this port at either end, local or remote.")
  Integer port;

  @Option(names = "--pid", paramLabel = "N", description = "Connections of this process.")
  Long pid;

  @Option(names = "--process", paramLabel = "NAME", description = "Connections of processes whose name starts so (any case): python3 is python3.11 too.")
  String process;

  @Option(names = "--peer", paramLabel = "ADDR", description = "Connections with this address, or address:port, at the other end.")
  String peer;

  @Option(names = "--since", paramLabel = "DURATION", description = "Connections with an event in the last DURATION: 30s, 15m, 24h, 7d.")
  Duration since;

  @Option(names = "--limit", paramLabel = "N", description = "At most N connections (default: ${DEFAULT-VALUE}).")
  int limit = 200;

  @Option(names = "--before", paramLabel = "TIME", description = "Connections last heard of before TIME: an instant"
      + " (2026-12-07T03:00:00Z) or how long ago (2h): the page older than the one shown.")
  String before;

  @Option(names = "--oldest-first", description = "The oldest connections first (default: the newest first).")
  boolean oldestFirst;

  @Option(names = "--json", description = "One JSON object per connection per line.")
  boolean json;

  /** An instant as ISO-8601, or a duration (2h) back from now. */
  private Instant instantOf(String text) {
    try {
      return Instant.parse(text.strip());
    } catch (java.time.format.DateTimeParseException notAnInstant) {
      try {
        return Instant.now().minus(Durations.parse(text));
      } catch (picocli.CommandLine.TypeConversionException e) {
        throw new ParameterException(spec.commandLine(), "--before: '" + text
            + "' is neither an instant (2026-12-07T03:00:00Z) nor a duration (2h, 7d)");
      }
    }
  }

  /** Recorded process names listed when --process matched none. */
  static final int MAX_NAMES_SHOWN = 20;
  /** Connections counted for "showing N of M": past this, "more than" (each is a join). */
  static final long MAX_COUNTED = 10_000;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    HistoryQuery query;
    try {
      query = new HistoryQuery(port, pid, process, peer, since == null ? null : Instant.now().minus(since), limit)
          .withBefore(before == null ? null : instantOf(before)).withNewestFirst(!oldestFirst);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    int[] shown = {0};
    Instant[] oldestShown = {null};
    try (TeardownHistory history = TeardownHistory.open(database.resolve(channel.directory))) {
      history.forEachConnection(query, connection -> {
        if (json) {
          out.println(ConnectionFormat.json(connection));
        } else {
          if (shown[0] > 0) {
            out.println();
          }
          out.print(ConnectionFormat.text(connection));
        }
        shown[0]++;
        for (var end : connection.ends()) {
          if (oldestShown[0] == null || end.last().isBefore(oldestShown[0])) {
            oldestShown[0] = end.last();
          }
        }
      });
      out.flush();
      PrintWriter err = spec.commandLine().getErr();
      if (shown[0] == 0) {
        err.println("teardown: no recorded connection matches");
        if (process != null) {
          List<String> names = history.processNames(MAX_NAMES_SHOWN + 1);
          err.println(names.isEmpty() ? "  no process is recorded yet"
              : "  processes recorded: " + names.stream().limit(MAX_NAMES_SHOWN).map(Shown::text)
                  .collect(java.util.stream.Collectors.joining(", ")) + (names.size() > MAX_NAMES_SHOWN ? ", ..." : ""));
        }
      } else if (shown[0] == limit) {
        long all = history.countConnections(query, MAX_COUNTED);
        err.println("teardown: showing the " + (oldestFirst ? "oldest " : "newest ") + limit + " of "
            + (all > MAX_COUNTED ? "more than " + String.format(java.util.Locale.ROOT, "%,d", MAX_COUNTED)
                : String.format(java.util.Locale.ROOT, "%,d", all))
            + " matching connections"
            + (oldestFirst ? "; narrow the search or raise --limit" : "; older ones: --before " + oldestShown[0]));
      }
      err.flush();
      return 0;
    }
  }
}
