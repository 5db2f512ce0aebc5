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

  @Option(names = "--limit", paramLabel = "N", description = "At most N connections, oldest first (default: ${DEFAULT-VALUE}).")
  int limit = 200;

  @Option(names = "--json", description = "One JSON object per connection per line.")
  boolean json;

  /** Recorded process names listed when --process matched none. */
  static final int MAX_NAMES_SHOWN = 20;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    HistoryQuery query;
    try {
      query = new HistoryQuery(port, pid, process, peer, since == null ? null : Instant.now().minus(since), limit);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    int[] shown = {0};
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
        err.println("teardown: showing the first " + limit + "; narrow the search or raise --limit");
      }
      err.flush();
      return 0;
    }
  }
}
