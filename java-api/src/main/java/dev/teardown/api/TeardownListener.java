package dev.teardown.api;

import java.util.List;

/** Receives a subscription's events, on the subscription's thread. */
@FunctionalInterface
public interface TeardownListener {
  /** A batch of events, oldest first; never empty. */
  void onEvents(List<TeardownEvent> events);

  /** Events that went by unread: the listener fell behind, or producers lost them. */
  default void onLost(long count) {}

  /**
   * The subscription stopped because reading failed, whatever the failure: every one reaches
   * this method, and the subscription's thread then ends.
   */
  default void onError(TeardownException error) {}
}
