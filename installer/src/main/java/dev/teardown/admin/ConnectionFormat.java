package dev.teardown.admin;

import dev.teardown.api.EventKind;
import dev.teardown.api.KernelView;
import dev.teardown.api.TeardownEvent;
import dev.teardown.history.Gap;
import dev.teardown.history.RecordedConnection;
import dev.teardown.history.RecordedEnd;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How `teardown why` shows a recorded connection: a verdict and a two-column timeline, or JSON. */
final class ConnectionFormat {
  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS", Locale.ROOT).withZone(ZoneId.systemDefault());
  /** The widest a timeline column gets; longer entries are cut. */
  private static final int COLUMN = 64;

  /** Widths a process ({@code name[pid]}) and a user take at most in the text. */
  static final int PROCESS = 32;
  static final int USER = 16;

  private ConnectionFormat() {}

  static String text(RecordedConnection connection) {
    StringBuilder out = new StringBuilder();
    RecordedEnd first = connection.ends().get(0);
    out.append(first.localText()).append(" <-> ").append(first.remoteText()).append("  ")
        .append(connection.cause().token()).append(", ").append(connection.mechanism());
    if (!"none".equals(connection.initiatorText())) {
      out.append(", started by ").append(connection.initiatorText());
      for (RecordedEnd end : connection.ends()) {
        if (end.local() != null && end.localText().equals(connection.initiatorText())) {
          out.append(" (").append(Shown.process(end.process(), end.pid(), PROCESS)).append(whose(end)).append(')');
        }
      }
    }
    out.append('\n');
    out.append("  ").append(connection.cause().description()).append('\n');
    if (!connection.detail().isEmpty()) {
      out.append("  ").append(connection.detail()).append('\n');
    }
    out.append("  lifetime ").append(EventFormat.duration(connection.lifetime()))
        .append(" (first record to last, ")
        .append(connection.ends().size() == 2 ? "both ends recorded)" : "one end recorded)");
    if (connection.zeekState() != null) {
      out.append("; Zeek conn_state ").append(connection.zeekState());
    }
    out.append('\n');
    for (RecordedEnd end : connection.ends()) {
      out.append("  ").append(Shown.process(end.process(), end.pid(), PROCESS)).append(whose(end)).append(' ')
          .append(end.localText()).append(": ").append(bytes(end)).append('\n');
    }
    out.append(String.format(Locale.ROOT, "  %-23s  ", "TIME"));
    int[] widths = new int[connection.ends().size()];
    for (int i = 0; i < widths.length; i++) {
      RecordedEnd end = connection.ends().get(i);
      String header = Shown.process(end.process(), end.pid(), PROCESS) + " " + end.localText()
          + (end.user().isEmpty() ? "" : " " + Shown.bounded(end.user(), USER));
      widths[i] = header.length();
      for (TeardownEvent event : end.events()) {
        widths[i] = Math.max(widths[i], describe(event).length());
      }
      widths[i] = Math.min(widths[i], COLUMN) + 2;
      out.append(pad(header, widths[i]));
    }
    out.setLength(trimEnd(out));
    out.append('\n');
    for (TeardownEvent event : connection.events()) {
      out.append(String.format(Locale.ROOT, "  %-23s  ", CLOCK.format(event.time())));
      for (int i = 0; i < widths.length; i++) {
        boolean mine = connection.ends().get(i).events().contains(event);
        out.append(pad(mine ? describe(event) : "", widths[i]));
      }
      out.setLength(trimEnd(out));
      out.append('\n');
    }
    for (RecordedEnd end : connection.ends()) {
      if (end.state() == RecordedEnd.State.PROCESS_ENDED) {
        out.append("  ! ").append(Shown.process(end.process(), end.pid(), PROCESS))
            .append(" ended without closing it (killed or crashed): the system closed its socket;"
                + " its last recorded activity was at ").append(CLOCK.format(end.last())).append('\n');
      }
      if (end.state() == RecordedEnd.State.ABANDONED) {
        out.append("  ! ").append(Shown.process(end.process(), end.pid(), PROCESS))
            .append("'s close was never recorded (its handle was reused, or the process was killed)\n");
      }
    }
    for (Gap gap : connection.gaps()) {
      out.append("  ! ").append(gap.lost()).append(" events lost between ").append(CLOCK.format(gap.after()))
          .append(" and ").append(CLOCK.format(gap.before()))
          .append(": this connection's record may be incomplete\n");
    }
    return out.toString();
  }

  /** Whose record an end is (its ring's owner): ", root", or nothing when not known. */
  static String whose(RecordedEnd end) {
    return end.user().isEmpty() ? "" : ", " + Shown.bounded(end.user(), USER);
  }

  /** One end's own bytes, as its close (or failed connect) recorded them, labelled. */
  static String bytes(RecordedEnd end) {
    if (end.summary() == null) {
      return "no close recorded";
    }
    StringBuilder text = new StringBuilder()
        .append("sent ").append(end.summary().bytesSent())
        .append(", received ").append(end.summary().bytesReceived());
    KernelView kernel = closeKernel(end);
    if (kernel != null) {
      if (KernelView.known(kernel.unreadBytes())) {
        text.append(", unread at close ").append(kernel.unreadBytes());
      }
      if (KernelView.known(kernel.bytesAcked())) {
        text.append(", acked by the peer ").append(kernel.bytesAcked());
      }
    }
    return text.toString();
  }

  private static KernelView closeKernel(RecordedEnd end) {
    for (TeardownEvent event : end.events()) {
      if (event.kind() == EventKind.CLOSE && event.kernel() != null) {
        return event.kernel();
      }
    }
    return null;
  }

  private static String describe(TeardownEvent event) {
    String what = EventFormat.what(event);
    if (event.error() != 0) {
      what += " " + event.errorName();
    }
    if (event.dataLength() > 0) {
      what += " data " + event.dataLength() + "B";
      if (event.captured().length > 0) {
        what += " " + shown(event.captured()) + (event.capturedAll() ? "" : "...");
      }
    }
    if (!event.flags().isEmpty()) {
      what += " " + event.flags().toString().toLowerCase(Locale.ROOT);
    }
    if (event.kind() == EventKind.CONNECT_FAILED && event.remote() != null) {
      what += " to " + EventFormat.endpoint(event.remote());
    }
    if (event.summary() != null && event.summary().kernelState() != dev.teardown.api.TcpState.UNKNOWN) {
      what += " (kernel: " + event.summary().kernelState().token() + ")";
    }
    if (event.kernel() != null && event.kernel().unreadBytes() > 0) {
      what += " " + event.kernel().unreadBytes() + "B unread";
    }
    return what;
  }

  /** Captured bytes as text when they are printable ASCII ("client-total=17"), else hex. */
  static String shown(byte[] bytes) {
    boolean printable = true;
    for (byte b : bytes) {
      printable &= b >= 0x20 && b < 0x7f;
    }
    return printable
        ? '"' + new String(bytes, java.nio.charset.StandardCharsets.US_ASCII) + '"'
        : "0x" + java.util.HexFormat.of().formatHex(bytes);
  }

  static String json(RecordedConnection connection) {
    StringBuilder out = new StringBuilder(512).append("{\"ends\":[");
    String separator = "";
    for (RecordedEnd end : connection.ends()) {
      out.append(separator).append('{')
          .append("\"id\":").append(end.id())
          .append(",\"user\":").append(EventFormat.quote(end.user()))
          .append(",\"pid\":").append(end.pid())
          .append(",\"process\":").append(EventFormat.quote(end.process()))
          .append(",\"socket\":").append(end.socketId())
          .append(",\"local\":").append(EventFormat.quote(end.local() == null ? null : end.localText()))
          .append(",\"remote\":").append(EventFormat.quote(end.remote() == null ? null : end.remoteText()))
          .append(",\"state\":").append(EventFormat.quote(end.state().name()))
          .append(",\"first\":").append(EventFormat.quote(end.first().toString()))
          .append(",\"last\":").append(EventFormat.quote(end.last().toString()))
          .append(",\"bytesSent\":").append(end.summary() == null ? "null" : end.summary().bytesSent())
          .append(",\"bytesReceived\":").append(end.summary() == null ? "null" : end.summary().bytesReceived())
          .append(",\"unreadAtClose\":").append(unreadAtClose(end))
          .append('}');
      separator = ",";
    }
    out.append("],\"initiator\":").append(EventFormat.quote(connection.initiatorText()))
        .append(",\"mechanism\":").append(EventFormat.quote(connection.mechanism().name()))
        .append(",\"cause\":").append(EventFormat.quote(connection.cause().token()))
        .append(",\"detail\":").append(EventFormat.quote(connection.detail()))
        .append(",\"zeekState\":").append(EventFormat.quote(connection.zeekState()))
        .append(",\"lifetimeNanos\":").append(connection.lifetime().toNanos())
        .append(",\"bytesSent\":").append(connection.bytesSent())
        .append(",\"bytesReceived\":").append(connection.bytesReceived())
        .append(",\"events\":[");
    separator = "";
    for (TeardownEvent event : connection.events()) {
      out.append(separator).append(EventFormat.json(event));
      separator = ",";
    }
    out.append("],\"gaps\":[");
    separator = "";
    for (Gap gap : connection.gaps()) {
      out.append(separator).append("{\"after\":").append(EventFormat.quote(gap.after().toString()))
          .append(",\"before\":").append(EventFormat.quote(gap.before().toString()))
          .append(",\"lost\":").append(gap.lost()).append('}');
      separator = ",";
    }
    return out.append("]}").toString();
  }

  static String unreadAtClose(RecordedEnd end) {
    KernelView kernel = closeKernel(end);
    return kernel == null || !KernelView.known(kernel.unreadBytes()) ? "null" : Long.toString(kernel.unreadBytes());
  }

  private static String pad(String text, int width) {
    String cut = text.length() < width ? text : text.substring(0, width - 2) + "~";
    return String.format(Locale.ROOT, "%-" + width + "s", cut);
  }

  private static int trimEnd(StringBuilder out) {
    int length = out.length();
    while (length > 0 && out.charAt(length - 1) == ' ') {
      length--;
    }
    return length;
  }

}
