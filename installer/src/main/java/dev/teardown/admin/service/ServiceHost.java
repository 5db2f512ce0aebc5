package dev.teardown.admin.service;

import com.sun.jna.Pointer;
import com.sun.jna.platform.win32.Advapi32;
import com.sun.jna.platform.win32.WinError;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.Winsvc;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a long task as the Windows service the service control manager started this process
 * for: reports it starting, then running, and on STOP or SHUTDOWN asks it to stop, reports the
 * stop pending while it finishes (its last commit), then stopped.
 */
public final class ServiceHost {
  /** What the host runs: {@link #run()} until {@link #stop()}. */
  public interface Task {
    void run() throws Exception;

    void stop();
  }

  private static final int SERVICE_CONTROL_STOP = 1;
  private static final int SERVICE_CONTROL_INTERROGATE = 4;
  private static final int SERVICE_CONTROL_SHUTDOWN = 5;
  private static final int SERVICE_ACCEPT_STOP = 1;
  private static final int SERVICE_ACCEPT_SHUTDOWN = 4;
  private static final int STOP_WAIT_HINT_MS = 30_000;

  private final String name;
  private final Task task;
  private final CountDownLatch finished = new CountDownLatch(1);
  // Kept reachable while the service runs: the manager calls them from its own threads.
  private Winsvc.SERVICE_MAIN_FUNCTION main;
  private Winsvc.HandlerEx handler;
  private Winsvc.SERVICE_STATUS_HANDLE statusHandle;
  private volatile int state = Winsvc.SERVICE_START_PENDING;
  private volatile int exitCode;
  private Throwable failure;
  private int checkpoint;

  private ServiceHost(String name, Task task) {
    this.name = name;
    this.task = task;
  }

  /**
   * Hands this thread to the service control manager until the service stops; returns the
   * task's failure, if it failed.
   *
   * @throws IllegalStateException when this process was not started as a service
   */
  public static Throwable serve(String name, Task task) {
    ServiceHost host = new ServiceHost(name, task);
    host.main = (argc, argv) -> host.serviceMain();
    Winsvc.SERVICE_TABLE_ENTRY entry = new Winsvc.SERVICE_TABLE_ENTRY();
    entry.lpServiceName = name;
    entry.lpServiceProc = host.main;
    Winsvc.SERVICE_TABLE_ENTRY[] table = (Winsvc.SERVICE_TABLE_ENTRY[]) entry.toArray(2);  // ends with a null entry
    if (!Advapi32.INSTANCE.StartServiceCtrlDispatcher(table)) {
      int error = com.sun.jna.platform.win32.Kernel32.INSTANCE.GetLastError();
      throw new IllegalStateException(error == WinError.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT
          ? "--service is for the service control manager: this process was not started as a service"
          : "StartServiceCtrlDispatcher failed: error " + error);
    }
    return host.failure;
  }

  private void serviceMain() {
    handler = (control, eventType, eventData, context) -> {
      if (control == SERVICE_CONTROL_STOP || control == SERVICE_CONTROL_SHUTDOWN) {
        report(Winsvc.SERVICE_STOP_PENDING, STOP_WAIT_HINT_MS);
        task.stop();
      } else if (control == SERVICE_CONTROL_INTERROGATE) {
        report(state, 0);
      }
      return WinError.NO_ERROR;
    };
    statusHandle = Advapi32.INSTANCE.RegisterServiceCtrlHandlerEx(name, handler, Pointer.NULL);
    if (statusHandle == null) {
      return;
    }
    report(Winsvc.SERVICE_START_PENDING, 10_000);
    Thread worker = new Thread(() -> {
      try {
        task.run();
      } catch (Throwable e) {
        failure = e;
        exitCode = 1;
      } finally {
        finished.countDown();
      }
    }, "teardown-service");
    worker.start();
    report(Winsvc.SERVICE_RUNNING, 0);
    try {
      while (!finished.await(5, TimeUnit.SECONDS)) {
        if (state == Winsvc.SERVICE_STOP_PENDING) {
          report(Winsvc.SERVICE_STOP_PENDING, STOP_WAIT_HINT_MS);  // still committing: a new checkpoint
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    report(Winsvc.SERVICE_STOPPED, 0);
  }

  private synchronized void report(int newState, int waitHintMs) {
    state = newState;
    Winsvc.SERVICE_STATUS status = new Winsvc.SERVICE_STATUS();
    status.dwServiceType = WinNT.SERVICE_WIN32_OWN_PROCESS;
    status.dwCurrentState = newState;
    status.dwControlsAccepted = newState == Winsvc.SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    status.dwWin32ExitCode = newState == Winsvc.SERVICE_STOPPED && exitCode != 0
        ? WinError.ERROR_SERVICE_SPECIFIC_ERROR : WinError.NO_ERROR;
    status.dwServiceSpecificExitCode = exitCode;
    boolean pending = newState == Winsvc.SERVICE_START_PENDING || newState == Winsvc.SERVICE_STOP_PENDING;
    status.dwCheckPoint = pending ? ++checkpoint : 0;
    status.dwWaitHint = waitHintMs;
    Advapi32.INSTANCE.SetServiceStatus(statusHandle, status);
  }
}
