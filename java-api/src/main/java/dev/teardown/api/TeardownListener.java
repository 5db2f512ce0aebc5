package dev.teardown.api;

import java.util.List;

/**
 * Receives a subscription's events, on the subscription's thread.
 *
 * <p>Three things can go wrong, each told apart: events went by unread ({@link #onLost}); this
 * listener threw ({@link #onListenerFailure}: delivery goes on); reading failed ({@link #onError}:
 * the subscription has stopped). Closing the subscription or its channel ends it quietly. The
 * defaults of the last two log through {@link System.Logger} ({@code dev.teardown.api}), so that
 * nothing is lost in silence.
 */
@FunctionalInterface
public interface TeardownListener {
  /** A batch of events, oldest first; never empty. */
  void onEvents(List<TeardownEvent> events);

  /** Events that went by unread: the listener fell behind, or producers lost them. */
  default void onLost(long count) {}

  /**
   * {@link #onEvents} or {@link #onLost} threw {@code failure}: the events of that call are not
   * delivered again, and delivery goes on with the next. By default logged as a warning.
   */
  default void onListenerFailure(Throwable failure) {
    System.getLogger("dev.teardown.api").log(System.Logger.Level.WARNING,
        "a Teardown listener threw; delivery goes on with the next events", failure);
  }

  /**
   * The subscription stopped because reading the channel failed, whatever the failure: every one
   * reaches this method, and the subscription's thread then ends. Not called when the
   * subscription or its channel is closed. By default logged as an error.
   */
  default void onError(TeardownException error) {
    System.getLogger("dev.teardown.api").log(System.Logger.Level.ERROR,
        "a Teardown subscription stopped: " + error.getMessage(), error);
  }
}
