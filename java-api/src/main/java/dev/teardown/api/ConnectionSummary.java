package dev.teardown.api;

import java.time.Duration;
import java.util.Objects;

/**
 * What a connection amounted to, recorded with its close.
 *
 * @param lifetime from the socket's creation (or acceptance) to its close
 * @param bytesSent payload bytes sent by this side
 * @param bytesReceived payload bytes received by this side
 * @param firstShutdown which side began the teardown
 * @param ending whether it ended gracefully or abortively
 */
public record ConnectionSummary(
    Duration lifetime, long bytesSent, long bytesReceived, Initiator firstShutdown, Ending ending) {

  public ConnectionSummary {
    Objects.requireNonNull(lifetime, "lifetime");
    Objects.requireNonNull(firstShutdown, "firstShutdown");
    Objects.requireNonNull(ending, "ending");
  }
}
