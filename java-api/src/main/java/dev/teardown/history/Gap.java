package dev.teardown.history;

import java.time.Instant;

/**
 * Events the recorder never got: the rings overwrote them (or a producer abandoned them) before
 * it read them. They happened between {@code after} and {@code before}, in rings of {@code user}.
 *
 * @param after the time of the last event recorded before them (or when recording began)
 * @param before the time of the first event recorded after them (or when the loss was noticed)
 * @param lost how many events
 * @param user whose rings lost them (a connection's record is incomplete only for a loss of its
 *     own ends' users); null where not known (histories before schema 5)
 */
public record Gap(Instant after, Instant before, long lost, String user) {
  /** A loss whose rings' owner is not known. */
  public Gap(Instant after, Instant before, long lost) {
    this(after, before, lost, null);
  }
}
