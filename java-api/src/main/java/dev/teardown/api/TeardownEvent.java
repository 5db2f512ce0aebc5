package dev.teardown.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One teardown event, as recorded by the layer in the process that owns the socket.
 *
 * @param sequence its position in its ring: unique there, and rising in the order each thread
 *     published (see {@link RingPosition})
 * @param timeNanos when the layer recorded it: wall clock, nanoseconds since 1970-01-01 UTC
 *     (see {@link #time()})
 * @param pid the process
 * @param processName the process's executable name
 * @param socketId the socket handle or descriptor the application sees
 * @param protocol IP protocol number (6 for TCP)
 * @param socketType 1 stream, 2 datagram, 5 sequenced packets
 * @param kind what happened
 * @param error Winsock error of the call or indication, 0 if none (see {@link WinsockErrors})
 * @param shutdownHow for {@link EventKind#SHUTDOWN}, which direction; otherwise null
 * @param closeMode for {@link EventKind#CLOSE}, how the close was performed; otherwise null
 * @param linger for a {@link CloseMode#GRACEFUL_LINGER} close, the linger timeout; else zero
 * @param flags circumstances of the event (see {@link EventFlag})
 * @param dataLength bytes of disconnect data the call sent or received
 * @param captured the first bytes of that data, as far as capture was configured
 * @param local the local endpoint, or null if the socket had none
 * @param remote the remote endpoint, or null if the socket had none
 * @param summary for a completed {@link EventKind#CLOSE}, the connection summary; otherwise null
 * @param framingError for a {@link EventKind#RESET} the layer made because the peer's stream was
 *     not framed as agreed ({@link EventFlag#FRAMING}), what was wrong with it; otherwise null
 * @param user who owns the ring the event was read from: the user the process ran as ("alice",
 *     "NT AUTHORITY\\SYSTEM"). Set by the reader from the ring's owner, never from what the
 *     process wrote, so no user can record in another's name. Empty for an event not read from a
 *     channel.
 * @param osError the error as the program saw it where the platform's numbers differ from
 *     Winsock's (Linux: the errno, 32 for EPIPE; see {@link #osErrorName()}), else 0
 * @param kernel what the kernel told of the connection with this event ({@link
 *     EventFlag#KERNEL_VIEW}), or null
 */
public record TeardownEvent(
    long sequence,
    long timeNanos,
    long pid,
    String processName,
    long socketId,
    int protocol,
    int socketType,
    EventKind kind,
    int error,
    ShutdownHow shutdownHow,
    CloseMode closeMode,
    Duration linger,
    Set<EventFlag> flags,
    long dataLength,
    byte[] captured,
    InetSocketAddress local,
    InetSocketAddress remote,
    ConnectionSummary summary,
    FramingError framingError,
    String user,
    int osError,
    KernelView kernel) {

  private static final byte[] NONE = new byte[0];

  public TeardownEvent {
    Objects.requireNonNull(processName, "processName");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(linger, "linger");
    flags = EventFlag.shared(Objects.requireNonNull(flags, "flags"));
    if ((kernel != null) != flags.contains(EventFlag.KERNEL_VIEW)) {
      throw new IllegalArgumentException("the kernel's view goes with the KERNEL_VIEW flag, and only there");
    }
    if (osError < 0 || osError > 255) {
      throw new IllegalArgumentException("osError out of range: " + osError);
    }
    if ((framingError != null) != (kind == EventKind.RESET && flags.contains(EventFlag.FRAMING))) {
      throw new IllegalArgumentException(
          "a framing error goes with a RESET flagged FRAMING, and only there: " + kind + " " + flags);
    }
    captured = captured == null || captured.length == 0 ? NONE : captured.clone();
    if (captured.length > dataLength) {
      throw new IllegalArgumentException(
          "captured holds " + captured.length + " bytes but dataLength is " + dataLength);
    }
  }

  /** An event with neither the program's own error number nor the kernel's view. */
  public TeardownEvent(
      long sequence,
      long timeNanos,
      long pid,
      String processName,
      long socketId,
      int protocol,
      int socketType,
      EventKind kind,
      int error,
      ShutdownHow shutdownHow,
      CloseMode closeMode,
      Duration linger,
      Set<EventFlag> flags,
      long dataLength,
      byte[] captured,
      InetSocketAddress local,
      InetSocketAddress remote,
      ConnectionSummary summary,
      FramingError framingError,
      String user) {
    this(sequence, timeNanos, pid, processName, socketId, protocol, socketType, kind, error,
        shutdownHow, closeMode, linger, flags, dataLength, captured, local, remote, summary,
        framingError, user, 0, null);
  }

  /** An event not read from a channel (to publish, or in tests): no user. */
  public TeardownEvent(
      long sequence,
      long timeNanos,
      long pid,
      String processName,
      long socketId,
      int protocol,
      int socketType,
      EventKind kind,
      int error,
      ShutdownHow shutdownHow,
      CloseMode closeMode,
      Duration linger,
      Set<EventFlag> flags,
      long dataLength,
      byte[] captured,
      InetSocketAddress local,
      InetSocketAddress remote,
      ConnectionSummary summary,
      FramingError framingError) {
    this(sequence, timeNanos, pid, processName, socketId, protocol, socketType, kind, error,
        shutdownHow, closeMode, linger, flags, dataLength, captured, local, remote, summary,
        framingError, "");
  }

  /**
   * A builder for an event of {@code kind}, for tests of one's own listeners and for tools that
   * publish: everything else starts as an event of nothing in particular (sequence 0, now, this
   * process, socket 0, TCP stream, no error, no endpoints, no flags) and is checked when built.
   */
  public static Builder builder(EventKind kind) {
    return new Builder(Objects.requireNonNull(kind, "kind"));
  }

  /** A builder that starts from this event. */
  public Builder toBuilder() {
    Builder builder = new Builder(kind);
    builder.sequence = sequence;
    builder.timeNanos = timeNanos;
    builder.pid = pid;
    builder.processName = processName;
    builder.socketId = socketId;
    builder.protocol = protocol;
    builder.socketType = socketType;
    builder.error = error;
    builder.shutdownHow = shutdownHow;
    builder.closeMode = closeMode;
    builder.linger = linger;
    builder.flags = EnumSet.noneOf(EventFlag.class);
    builder.flags.addAll(flags);
    builder.dataLength = dataLength;
    builder.captured = captured;
    builder.local = local;
    builder.remote = remote;
    builder.summary = summary;
    builder.framingError = framingError;
    builder.user = user;
    builder.osError = osError;
    builder.kernel = kernel;
    return builder;
  }

  /** This process, as a built event names it by default: asked of the system once, when first needed. */
  private static final class ThisProcess {
    static final long PID = ProcessHandle.current().pid();
    static final String NAME = ProcessHandle.current().info().command()
        .map(command -> java.nio.file.Path.of(command).getFileName().toString()).orElse("");
  }

  /** Builds a {@link TeardownEvent}; {@link #build()} checks it as the constructor does. */
  public static final class Builder {
    private EventKind kind;
    private long sequence;
    private long timeNanos = epochNanos(Instant.now());
    private long pid = ThisProcess.PID;
    private String processName = ThisProcess.NAME;
    private long socketId;
    private int protocol = 6;
    private int socketType = 1;
    private int error;
    private ShutdownHow shutdownHow;
    private CloseMode closeMode;
    private Duration linger = Duration.ZERO;
    private EnumSet<EventFlag> flags = EnumSet.noneOf(EventFlag.class);
    private long dataLength;
    private byte[] captured;
    private InetSocketAddress local;
    private InetSocketAddress remote;
    private ConnectionSummary summary;
    private FramingError framingError;
    private String user = "";
    private int osError;
    private KernelView kernel;

    private Builder(EventKind kind) {
      this.kind = kind;
    }

    public Builder kind(EventKind value) {
      kind = Objects.requireNonNull(value, "kind");
      return this;
    }

    public Builder sequence(long value) {
      sequence = value;
      return this;
    }

    public Builder time(Instant value) {
      timeNanos = epochNanos(Objects.requireNonNull(value, "time"));
      return this;
    }

    public Builder timeNanos(long value) {
      timeNanos = value;
      return this;
    }

    public Builder pid(long value) {
      pid = value;
      return this;
    }

    public Builder processName(String value) {
      processName = value;
      return this;
    }

    public Builder socketId(long value) {
      socketId = value;
      return this;
    }

    public Builder protocol(int value) {
      protocol = value;
      return this;
    }

    public Builder socketType(int value) {
      socketType = value;
      return this;
    }

    /** The Winsock error (see {@link WinsockErrors}). */
    public Builder error(int value) {
      error = value;
      return this;
    }

    public Builder shutdownHow(ShutdownHow value) {
      shutdownHow = value;
      return this;
    }

    public Builder closeMode(CloseMode value) {
      closeMode = value;
      return this;
    }

    public Builder linger(Duration value) {
      linger = value;
      return this;
    }

    public Builder flags(Set<EventFlag> value) {
      flags = value.isEmpty() ? EnumSet.noneOf(EventFlag.class) : EnumSet.copyOf(value);
      return this;
    }

    public Builder flag(EventFlag value) {
      flags.add(Objects.requireNonNull(value, "flag"));
      return this;
    }

    public Builder dataLength(long value) {
      dataLength = value;
      return this;
    }

    /** The captured bytes of the disconnect data (at most {@link #dataLength(long)} of them). */
    public Builder captured(byte[] value) {
      captured = value == null ? null : value.clone();
      return this;
    }

    /** Disconnect data sent or received, all of it captured: its length and its bytes. */
    public Builder disconnectData(byte[] value) {
      dataLength = value.length;
      captured = value.clone();
      return this;
    }

    public Builder local(InetSocketAddress value) {
      local = value;
      return this;
    }

    public Builder remote(InetSocketAddress value) {
      remote = value;
      return this;
    }

    public Builder summary(ConnectionSummary value) {
      summary = value;
      return this;
    }

    /** What was wrong with the peer's framing; also flags the event {@link EventFlag#FRAMING}. */
    public Builder framingError(FramingError value) {
      framingError = value;
      if (value != null) {
        flags.add(EventFlag.FRAMING);
      }
      return this;
    }

    public Builder user(String value) {
      user = value;
      return this;
    }

    public Builder osError(int value) {
      osError = value;
      return this;
    }

    /** The kernel's view; also sets or clears {@link EventFlag#KERNEL_VIEW}, which goes with it. */
    public Builder kernel(KernelView value) {
      kernel = value;
      if (value != null) {
        flags.add(EventFlag.KERNEL_VIEW);
      } else {
        flags.remove(EventFlag.KERNEL_VIEW);
      }
      return this;
    }

    /**
     * The event.
     *
     * @throws IllegalArgumentException or NullPointerException naming what does not fit
     */
    public TeardownEvent build() {
      return new TeardownEvent(sequence, timeNanos, pid, processName, socketId, protocol, socketType,
          kind, error, shutdownHow, closeMode, linger, flags, dataLength, captured, local, remote,
          summary, framingError, user, osError, kernel);
    }
  }

  /** This event dated {@code timeNanos} (nanoseconds since the epoch) instead. */
  public TeardownEvent withTime(long timeNanos) {
    return new TeardownEvent(sequence, timeNanos, pid, processName, socketId, protocol, socketType,
        kind, error, shutdownHow, closeMode, linger, flags, dataLength, captured, local, remote,
        summary, framingError, user, osError, kernel);
  }

  /** This event without the bytes it captured ({@link #dataLength()} still says how many there were). */
  public TeardownEvent withoutCaptured() {
    if (captured.length == 0) {
      return this;
    }
    return new TeardownEvent(sequence, timeNanos, pid, processName, socketId, protocol, socketType,
        kind, error, shutdownHow, closeMode, linger, flags, dataLength, null, local, remote,
        summary, framingError, user, osError, kernel);
  }

  /** This event attributed to {@code user}. */
  public TeardownEvent withUser(String user) {
    return new TeardownEvent(sequence, timeNanos, pid, processName, socketId, protocol, socketType,
        kind, error, shutdownHow, closeMode, linger, flags, dataLength, captured, local, remote,
        summary, framingError, user, osError, kernel);
  }

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /** Nanoseconds since the epoch for {@code time}, the form {@link #timeNanos()} holds. */
  public static long epochNanos(Instant time) {
    return Math.addExact(Math.multiplyExact(time.getEpochSecond(), NANOS_PER_SECOND), time.getNano());
  }

  /** When the layer recorded the event. */
  public Instant time() {
    return Instant.ofEpochSecond(
        Math.floorDiv(timeNanos, NANOS_PER_SECOND), Math.floorMod(timeNanos, NANOS_PER_SECOND));
  }

  /** A copy of the captured bytes. */
  @Override
  public byte[] captured() {
    return captured.length == 0 ? NONE : captured.clone();
  }

  /** An abortive close that the abortive-to-graceful policy performed gracefully. */
  public boolean converted() {
    return flags.contains(EventFlag.CONVERTED);
  }

  /** The socket was non-blocking when the call was made. */
  public boolean nonBlocking() {
    return flags.contains(EventFlag.NON_BLOCKING);
  }

  /**
   * The error as the program saw it with Winsock's name beside it where they differ ("EPIPE
   * (WSAECONNRESET)" on Linux), else its Winsock name ("WSAECONNRESET"), or "0".
   */
  public String errorName() {
    return osError != 0 ? osErrorName() + " (" + WinsockErrors.name(error) + ")" : WinsockErrors.name(error);
  }

  /** The platform's own name for the error the program saw ("EPIPE"), or "0" where none is kept. */
  public String osErrorName() {
    return LinuxErrors.name(osError);
  }

  /** The socket came from accept: its end is the connection's responder. */
  public boolean accepted() {
    return flags.contains(EventFlag.ACCEPTED);
  }

  /** Whether the whole of the disconnect data was captured. */
  public boolean capturedAll() {
    return captured.length == dataLength;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TeardownEvent that
        && sequence == that.sequence
        && pid == that.pid
        && socketId == that.socketId
        && protocol == that.protocol
        && socketType == that.socketType
        && error == that.error
        && flags.equals(that.flags)
        && dataLength == that.dataLength
        && timeNanos == that.timeNanos
        && processName.equals(that.processName)
        && kind == that.kind
        && shutdownHow == that.shutdownHow
        && closeMode == that.closeMode
        && linger.equals(that.linger)
        && Arrays.equals(captured, that.captured)
        && Objects.equals(local, that.local)
        && Objects.equals(remote, that.remote)
        && Objects.equals(summary, that.summary)
        && framingError == that.framingError
        && user.equals(that.user)
        && osError == that.osError
        && Objects.equals(kernel, that.kernel);
  }

  @Override
  public int hashCode() {
    return Objects.hash(sequence, pid, socketId, kind, timeNanos) * 31 + Arrays.hashCode(captured);
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder(160);
    text.append('#').append(sequence).append(' ').append(kind);
    if (shutdownHow != null) {
      text.append('(').append(shutdownHow).append(')');
    }
    if (closeMode != null) {
      text.append('(').append(closeMode);
      if (closeMode == CloseMode.GRACEFUL_LINGER) {
        text.append(' ').append(linger.toSeconds()).append('s');
      }
      text.append(converted() ? ", converted)" : ")");
    }
    text.append(' ').append(processName).append('[').append(pid).append(']');
    if (!user.isEmpty()) {
      text.append(" (").append(user).append(')');
    }
    text.append(" socket ").append(socketId);
    text.append(' ').append(local).append(" -> ").append(remote);
    if (error != 0) {
      text.append(' ').append(errorName());
    }
    if (!flags.isEmpty()) {
      text.append(' ').append(flags);
    }
    if (dataLength > 0) {
      text.append(" data ").append(dataLength).append('B');
    }
    if (summary != null) {
      text.append(' ').append(summary);
    }
    if (framingError != null) {
      text.append(" framing: ").append(framingError.description());
    }
    if (kernel != null) {
      text.append(' ').append(kernel);
    }
    return text.toString();
  }
}
