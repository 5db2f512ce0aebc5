package dev.teardown.api.internal;

import static dev.teardown.api.internal.EventRecordLayout.*;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.FramingError;
import dev.teardown.api.Initiator;
import dev.teardown.api.KernelView;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TcpState;
import dev.teardown.api.TeardownEvent;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Turns native event records into {@link TeardownEvent}s. Records come from shared memory that
 * any local process can write, so every field is checked: a record that does not make sense is
 * rejected ({@link #decode} returns null), never trusted. Process names and endpoints repeat
 * from event to event and are cached, which keeps decoding allocation-light.
 *
 * <p>Not thread-safe: one decoder per reader.
 */
public final class EventDecoder {
  private static final EventKind[] KINDS = new EventKind[16];
  private static final ShutdownHow[] HOWS = ShutdownHow.values();
  private static final CloseMode[] MODES = CloseMode.values();
  private static final Initiator[] INITIATORS = Initiator.values();
  private static final Ending[] ENDINGS = Ending.values();

  static {
    for (EventKind kind : EventKind.values()) {
      KINDS[kind.code()] = kind;
    }
  }

  private final IntFunction<String> users;
  // A direct-mapped cache of process names by pid: a lookup boxes nothing and allocates nothing.
  private static final int NAME_CACHE_BITS = 8;
  private final CachedName[] names = new CachedName[1 << NAME_CACHE_BITS];
  // A direct-mapped cache of endpoints: compared field by field, so a lookup allocates nothing.
  private static final int ADDRESS_CACHE_BITS = 10;
  private final InetSocketAddress[] cachedAddress = new InetSocketAddress[1 << ADDRESS_CACHE_BITS];
  private final int[] cachedMeta = new int[1 << ADDRESS_CACHE_BITS];
  private final int[] cachedScope = new int[1 << ADDRESS_CACHE_BITS];
  private final long[] cachedHigh = new long[1 << ADDRESS_CACHE_BITS];
  private final long[] cachedLow = new long[1 << ADDRESS_CACHE_BITS];

  /** A decoder for records not read from a channel: their user is empty. */
  public EventDecoder() { this(user -> ""); }

  /**
   * A decoder for a reader's records: {@code users} names the user a record's {@code user} field
   * stands for, or returns null when the index is not the reader's.
   */
  public EventDecoder(IntFunction<String> users) { this.users = users; }

  /**
   * Whether the record at {@code offset} makes sense: what {@link #decode} checks, without
   * decoding anything or allocating.
   */
  public boolean valid(ByteBuffer records, int offset) {
    ByteBuffer buffer = little(records);
    return checkedKind(buffer, offset) != null && users.apply(buffer.getInt(offset + USER)) != null;
  }

  /** The record's kind if its fields make sense together (its user aside), else null. */
  private static EventKind checkedKind(ByteBuffer buffer, int offset) {
    int kindCode = Short.toUnsignedInt(buffer.getShort(offset + KIND));
    EventKind kind = kindCode < KINDS.length ? KINDS[kindCode] : null;
    int detail = Byte.toUnsignedInt(buffer.get(offset + DETAIL));
    int capturedLength = Short.toUnsignedInt(buffer.getShort(offset + CAPTURED_LENGTH));
    long dataLength = Integer.toUnsignedLong(buffer.getInt(offset + DATA_LENGTH));
    if (kind == null || capturedLength > CAPTURE_MAX || capturedLength > dataLength) {
      return null;
    }
    if (kind == EventKind.SHUTDOWN && detail >= HOWS.length
        || kind == EventKind.CLOSE && (detail < 1 || detail > 3)) {
      return null;
    }
    int flags = Short.toUnsignedInt(buffer.getShort(offset + FLAGS));
    if (kind == EventKind.RESET && (flags & EventFlag.FRAMING.bit()) != 0
        && FramingError.of(detail) == null) {
      return null;
    }
    if (!knownFamily(buffer, offset + LOCAL) || !knownFamily(buffer, offset + REMOTE)) {
      return null;
    }
    int first = Byte.toUnsignedInt(buffer.get(offset + FIRST_SHUTDOWN));
    int ending = Byte.toUnsignedInt(buffer.get(offset + ENDING));
    int kernelState = Byte.toUnsignedInt(buffer.get(offset + KERNEL_STATE));
    return first < INITIATORS.length && ending < ENDINGS.length && TcpState.of(kernelState) != null
        ? kind : null;
  }

  /** Decodes the record at {@code offset}; null if the record is malformed. */
  public TeardownEvent decode(ByteBuffer records, int offset) {
    ByteBuffer buffer = little(records);
    EventKind kind = checkedKind(buffer, offset);
    String user = kind == null ? null : users.apply(buffer.getInt(offset + USER));
    if (user == null) {
      return null;
    }
    int detail = Byte.toUnsignedInt(buffer.get(offset + DETAIL));
    int flags = Short.toUnsignedInt(buffer.getShort(offset + FLAGS));
    InetSocketAddress local = address(buffer, offset + LOCAL);
    InetSocketAddress remote = address(buffer, offset + REMOTE);
    if (local == INVALID || remote == INVALID) {
      return null;
    }
    int capturedLength = Short.toUnsignedInt(buffer.getShort(offset + CAPTURED_LENGTH));
    byte[] captured = null;
    if (capturedLength > 0) {
      captured = new byte[capturedLength];
      buffer.get(offset + CAPTURED, captured);
    }
    return new TeardownEvent(
        buffer.getLong(offset + SEQUENCE),
        buffer.getLong(offset + TIME_NS),
        Integer.toUnsignedLong(buffer.getInt(offset + PID)),
        processName(buffer, offset),
        buffer.getLong(offset + SOCKET_ID),
        Short.toUnsignedInt(buffer.getShort(offset + PROTOCOL)),
        Byte.toUnsignedInt(buffer.get(offset + SOCKET_TYPE)),
        kind,
        buffer.getInt(offset + ERROR),
        kind == EventKind.SHUTDOWN ? HOWS[detail] : null,
        kind == EventKind.CLOSE ? MODES[detail - 1] : null,
        Duration.ofSeconds(Short.toUnsignedInt(buffer.getShort(offset + LINGER_SECONDS))),
        EventFlag.fromBits(flags),
        Integer.toUnsignedLong(buffer.getInt(offset + DATA_LENGTH)),
        captured,
        local,
        remote,
        summary(buffer, offset),
        kind == EventKind.RESET && (flags & EventFlag.FRAMING.bit()) != 0
            ? FramingError.of(detail) : null,
        user,
        Byte.toUnsignedInt(buffer.get(offset + OS_ERROR)),
        (flags & EventFlag.KERNEL_VIEW.bit()) != 0 ? kernel(buffer, offset) : null);
  }

  /** The kernel's view in the record at {@code offset}. */
  private static KernelView kernel(ByteBuffer buffer, int offset) {
    return KernelViewCodec.read(buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(offset + KERNEL));
  }

  /**
   * A valid record's connection summary: a CLOSE's with an ending, or a CONNECT_FAILED's (the
   * attempt's length); else null.
   */
  public ConnectionSummary summary(ByteBuffer records, int offset) {
    ByteBuffer buffer = little(records);
    int ending = Byte.toUnsignedInt(buffer.get(offset + ENDING));
    int kind = Short.toUnsignedInt(buffer.getShort(offset + KIND));
    if (kind == EventKind.CONNECT_FAILED.code()) {
      return new ConnectionSummary(Duration.ofNanos(buffer.getLong(offset + LIFETIME_NS)), 0, 0,
          Initiator.NONE, Ending.NONE);
    }
    if (kind != EventKind.CLOSE.code() || ending == 0) {
      return null;
    }
    return new ConnectionSummary(
        Duration.ofNanos(buffer.getLong(offset + LIFETIME_NS)),
        buffer.getLong(offset + BYTES_SENT),
        buffer.getLong(offset + BYTES_RECEIVED),
        INITIATORS[Byte.toUnsignedInt(buffer.get(offset + FIRST_SHUTDOWN))],
        ENDINGS[ending],
        TcpState.of(Byte.toUnsignedInt(buffer.get(offset + KERNEL_STATE))));
  }

  /** A valid record's local endpoint ({@code remote} false) or peer, from the cache; or null. */
  public InetSocketAddress endpoint(ByteBuffer records, int offset, boolean remote) {
    InetSocketAddress address = address(little(records), offset + (remote ? REMOTE : LOCAL));
    return address == INVALID ? null : address;
  }

  /** A valid record's process name, from the cache. */
  public String processName(ByteBuffer records, int offset) {
    ByteBuffer buffer = little(records);
    long pid = Integer.toUnsignedLong(buffer.getInt(offset + PID));
    int slot = (int) ((pid * 0x9E3779B97F4A7C15L) >>> (64 - NAME_CACHE_BITS));
    CachedName cached = names[slot];
    if (cached == null || cached.pid != pid || !cached.matches(buffer, offset + PROCESS_NAME)) {
      cached = CachedName.read(pid, buffer, offset + PROCESS_NAME);
      names[slot] = cached;
    }
    return cached.name;
  }

  /** A valid record's user. */
  public String user(ByteBuffer records, int offset) {
    return users.apply(little(records).getInt(offset + USER));
  }

  private static ByteBuffer little(ByteBuffer records) {
    return records.order() == ByteOrder.LITTLE_ENDIAN
        ? records
        : records.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static boolean knownFamily(ByteBuffer buffer, int at) {
    int family = Byte.toUnsignedInt(buffer.get(at + ADDRESS_FAMILY));
    return family == FAMILY_NONE || family == FAMILY_IPV4 || family == FAMILY_IPV6;
  }

  private static final InetSocketAddress INVALID = InetSocketAddress.createUnresolved("invalid", 0);

  // The cache's hit path is kept small enough for the JIT to inline into decode; a miss goes
  // to decodeAddress.
  private InetSocketAddress address(ByteBuffer buffer, int at) {
    int family = Byte.toUnsignedInt(buffer.get(at + ADDRESS_FAMILY));
    if (family == FAMILY_NONE) {
      return null;
    }
    if (family != FAMILY_IPV4 && family != FAMILY_IPV6) {
      return INVALID;
    }
    int port = Short.toUnsignedInt(buffer.getShort(at + ADDRESS_PORT));
    int scope = buffer.getInt(at + ADDRESS_SCOPE_ID);
    long high = buffer.getLong(at + ADDRESS_BYTES);
    long low = family == FAMILY_IPV6 ? buffer.getLong(at + ADDRESS_BYTES + 8) : 0;
    int meta = family << 16 | port;
    int slot = addressSlot(meta, scope, high, low);
    InetSocketAddress cached = cachedAddress[slot];
    if (cached != null
        && cachedMeta[slot] == meta
        && cachedScope[slot] == scope
        && cachedHigh[slot] == high
        && cachedLow[slot] == low) {
      return cached;
    }
    return decodeAddress(buffer, at, slot, meta, scope, high, low);
  }

  private InetSocketAddress decodeAddress(
      ByteBuffer buffer, int at, int slot, int meta, int scope, long high, long low) {
    int family = meta >>> 16;
    byte[] bytes = new byte[family == FAMILY_IPV4 ? 4 : 16];
    buffer.get(at + ADDRESS_BYTES, bytes, 0, bytes.length);
    InetAddress address;
    try {
      address =
          family == FAMILY_IPV6 && scope != 0
              ? Inet6Address.getByAddress(null, bytes, scope)
              : InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return INVALID;
    }
    InetSocketAddress decoded = new InetSocketAddress(address, meta & 0xFFFF);
    cachedAddress[slot] = decoded;
    cachedMeta[slot] = meta;
    cachedScope[slot] = scope;
    cachedHigh[slot] = high;
    cachedLow[slot] = low;
    return decoded;
  }

  private static int addressSlot(int meta, int scope, long high, long low) {
    long h = (high ^ Long.rotateLeft(low, 17) ^ ((long) meta << 32) ^ scope) * 0x9E3779B97F4A7C15L;
    return (int) (h >>> (64 - ADDRESS_CACHE_BITS));
  }

  /**
   * A decoded name with the raw words that decide it: those up to and including its terminating
   * NUL (a name is read up to its first NUL, so the bytes after it never change it), compared
   * without copying them out.
   */
  private record CachedName(long pid, long[] words, String name) {
    static CachedName read(long pid, ByteBuffer buffer, int at) {
      byte[] bytes = new byte[PROCESS_NAME_SIZE];
      buffer.get(at, bytes);
      int length = 0;
      while (length < PROCESS_NAME_SIZE && bytes[length] != 0) {
        length++;
      }
      // The words holding the name and its NUL (all of them for a name that fills the field).
      long[] words = new long[Math.min(PROCESS_NAME_SIZE, length + 1 + 7) / 8];
      for (int i = 0; i < words.length; i++) {
        words[i] = buffer.getLong(at + 8 * i);
      }
      return new CachedName(pid, words, new String(bytes, 0, length, StandardCharsets.UTF_8));
    }

    boolean matches(ByteBuffer buffer, int at) {
      for (int i = 0; i < words.length; i++) {
        if (buffer.getLong(at + 8 * i) != words[i]) {
          return false;
        }
      }
      return true;
    }
  }
}
