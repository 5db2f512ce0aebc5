package dev.teardown.api;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The channel's counters, kept by producers: exact across every process.
 *
 * @param produced events given a sequence number
 * @param dropped events a producer could not complete because faster producers lapped it
 * @param published events published, by kind
 */
public record Counters(long produced, long dropped, Map<EventKind, Long> published) {

  public Counters {
    Objects.requireNonNull(published, "published");
    EnumMap<EventKind, Long> copy = new EnumMap<>(EventKind.class);
    for (EventKind kind : EventKind.values()) {
      copy.put(kind, published.getOrDefault(kind, 0L));
    }
    published = Collections.unmodifiableMap(copy);
  }

  /** Events of this kind published so far. */
  public long published(EventKind kind) {
    return published.get(kind);
  }
}
