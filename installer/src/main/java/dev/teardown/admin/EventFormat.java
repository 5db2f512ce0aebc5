package dev.teardown.admin;

import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;

/** How `teardown watch` shows an event: a table row, or one JSON object per line. */
final class EventFormat {
  static final String HEADER =
      String.format(
          "%-12s %-12s %-24s %-22s %-22s %-22s %-15s %s",
          "TIME", "USER", "PROCESS[PID]", "LOCAL", "REMOTE", "EVENT", "ERROR", "DETAIL");

  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT).withZone(ZoneId.systemDefault());

  private EventFormat() {}

  static String row(TeardownEvent event) {
    return String.format(
        "%-12s %-12s %-24s %-22s %-22s %-22s %-15s %s",
        CLOCK.format(event.time()),
        Shown.bounded(event.user().isEmpty() ? "-" : event.user(), 12),
        Shown.process(event.processName(), event.pid(), 24),
        endpoint(event.local()),
        endpoint(event.remote()),
        what(event),
        event.error() == 0 ? "-" : event.errorName(),
        detail(event));
  }

  static String what(TeardownEvent event) {
    if (event.shutdownHow() != null) {
      return event.kind() + " " + event.shutdownHow();
    }
    if (event.closeMode() != null) {
      String mode = event.kind() + " " + event.closeMode();
      return event.closeMode() == dev.teardown.api.CloseMode.GRACEFUL_LINGER
          ? mode + " " + event.linger().toSeconds() + "s"
          : mode;
    }
    return event.kind().name();
  }

  static String detail(TeardownEvent event) {
    StringBuilder text = new StringBuilder();
    ConnectionSummary summary = event.summary();
    if (summary != null) {
      text.append(summary.ending().name().toLowerCase(Locale.ROOT))
          .append(", first ").append(summary.firstShutdown().name().toLowerCase(Locale.ROOT))
          .append(", ").append(duration(summary.lifetime()))
          .append(", sent ").append(summary.bytesSent())
          .append(" recv ").append(summary.bytesReceived());
      if (summary.kernelState() != dev.teardown.api.TcpState.UNKNOWN) {
        text.append(", kernel ").append(summary.kernelState().token());
      }
    }
    if (event.dataLength() > 0) {
      append(text, "data " + event.dataLength() + "B");
      if (event.captured().length > 0) {
        append(text, "captured " + HexFormat.of().formatHex(event.captured()));
      }
    }
    if (!event.flags().isEmpty()) {
      append(text, event.flags().toString().toLowerCase(Locale.ROOT));
    }
    if (event.framingError() != null) {
      append(text, "framing: " + event.framingError().description());
    }
    return text.toString();
  }

  static String json(TeardownEvent event) {
    StringBuilder out = new StringBuilder(320).append('{');
    field(out, "sequence", event.sequence()).append(',');
    string(out, "time", event.time().toString()).append(',');
    field(out, "pid", event.pid()).append(',');
    string(out, "process", event.processName()).append(',');
    string(out, "user", event.user()).append(',');
    field(out, "socket", event.socketId()).append(',');
    string(out, "kind", event.kind().name()).append(',');
    string(out, "how", event.shutdownHow() == null ? null : event.shutdownHow().name()).append(',');
    string(out, "mode", event.closeMode() == null ? null : event.closeMode().name()).append(',');
    field(out, "lingerSeconds", event.linger().toSeconds()).append(',');
    field(out, "error", event.error()).append(',');
    string(out, "errorName", dev.teardown.api.WinsockErrors.name(event.error())).append(',');
    field(out, "osError", event.osError()).append(',');
    string(out, "osErrorName", event.osError() == 0 ? null : event.osErrorName()).append(',');
    string(out, "local", event.local() == null ? null : endpoint(event.local())).append(',');
    string(out, "remote", event.remote() == null ? null : endpoint(event.remote())).append(',');
    field(out, "dataLength", event.dataLength()).append(',');
    string(out, "captured", HexFormat.of().formatHex(event.captured())).append(',');
    out.append("\"flags\":[");
    String separator = "";
    for (var flag : event.flags()) {
      out.append(separator).append('"').append(flag.name()).append('"');
      separator = ",";
    }
    out.append("],");
    string(out, "framingError", event.framingError() == null ? null : event.framingError().name());
    out.append(",\"summary\":");
    ConnectionSummary summary = event.summary();
    if (summary == null) {
      out.append("null");
    } else {
      out.append('{');
      field(out, "lifetimeNanos", summary.lifetime().toNanos()).append(',');
      field(out, "bytesSent", summary.bytesSent()).append(',');
      field(out, "bytesReceived", summary.bytesReceived()).append(',');
      string(out, "firstShutdown", summary.firstShutdown().name()).append(',');
      string(out, "ending", summary.ending().name()).append(',');
      string(out, "kernelState", summary.kernelState().name()).append('}');
    }
    out.append(",\"kernel\":");
    dev.teardown.api.KernelView kernel = event.kernel();
    if (kernel == null) {
      out.append("null");
    } else {
      out.append('{');
      field(out, "bytesAcked", kernel.bytesAcked()).append(',');
      field(out, "bytesReceived", kernel.bytesReceived()).append(',');
      field(out, "unreadBytes", kernel.unreadBytes()).append(',');
      field(out, "unsentBytes", kernel.unsentBytes()).append(',');
      field(out, "rttMicros", kernel.rtt() == null ? -1 : kernel.rtt().toNanos() / 1000).append(',');
      field(out, "retransmits", kernel.retransmits()).append(',');
      field(out, "timeouts", kernel.timeouts()).append(',');
      field(out, "probes", kernel.probes()).append('}');
    }
    return out.append('}').toString();
  }

  static String endpoint(InetSocketAddress address) {
    if (address == null) {
      return "-";
    }
    String host = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + address.getPort() : host + ":" + address.getPort();
  }

  static String duration(Duration duration) {
    long micros = duration.toNanos() / 1000;
    if (micros < 1000) {
      return micros + "us";
    }
    if (micros < 1_000_000) {
      return String.format(Locale.ROOT, "%.1fms", micros / 1000.0);
    }
    return String.format(Locale.ROOT, "%.2fs", micros / 1_000_000.0);
  }

  private static void append(StringBuilder text, String part) {
    if (text.length() > 0) {
      text.append(", ");
    }
    text.append(part);
  }

  private static StringBuilder field(StringBuilder out, String name, long value) {
    return out.append('"').append(name).append("\":").append(value);
  }

  private static StringBuilder string(StringBuilder out, String name, String value) {
    return out.append('"').append(name).append("\":").append(quote(value));
  }

  /** A JSON string literal for {@code value}, or {@code null}. */
  static String quote(String value) {
    if (value == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          // Controls, and what a terminal reading the JSON raw would act on (DEL, C1 controls,
          // line separators, bidirectional overrides): escaped, the same value to a parser.
          if (c < 0x20 || Shown.escaped(c)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
