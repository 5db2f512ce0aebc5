package dev.teardown.history;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.FramingError;
import dev.teardown.api.KernelView;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TeardownEvent;
import dev.teardown.api.internal.KernelViewCodec;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An end's events, packed into the {@code events} column of its row: one row per connection end
 * rather than one per event is what lets the recorder keep up with busy machines. Each event, in
 * little-endian order:
 *
 * <pre>
 *   time_ns      8   wall clock, ns since 1970
 *   kind         1   EventKind code
 *   detail       1   SHUTDOWN: 1 + how ordinal; CLOSE: close mode code; RESET with FRAMING: framing code
 *   flags        2   EventFlag bits
 *   error        4   Winsock error
 *   linger_s     2   linger seconds
 *   data_length  4   disconnect data bytes
 *   captured     2   captured bytes that follow, then the bytes
 * </pre>
 *
 * <p>Since schema 4, a kind with its high bit set ({@code 0x80}) is followed (after the captured
 * bytes) by one byte, the error as the program saw it ({@link TeardownEvent#osError()}); and an
 * event flagged {@link EventFlag#KERNEL_VIEW} by the kernel's view, as the native record holds it
 * ({@link KernelViewCodec}).
 *
 * Events past {@link #MAX_EVENTS} on one end are counted, not kept.
 */
final class Timeline {
  static final int MAX_EVENTS = 64;
  private static final int FIXED = 24;
  private static final int WITH_OS_ERROR = 0x80;
  private static final int KERNEL = KernelViewCodec.SIZE;

  private Timeline() {}

  /** Appends {@code event} to {@code out}. */
  static void append(ByteArrayOutputStream out, TeardownEvent event) {
    byte[] captured = event.captured() == null ? new byte[0] : event.captured();
    int length = Math.min(captured.length, 0xFFFF);
    KernelView kernel = event.kernel();
    int extra = (event.osError() != 0 ? 1 : 0) + (kernel != null ? KERNEL : 0);
    ByteBuffer buffer = ByteBuffer.allocate(FIXED + length + extra).order(ByteOrder.LITTLE_ENDIAN);
    buffer.putLong(event.timeNanos());
    buffer.put((byte) (event.kind().code() | (event.osError() != 0 ? WITH_OS_ERROR : 0)));
    buffer.put((byte) detail(event));
    buffer.putShort((short) EventFlag.toBits(event.flags()));
    buffer.putInt(event.error());
    buffer.putShort((short) Math.min(event.linger() == null ? 0 : event.linger().toSeconds(), 0xFFFF));
    buffer.putInt((int) Math.min(event.dataLength(), 0xFFFFFFFFL));
    buffer.putShort((short) length);
    buffer.put(captured, 0, length);
    if (event.osError() != 0) {
      buffer.put((byte) event.osError());
    }
    if (kernel != null) {
      KernelViewCodec.write(buffer, kernel);
    }
    out.write(buffer.array(), 0, buffer.position());
  }


  private static int detail(TeardownEvent event) {
    if (event.shutdownHow() != null) {
      return 1 + event.shutdownHow().ordinal();
    }
    if (event.closeMode() != null) {
      return event.closeMode().code();
    }
    return event.framingError() != null ? event.framingError().code() : 0;
  }

  /**
   * The events in {@code packed}, as events of {@code end}'s socket; what cannot be read (a
   * damaged row) ends the list.
   */
  static List<TeardownEvent> read(byte[] packed, long firstSequence, String user, long pid, String process,
      long socketId, int protocol, int socketType, InetSocketAddress local, InetSocketAddress remote,
      ConnectionSummary summary) {
    List<TeardownEvent> events = new ArrayList<>();
    if (packed == null) {
      return events;
    }
    ByteBuffer buffer = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    long sequence = firstSequence;
    while (buffer.remaining() >= FIXED) {
      long time = buffer.getLong();
      int kindByte = buffer.get() & 0xFF;
      int kindCode = kindByte & ~WITH_OS_ERROR;
      int detail = buffer.get() & 0xFF;
      int flags = buffer.getShort() & 0xFFFF;
      int error = buffer.getInt();
      int linger = buffer.getShort() & 0xFFFF;
      long dataLength = buffer.getInt() & 0xFFFFFFFFL;
      int capturedLength = buffer.getShort() & 0xFFFF;
      EventKind kind;
      try {
        kind = EventKind.fromCode(kindCode);
      } catch (IllegalArgumentException e) {
        break;
      }
      if (kind == null || capturedLength > buffer.remaining()) {
        break;
      }
      byte[] captured = new byte[capturedLength];
      buffer.get(captured);
      java.util.Set<EventFlag> flagSet = EventFlag.fromBits(flags);
      boolean withKernel = flagSet.contains(EventFlag.KERNEL_VIEW);
      int extra = ((kindByte & WITH_OS_ERROR) != 0 ? 1 : 0) + (withKernel ? KERNEL : 0);
      if (extra > buffer.remaining()) {
        break;
      }
      int osError = (kindByte & WITH_OS_ERROR) != 0 ? buffer.get() & 0xFF : 0;
      KernelView kernel = withKernel ? KernelViewCodec.read(buffer) : null;
      ShutdownHow how = kind == EventKind.SHUTDOWN && detail >= 1 && detail <= ShutdownHow.values().length
          ? ShutdownHow.values()[detail - 1] : null;
      CloseMode mode = kind == EventKind.CLOSE ? closeMode(detail) : null;
      FramingError framing = kind == EventKind.RESET && flagSet.contains(EventFlag.FRAMING) ? FramingError.of(detail) : null;
      try {
        events.add(new TeardownEvent(sequence++, time, pid, process, socketId, protocol, socketType, kind, error, how,
            mode, Duration.ofSeconds(linger), flagSet, dataLength, captured, local, remote,
            kind == EventKind.CLOSE || kind == EventKind.CONNECT_FAILED ? summary : null, framing, user,
            osError, kernel));
      } catch (IllegalArgumentException e) {
        break;  // fields that do not go together: a damaged row
      }
    }
    return events;
  }

  private static CloseMode closeMode(int code) {
    return Arrays.stream(CloseMode.values()).filter(mode -> mode.code() == code).findFirst().orElse(null);
  }
}
