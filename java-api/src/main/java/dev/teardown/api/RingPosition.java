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

  private static final java.util.regex.Pattern RING_NAME = java.util.regex.Pattern.compile("ring-[A-Za-z0-9-]+");

  public RingPosition {
    Objects.requireNonNull(ring, "ring");
    if (!isRingName(ring)) {
      throw new IllegalArgumentException("not a ring name: " + ring.codePoints().limit(MAX_RING_NAME_BYTES)
          .mapToObj(c -> c >= 0x20 && c < 0x7F ? Character.toString(c) : String.format("\\u%04x", c))
          .collect(java.util.stream.Collectors.joining("", "\"", "\"")));
    }
  }

  /**
   * Whether {@code name} is one a ring can have: {@code ring-}, then ASCII letters, digits and
   * {@code -} (a user's key, perhaps a random suffix), at most {@link #MAX_RING_NAME_BYTES} bytes.
   * Readers read no file under any other name.
   */
  public static boolean isRingName(String name) {
    return name != null && name.length() <= MAX_RING_NAME_BYTES && RING_NAME.matcher(name).matches();
  }
}
