package dev.teardown.api.internal;

import static dev.teardown.api.internal.EventRecordLayout.*;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TeardownEvent;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns native event records into {@link TeardownEvent}s. Records come from shared memory that
 * any local process can write, so every field is checked: a record that does not make sense is
 * rejected ({@link #decode} returns null), never trusted. Process names and endpoints repeat
 * from event to event and are cached, which keeps decoding allocation-light.
 *
 * <p>Not thread-safe: one decoder per reader.
 */
public final class EventDecoder {
  private static final int CACHE_LIMIT = 4096;
  private static final EventKind[] KINDS = new EventKind[16];
  private static final ShutdownHow[] HOWS = ShutdownHow.values();
  private static final Initiator[] INITIATORS = Initiator.values();
  private static final Ending[] ENDINGS = Ending.values();

  static {
    for (EventKind kind : EventKind.values()) {
      KINDS[kind.code()] = kind;
    }
  }

  private final Map<Long, CachedName> names = new HashMap<>();
  private CachedName lastName;
  private final Map<AddressKey, InetSocketAddress> addresses = new HashMap<>();
  private final byte[] nameBytes = new byte[PROCESS_NAME_SIZE];
  private final byte[] addressBytes = new byte[16];

  /** Decodes the record at {@code offset}; null if the record is malformed. */
  public TeardownEvent decode(ByteBuffer records, int offset) {
    ByteBuffer buffer = records.order() == ByteOrder.LITTLE_ENDIAN ? records : records.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int kindCode = Short.toUnsignedInt(buffer.getShort(offset + KIND));
    EventKind kind = kindCode < KINDS.length ? KINDS[kindCode] : null;
    int detail = Byte.toUnsignedInt(buffer.get(offset + DETAIL));
    int capturedLength = Short.toUnsignedInt(buffer.getShort(offset + CAPTURED_LENGTH));
    long dataLength = Integer.toUnsignedLong(buffer.getInt(offset + DATA_LENGTH));
    if (kind == null || capturedLength > CAPTURE_MAX || capturedLength > dataLength) {
      return null;
    }
    ShutdownHow how = null;
    CloseMode mode = null;
    if (kind == EventKind.SHUTDOWN) {
      if (detail >= HOWS.length) {
        return null;
      }
      how = HOWS[detail];
    } else if (kind == EventKind.CLOSE) {
      if (detail < 1 || detail > 3) {
        return null;
      }
      mode = CloseMode.values()[detail - 1];
    }
    InetSocketAddress local = address(buffer, offset + LOCAL);
    InetSocketAddress remote = address(buffer, offset + REMOTE);
    if (local == INVALID || remote == INVALID) {
      return null;
    }
    ConnectionSummary summary = null;
    int first = Byte.toUnsignedInt(buffer.get(offset + FIRST_SHUTDOWN));
    int ending = Byte.toUnsignedInt(buffer.get(offset + ENDING));
    if (first >= INITIATORS.length || ending >= ENDINGS.length) {
      return null;
    }
    if (kind == EventKind.CLOSE && ending != 0) {
      summary =
          new ConnectionSummary(
              Duration.ofNanos(buffer.getLong(offset + LIFETIME_NS)),
              buffer.getLong(offset + BYTES_SENT),
              buffer.getLong(offset + BYTES_RECEIVED),
              INITIATORS[first],
              ENDINGS[ending]);
    }
    byte[] captured = new byte[capturedLength];
    if (capturedLength > 0) {
      buffer.get(offset + CAPTURED, captured);
    }
    int flags = Short.toUnsignedInt(buffer.getShort(offset + FLAGS));
    long timeNs = buffer.getLong(offset + TIME_NS);
    return new TeardownEvent(
        buffer.getLong(offset + SEQUENCE),
        Instant.ofEpochSecond(Long.divideUnsigned(timeNs, 1_000_000_000L), Long.remainderUnsigned(timeNs, 1_000_000_000L)),
        Integer.toUnsignedLong(buffer.getInt(offset + PID)),
        processName(buffer, offset),
        buffer.getLong(offset + SOCKET_ID),
        Short.toUnsignedInt(buffer.getShort(offset + PROTOCOL)),
        Byte.toUnsignedInt(buffer.get(offset + SOCKET_TYPE)),
        kind,
        buffer.getInt(offset + ERROR),
        how,
        mode,
        Duration.ofSeconds(Short.toUnsignedInt(buffer.getShort(offset + LINGER_SECONDS))),
        (flags & FLAG_CONVERTED) != 0,
        (flags & FLAG_NONBLOCKING) != 0,
        dataLength,
        captured,
        local,
        remote,
        summary);
  }

  private static final InetSocketAddress INVALID = InetSocketAddress.createUnresolved("invalid", 0);

  private InetSocketAddress address(ByteBuffer buffer, int at) {
    int family = Byte.toUnsignedInt(buffer.get(at + ADDRESS_FAMILY));
    if (family == FAMILY_NONE) {
      return null;
    }
    int length = family == FAMILY_IPV4 ? 4 : family == FAMILY_IPV6 ? 16 : -1;
    if (length < 0) {
      return INVALID;
    }
    int port = Short.toUnsignedInt(buffer.getShort(at + ADDRESS_PORT));
    int scope = buffer.getInt(at + ADDRESS_SCOPE_ID);
    long high = buffer.getLong(at + ADDRESS_BYTES);
    long low = family == FAMILY_IPV6 ? buffer.getLong(at + ADDRESS_BYTES + 8) : 0;
    AddressKey key = new AddressKey(family, port, scope, high, low);
    InetSocketAddress cached = addresses.get(key);
    if (cached != null) {
      return cached;
    }
    buffer.get(at + ADDRESS_BYTES, addressBytes, 0, length);
    byte[] bytes = Arrays.copyOf(addressBytes, length);
    InetAddress address;
    try {
      address =
          family == FAMILY_IPV6 && scope != 0
              ? Inet6Address.getByAddress(null, bytes, scope)
              : InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return INVALID;
    }
    InetSocketAddress decoded = new InetSocketAddress(address, port);
    remember(addresses, key, decoded);
    return decoded;
  }

  private String processName(ByteBuffer buffer, int offset) {
    buffer.get(offset + PROCESS_NAME, nameBytes);
    long pid = Integer.toUnsignedLong(buffer.getInt(offset + PID));
    if (lastName != null && lastName.pid == pid && Arrays.equals(lastName.raw, nameBytes)) {
      return lastName.name;
    }
    CachedName cached = names.get(pid);
    if (cached == null || !Arrays.equals(cached.raw, nameBytes)) {
      int length = 0;
      while (length < PROCESS_NAME_SIZE && nameBytes[length] != 0) {
        length++;
      }
      cached = new CachedName(pid, nameBytes.clone(), new String(nameBytes, 0, length, StandardCharsets.UTF_8));
      remember(names, pid, cached);
    }
    lastName = cached;
    return cached.name;
  }

  private static <K, V> void remember(Map<K, V> cache, K key, V value) {
    if (cache.size() >= CACHE_LIMIT) {
      cache.clear();
    }
    cache.put(key, value);
  }

  private record CachedName(long pid, byte[] raw, String name) {}

  private record AddressKey(int family, int port, int scope, long high, long low) {}
}
