package dev.teardown.api;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** Events delivered to a listener on a daemon thread; close it to stop. */
public final class Subscription implements AutoCloseable {
  private final EventReader reader;
  private final TeardownListener listener;
  private final long idleNanos;
  private final Thread thread;
  private volatile boolean running = true;

  Subscription(EventReader reader, TeardownListener listener, Duration idle) {
    this.reader = reader;
    this.listener = listener;
    this.idleNanos = idle.toNanos();
    this.thread = new Thread(this::run, "teardown-subscription");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      while (running) {
        EventReader.Batch batch = reader.read();
        if (batch.lost() > 0) {
          listener.onLost(batch.lost());
        }
        if (!batch.events().isEmpty()) {
          listener.onEvents(batch.events());
        } else {
          LockSupport.parkNanos(idleNanos);
        }
      }
    } catch (TeardownException e) {
      running = false;
      listener.onError(e);
    } catch (RuntimeException | Error e) {
      // Every failure reaches the listener: the thread never dies in silence.
      running = false;
      listener.onError(new TeardownException(
          TeardownException.Status.INTERNAL, "reading events failed: " + e, e));
    } finally {
      reader.close();
    }
  }

  /** Whether events are still being delivered. */
  public boolean isRunning() {
    return running && thread.isAlive();
  }

  /** Stops delivery and waits (up to a second) for the listener's current call to return. */
  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    if (Thread.currentThread() != thread) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
