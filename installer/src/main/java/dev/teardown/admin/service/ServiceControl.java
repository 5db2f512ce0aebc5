package dev.teardown.admin.service;

import java.time.Duration;

/**
 * The service control manager calls the recorder's service needs: implemented over Advapi32 on
 * Windows ({@link WindowsServiceControl}), in memory by the tests.
 */
public interface ServiceControl {
  /** Where a service stands. */
  enum State { ABSENT, STOPPED, START_PENDING, RUNNING, STOP_PENDING, OTHER }

  /**
   * A service to create: it starts at boot, runs as LocalSystem in its own process, and is
   * restarted by the service control manager when it fails.
   */
  record Spec(String name, String displayName, String description, String commandLine) {}

  /** A call the service control manager refused, with the Windows error it gave. */
  final class ServiceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ServiceException(String message) {
      super(message);
    }
  }

  State state(String name);

  void create(Spec spec);

  void start(String name);

  /** Asks the service to stop and waits for it, up to {@code timeout}; false if it did not. */
  boolean stop(String name, Duration timeout);

  void delete(String name);
}
