package dev.teardown.api.internal;

import dev.teardown.api.KernelView;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * {@code td_kernel_view} in bytes (32, little-endian, the native record's layout and the history's
 * alike): acked and received bytes 8 each, unread, unsent and the RTT in µs 4 each, retransmits 2,
 * timeouts and probes 1 each; all ones in a field the system did not tell.
 */
public final class KernelViewCodec {
  public static final int SIZE = 32;

  private KernelViewCodec() {}

  /** Reads a view at {@code buffer}'s position, moving it past the view. */
  public static KernelView read(ByteBuffer buffer) {
    long acked = buffer.getLong();
    long received = buffer.getLong();
    int unread = buffer.getInt();
    int unsent = buffer.getInt();
    int rtt = buffer.getInt();
    int retransmits = Short.toUnsignedInt(buffer.getShort());
    int timeouts = Byte.toUnsignedInt(buffer.get());
    int probes = Byte.toUnsignedInt(buffer.get());
    return new KernelView(
        acked < 0 ? KernelView.UNKNOWN : acked,
        received < 0 ? KernelView.UNKNOWN : received,
        unread == -1 ? KernelView.UNKNOWN : Integer.toUnsignedLong(unread),
        unsent == -1 ? KernelView.UNKNOWN : Integer.toUnsignedLong(unsent),
        rtt == -1 ? null : Duration.ofNanos(Integer.toUnsignedLong(rtt) * 1000),
        retransmits == 0xFFFF ? (int) KernelView.UNKNOWN : retransmits,
        timeouts == 0xFF ? (int) KernelView.UNKNOWN : timeouts,
        probes == 0xFF ? (int) KernelView.UNKNOWN : probes);
  }

  /** Writes {@code view} at {@code buffer}'s position, moving it past the view. */
  public static void write(ByteBuffer buffer, KernelView view) {
    buffer.putLong(view.bytesAcked());
    buffer.putLong(view.bytesReceived());
    buffer.putInt(u32(view.unreadBytes()));
    buffer.putInt(u32(view.unsentBytes()));
    buffer.putInt(view.rtt() == null ? -1 : (int) Math.min(view.rtt().toNanos() / 1000, 0xFFFF_FFFEL));
    buffer.putShort((short) Math.min(view.retransmits(), 0xFFFF));
    buffer.put((byte) Math.min(view.timeouts(), 0xFF));
    buffer.put((byte) Math.min(view.probes(), 0xFF));
  }

  /** A count as a 32-bit field: unknown as all ones, a larger one saturated just below. */
  private static int u32(long value) {
    return value == KernelView.UNKNOWN ? -1 : (int) Math.min(value, 0xFFFF_FFFEL);
  }
}
