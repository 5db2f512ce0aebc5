package dev.teardown.api;

import static dev.teardown.api.internal.EventRecordLayout.*;

import dev.teardown.api.internal.EventDecoder;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;

/**
 * One event of the batch a reader has just read, seen in place: a flyweight for tools that look
 * at many events and keep few. Each accessor reads its field when asked; nothing is allocated
 * (process names, users and endpoints come from the reader's caches), except by
 * {@link #summary()}, {@link #captured()} and {@link #toEvent()}.
 *
 * <p>Only records that pass the same checks as {@link EventReader#read()}'s are shown, and a view
 * is valid only during the {@link Visitor#visit} call that received it: the reader reuses it for
 * the next record. Keep an event with {@link #toEvent()}.
 */
public final class EventView {
  /** What {@link EventReader#read(Visitor)} hands each event to. */
  @FunctionalInterface
  public interface Visitor {
    void visit(EventView event);
  }

  private static final ShutdownHow[] HOWS = ShutdownHow.values();
  private static final CloseMode[] MODES = CloseMode.values();

  private final EventDecoder decoder;
  private ByteBuffer records;
  private int offset;

  EventView(EventDecoder decoder) {
    this.decoder = decoder;
  }

  void bind(ByteBuffer records, int offset) {
    this.records = records;
    this.offset = offset;
  }

  /** The ring's sequence number of this event. */
  public long sequence() {
    return records.getLong(offset + SEQUENCE);
  }

  /** Wall-clock time of the call, nanoseconds since the epoch. */
  public long timeNanos() {
    return records.getLong(offset + TIME_NS);
  }

  public long pid() {
    return Integer.toUnsignedLong(records.getInt(offset + PID));
  }

  public String processName() {
    return decoder.processName(records, offset);
  }

  /** The user whose ring held the event. */
  public String user() {
    return decoder.user(records, offset);
  }

  public long socketId() {
    return records.getLong(offset + SOCKET_ID);
  }

  public int protocol() {
    return Short.toUnsignedInt(records.getShort(offset + PROTOCOL));
  }

  public int socketType() {
    return Byte.toUnsignedInt(records.get(offset + SOCKET_TYPE));
  }

  public EventKind kind() {
    return EventKind.fromCode(Short.toUnsignedInt(records.getShort(offset + KIND)));
  }

  /** The Winsock error the call reported, or 0. */
  public int error() {
    return records.getInt(offset + ERROR);
  }

  /** A SHUTDOWN's direction, else null. */
  public ShutdownHow shutdownHow() {
    return kind() == EventKind.SHUTDOWN ? HOWS[detail()] : null;
  }

  /** A CLOSE's mode, else null. */
  public CloseMode closeMode() {
    return kind() == EventKind.CLOSE ? MODES[detail() - 1] : null;
  }

  /** A CLOSE's linger timeout. */
  public Duration linger() {
    return Duration.ofSeconds(Short.toUnsignedInt(records.getShort(offset + LINGER_SECONDS)));
  }

  /** The flags as their native bits ({@link EventFlag#bit()}): no set is made. */
  public int flagBits() {
    return Short.toUnsignedInt(records.getShort(offset + FLAGS));
  }

  public boolean has(EventFlag flag) {
    return (flagBits() & flag.bit()) != 0;
  }

  /** The flags, as a shared immutable set. */
  public Set<EventFlag> flags() {
    return EventFlag.fromBits(flagBits());
  }

  /** Bytes of disconnect data the call sent or received. */
  public long dataLength() {
    return Integer.toUnsignedLong(records.getInt(offset + DATA_LENGTH));
  }

  /** Bytes of that data captured; {@link #captured()} copies them. */
  public int capturedLength() {
    return Short.toUnsignedInt(records.getShort(offset + CAPTURED_LENGTH));
  }

  /** A copy of the captured bytes, or null when none were captured. */
  public byte[] captured() {
    int length = capturedLength();
    if (length == 0) {
      return null;
    }
    byte[] out = new byte[length];
    records.get(offset + CAPTURED, out);
    return out;
  }

  /** The local endpoint, or null when unknown. */
  public InetSocketAddress local() {
    return decoder.endpoint(records, offset, false);
  }

  /** The remote endpoint, or null when unknown. */
  public InetSocketAddress remote() {
    return decoder.endpoint(records, offset, true);
  }

  /** The local port, or 0 when the endpoint is unknown; no address is made. */
  public int localPort() {
    return port(LOCAL);
  }

  /** The remote port, or 0 when the endpoint is unknown; no address is made. */
  public int remotePort() {
    return port(REMOTE);
  }

  /** A CLOSE's connection summary (a new object), else null. */
  public ConnectionSummary summary() {
    return decoder.summary(records, offset);
  }

  /** A RESET flagged FRAMING: what was wrong with the peer's stream; else null. */
  public FramingError framingError() {
    return kind() == EventKind.RESET && has(EventFlag.FRAMING) ? FramingError.of(detail()) : null;
  }

  /** The event as an object to keep. */
  public TeardownEvent toEvent() {
    return decoder.decode(records, offset);
  }

  private int detail() {
    return Byte.toUnsignedInt(records.get(offset + DETAIL));
  }

  private int port(int address) {
    return Byte.toUnsignedInt(records.get(offset + address + ADDRESS_FAMILY)) == FAMILY_NONE
        ? 0
        : Short.toUnsignedInt(records.getShort(offset + address + ADDRESS_PORT));
  }

  @Override
  public String toString() {
    return toEvent().toString();
  }
}
