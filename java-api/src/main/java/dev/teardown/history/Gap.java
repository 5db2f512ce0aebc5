package dev.teardown.history;

import java.time.Instant;

/**
 * Events the recorder never got: the rings overwrote them (or a producer abandoned them) before
 * it read them. They happened between {@code after} and {@code before}.
 *
 * @param after the time of the last event recorded before them (or when recording began)
 * @param before the time of the first event recorded after them (or when the loss was noticed)
 * @param lost how many events
 */
public record Gap(Instant after, Instant before, long lost) {}
