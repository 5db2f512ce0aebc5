package dev.teardown.api;

import java.time.Duration;
import java.util.Objects;

/**
 * What a connection amounted to, recorded with its close; or, for a connect that made none
 * ({@link EventKind#CONNECT_FAILED}), how long the attempt took (ending and initiator NONE).
 *
 * @param lifetime from the socket's creation (or acceptance) to its close; for a failed connect,
 *     from the connect to its failure
 * @param bytesSent payload bytes sent by this side
 * @param bytesReceived payload bytes received by this side
 * @param firstShutdown which side began the teardown
 * @param ending whether it ended gracefully or abortively
 * @param kernelState the kernel's TCP state just before the close, {@link TcpState#UNKNOWN} if
 *     not read; {@code firstShutdown} and {@code ending} already take it into account
 */
public record ConnectionSummary(
    Duration lifetime,
    long bytesSent,
    long bytesReceived,
    Initiator firstShutdown,
    Ending ending,
    TcpState kernelState) {

  public ConnectionSummary {
    Objects.requireNonNull(lifetime, "lifetime");
    Objects.requireNonNull(firstShutdown, "firstShutdown");
    Objects.requireNonNull(ending, "ending");
    Objects.requireNonNull(kernelState, "kernelState");
  }

  /** A summary whose kernel state was not read. */
  public ConnectionSummary(
      Duration lifetime, long bytesSent, long bytesReceived, Initiator firstShutdown, Ending ending) {
    this(lifetime, bytesSent, bytesReceived, firstShutdown, ending, TcpState.UNKNOWN);
  }
}
