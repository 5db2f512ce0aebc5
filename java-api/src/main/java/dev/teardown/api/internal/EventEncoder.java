package dev.teardown.api.internal;

import static dev.teardown.api.internal.EventRecordLayout.*;

import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.EventFlag;
import dev.teardown.api.KernelView;
import dev.teardown.api.TeardownEvent;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes a {@link TeardownEvent} as a native record: the inverse of {@link EventDecoder}. */
public final class EventEncoder {
  private EventEncoder() {}

  /** Encodes into {@code SIZE} bytes at {@code offset}; the sequence is left for the channel. */
  public static void encode(TeardownEvent event, ByteBuffer records, int offset) {
    ByteBuffer buffer = records.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < SIZE; i++) {
      buffer.put(offset + i, (byte) 0);
    }
    buffer.putLong(offset + TIME_NS, event.timeNanos());
    buffer.putLong(offset + SOCKET_ID, event.socketId());
    buffer.putInt(offset + PID, (int) event.pid());
    buffer.putShort(offset + KIND, (short) event.kind().code());
    buffer.putShort(offset + FLAGS, (short) EventFlag.toBits(event.flags()));
    buffer.putInt(offset + ERROR, event.error());
    buffer.putShort(offset + PROTOCOL, (short) event.protocol());
    buffer.put(offset + SOCKET_TYPE, (byte) event.socketType());
    if (event.shutdownHow() != null) {
      buffer.put(offset + DETAIL, (byte) event.shutdownHow().ordinal());
    } else if (event.closeMode() != null) {
      buffer.put(offset + DETAIL, (byte) event.closeMode().code());
    } else if (event.framingError() != null) {
      buffer.put(offset + DETAIL, (byte) event.framingError().code());
    }
    buffer.putShort(offset + LINGER_SECONDS, (short) Math.min(event.linger().toSeconds(), 0xFFFF));
    byte[] captured = event.captured();
    int capturedLength = Math.min(captured.length, CAPTURE_MAX);
    buffer.putShort(offset + CAPTURED_LENGTH, (short) capturedLength);
    buffer.putInt(offset + DATA_LENGTH, (int) Math.min(event.dataLength(), 0xFFFF_FFFFL));
    address(event.local(), buffer, offset + LOCAL);
    address(event.remote(), buffer, offset + REMOTE);
    buffer.put(offset + OS_ERROR, (byte) event.osError());
    KernelView kernel = event.kernel();
    if (kernel != null) {
      KernelViewCodec.write(buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(offset + KERNEL), kernel);
    }
    ConnectionSummary summary = event.summary();
    if (summary != null) {
      buffer.putLong(offset + LIFETIME_NS, summary.lifetime().toNanos());
      buffer.putLong(offset + BYTES_SENT, summary.bytesSent());
      buffer.putLong(offset + BYTES_RECEIVED, summary.bytesReceived());
      buffer.put(offset + FIRST_SHUTDOWN, (byte) summary.firstShutdown().ordinal());
      buffer.put(offset + ENDING, (byte) summary.ending().ordinal());
      buffer.put(offset + KERNEL_STATE, (byte) summary.kernelState().code());
    }
    byte[] name = event.processName().getBytes(StandardCharsets.UTF_8);
    buffer.put(offset + PROCESS_NAME, name, 0, Math.min(name.length, PROCESS_NAME_SIZE - 1));
    buffer.put(offset + CAPTURED, captured, 0, capturedLength);
  }

  private static void address(InetSocketAddress endpoint, ByteBuffer buffer, int at) {
    if (endpoint == null || endpoint.getAddress() == null) {
      return;
    }
    byte[] bytes = endpoint.getAddress().getAddress();
    buffer.put(at + ADDRESS_FAMILY, (byte) (bytes.length == 4 ? FAMILY_IPV4 : FAMILY_IPV6));
    buffer.putShort(at + ADDRESS_PORT, (short) endpoint.getPort());
    if (endpoint.getAddress() instanceof Inet6Address v6) {
      buffer.putInt(at + ADDRESS_SCOPE_ID, v6.getScopeId());
    } else if (!(endpoint.getAddress() instanceof Inet4Address)) {
      return;
    }
    buffer.put(at + ADDRESS_BYTES, bytes);
  }
}
