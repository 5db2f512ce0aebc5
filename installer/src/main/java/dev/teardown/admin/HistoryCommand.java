package dev.teardown.admin;

import dev.teardown.api.TeardownEvent;
import dev.teardown.history.HistoryQuery;
import dev.teardown.history.RecordedConnection;
import dev.teardown.history.RecordedEnd;
import dev.teardown.history.TeardownHistory;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code teardown history}: the history as a whole. */
@Command(name = "history", description = "Work with the history as a whole.", subcommands = HistoryCommand.Export.class)
final class HistoryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }

  /** {@code teardown history export}: every recorded connection, for other tools. */
  @Command(
      name = "export",
      description = "Write the recorded connections to standard output: jsonl, one connection per line as"
          + " `why --json` writes it, or csv, one event per row with its connection's verdict.")
  static final class Export implements Callable<Integer> {
    enum Format { JSONL, CSV }

    @Mixin ChannelOption channel;

    @Mixin HistoryDatabase database;

    @Option(names = "--since", paramLabel = "DURATION", description = "Only connections with an event in the last DURATION.")
    Duration since;

    @Option(names = "--format", paramLabel = "FORMAT", description = "jsonl or csv (default: ${DEFAULT-VALUE}).")
    Format format = Format.JSONL;

    @Spec CommandSpec spec;

    /** RFC 4180: records end with CRLF, whatever the platform. */
    static final String CSV_LINE_END = "\r\n";

    /**
     * One row per event, with its connection's verdict and its end's record: every field `why
     * --json` has, flattened (the connection's on every row of it, the end's on every row of its).
     */
    static final String CSV_HEADER = "connection,cause,mechanism,initiator,detail,zeek_state,lifetime_ns,"
        + "bytes_sent,bytes_received,end,end_state,end_first,end_last,end_bytes_sent,end_bytes_received,"
        + "end_unread_at_close,time,user,pid,process,socket,local,remote,kind,how,mode,error,os_error,flags,"
        + "data_length,captured_hex";

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      Instant from = since == null ? null : Instant.now().minus(since);
      long[] number = {0};
      try (TeardownHistory history = TeardownHistory.open(database.resolve(channel.directory))) {
        if (format == Format.CSV) {
          out.print(CSV_HEADER + CSV_LINE_END);
        }
        history.forEachConnection(HistoryQuery.ALL.withSince(from).withLimit(Integer.MAX_VALUE), connection -> {
          number[0]++;
          if (format == Format.JSONL) {
            out.println(ConnectionFormat.json(connection));
          } else {
            csv(out, number[0], connection);
          }
        });
      }
      out.flush();
      return 0;
    }

    private static void csv(PrintWriter out, long number, RecordedConnection connection) {
      for (TeardownEvent event : connection.events()) {
        RecordedEnd end = connection.ends().stream().filter(e -> e.events().contains(event)).findFirst().orElseThrow();
        out.print(String.join(",",
            Long.toString(number),
            connection.cause().token(),
            connection.mechanism().name(),
            cell(connection.initiatorText()),
            cell(connection.detail()),
            connection.zeekState() == null ? "" : connection.zeekState(),
            Long.toString(connection.lifetime().toNanos()),
            Long.toString(connection.bytesSent()),
            Long.toString(connection.bytesReceived()),
            Long.toString(end.id()),
            end.state().name(),
            end.first().toString(),
            end.last().toString(),
            end.summary() == null ? "" : Long.toString(end.summary().bytesSent()),
            end.summary() == null ? "" : Long.toString(end.summary().bytesReceived()),
            "null".equals(ConnectionFormat.unreadAtClose(end)) ? "" : ConnectionFormat.unreadAtClose(end),
            event.time().toString(),
            cell(end.user()),
            Long.toString(end.pid()),
            cell(end.process()),
            Long.toString(end.socketId()),
            cell(end.local() == null ? "" : end.localText()),
            cell(end.remote() == null ? "" : end.remoteText()),
            event.kind().name(),
            event.shutdownHow() == null ? "" : event.shutdownHow().name(),
            event.closeMode() == null ? "" : event.closeMode().name(),
            event.error() == 0 ? "" : event.errorName(),
            event.osError() == 0 ? "" : event.osErrorName(),
            cell(event.flags().stream().map(f -> f.name().toLowerCase(Locale.ROOT)).sorted()
                .reduce((a, b) -> a + " " + b).orElse("")),
            Long.toString(event.dataLength()),
            HexFormat.of().formatHex(event.captured())) + CSV_LINE_END);
      }
    }

    /**
     * A CSV cell (RFC 4180): text only (controls, CR and LF among them, escaped as {@link Shown}
     * does: a name cannot forge a record or steer a terminal), quoted when it holds a comma or a quote.
     */
    static String cell(String raw) {
      String value = Shown.text(raw);
      if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) {
        return value;
      }
      return '"' + value.replace("\"", "\"\"") + '"';
    }
  }
}
