package dev.teardown.api;

import java.util.Objects;

/**
 * Where a reader stands in one lane of a ring of a channel: the sequence of that lane's first
 * event it has not delivered. A ring is divided into lanes (each thread publishes into one), so a
 * reader has one position per lane of each ring it reads, all with the ring's name; the sequence
 * says which lane. A consumer that must neither lose nor repeat events across restarts (the
 * recorder) saves all of {@link EventReader#positions()} together with what it made of the
 * events, and reads on with {@link TeardownChannel#resume}.
 *
 * @param ring the ring's file name in the channel's rings directory
 * @param generation the ring's generation: a ring made again in place has another, and is read
 *     from its first event
 * @param nextSequence the lane's first event not yet delivered
 */
public record RingPosition(String ring, long generation, long nextSequence) {
  /** Longest ring name, in UTF-8 bytes, that a position can hold. */
  public static final int MAX_RING_NAME_BYTES = 127;

  public RingPosition {
    Objects.requireNonNull(ring, "ring");
    int bytes = ring.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes == 0 || bytes > MAX_RING_NAME_BYTES || ring.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("not a ring name: \"" + ring + "\"");
    }
  }
}
