package dev.teardown.admin.service;

import com.sun.jna.platform.win32.Advapi32;
import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.Kernel32Util;
import com.sun.jna.platform.win32.WinError;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.Winsvc;
import java.time.Duration;

/** {@link ServiceControl} over the service control manager (Advapi32), through JNA. */
public final class WindowsServiceControl implements ServiceControl {
  private static final Advapi32 ADVAPI32 = Advapi32.INSTANCE;
  private static final int SERVICE_CONTROL_STOP = 1;

  @Override
  public State state(String name) {
    return withService(name, Winsvc.SERVICE_QUERY_STATUS, service -> {
      if (service == null) {
        return State.ABSENT;
      }
      Winsvc.SERVICE_STATUS status = new Winsvc.SERVICE_STATUS();
      check(ADVAPI32.QueryServiceStatus(service, status), "QueryServiceStatus " + name);
      return switch (status.dwCurrentState) {
        case Winsvc.SERVICE_STOPPED -> State.STOPPED;
        case Winsvc.SERVICE_START_PENDING -> State.START_PENDING;
        case Winsvc.SERVICE_RUNNING -> State.RUNNING;
        case Winsvc.SERVICE_STOP_PENDING -> State.STOP_PENDING;
        default -> State.OTHER;
      };
    });
  }

  @Override
  public void create(Spec spec) {
    Winsvc.SC_HANDLE manager = openManager(Winsvc.SC_MANAGER_ALL_ACCESS);
    try {
      Winsvc.SC_HANDLE service = ADVAPI32.CreateService(manager, spec.name(), spec.displayName(),
          Winsvc.SERVICE_ALL_ACCESS, WinNT.SERVICE_WIN32_OWN_PROCESS, WinNT.SERVICE_AUTO_START,
          WinNT.SERVICE_ERROR_NORMAL, spec.commandLine(), null, null, null, null, null);
      check(service != null, "CreateService " + spec.name());
      try {
        Winsvc.SERVICE_DESCRIPTION description = new Winsvc.SERVICE_DESCRIPTION();
        description.lpDescription = spec.description();
        check(ADVAPI32.ChangeServiceConfig2(service, Winsvc.SERVICE_CONFIG_DESCRIPTION, description),
            "ChangeServiceConfig2 description");
        // Restarted 5 s after a failure, three times, the count reset after a day.
        Winsvc.SC_ACTION.ByReference restart = new Winsvc.SC_ACTION.ByReference();
        Winsvc.SC_ACTION[] actions = (Winsvc.SC_ACTION[]) restart.toArray(3);
        for (Winsvc.SC_ACTION action : actions) {
          action.type = Winsvc.SC_ACTION_RESTART;
          action.delay = 5000;
          action.write();  // all three: JNA writes only the first, the one referenced
        }
        Winsvc.SERVICE_FAILURE_ACTIONS failure = new Winsvc.SERVICE_FAILURE_ACTIONS();
        failure.dwResetPeriod = 86400;
        failure.cActions = actions.length;
        failure.lpsaActions = restart;
        check(ADVAPI32.ChangeServiceConfig2(service, Winsvc.SERVICE_CONFIG_FAILURE_ACTIONS, failure),
            "ChangeServiceConfig2 failure actions");
      } finally {
        ADVAPI32.CloseServiceHandle(service);
      }
    } finally {
      ADVAPI32.CloseServiceHandle(manager);
    }
  }

  @Override
  public void start(String name) {
    withService(name, Winsvc.SERVICE_START, service -> {
      check(service != null, "OpenService " + name);
      check(ADVAPI32.StartService(service, 0, null), "StartService " + name);
      return null;
    });
  }

  @Override
  public boolean stop(String name, Duration timeout) {
    return withService(name, Winsvc.SERVICE_STOP | Winsvc.SERVICE_QUERY_STATUS, service -> {
      if (service == null) {
        return true;
      }
      Winsvc.SERVICE_STATUS status = new Winsvc.SERVICE_STATUS();
      if (!ADVAPI32.ControlService(service, SERVICE_CONTROL_STOP, status)
          && Kernel32.INSTANCE.GetLastError() != WinError.ERROR_SERVICE_NOT_ACTIVE) {
        check(false, "ControlService STOP " + name);
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        check(ADVAPI32.QueryServiceStatus(service, status), "QueryServiceStatus " + name);
        if (status.dwCurrentState == Winsvc.SERVICE_STOPPED) {
          return true;
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return false;
    });
  }

  @Override
  public void delete(String name) {
    withService(name, WinNT.DELETE, service -> {
      if (service != null) {
        check(ADVAPI32.DeleteService(service), "DeleteService " + name);
      }
      return null;
    });
  }

  private interface WithHandle<T> {
    T apply(Winsvc.SC_HANDLE service);
  }

  /** Runs {@code body} with the service opened for {@code access}, or with null when there is none. */
  private static <T> T withService(String name, int access, WithHandle<T> body) {
    Winsvc.SC_HANDLE manager = openManager(Winsvc.SC_MANAGER_CONNECT);
    try {
      Winsvc.SC_HANDLE service = ADVAPI32.OpenService(manager, name, access);
      if (service == null) {
        int error = Kernel32.INSTANCE.GetLastError();
        if (error != WinError.ERROR_SERVICE_DOES_NOT_EXIST) {
          throw failure("OpenService " + name, error);
        }
        return body.apply(null);
      }
      try {
        return body.apply(service);
      } finally {
        ADVAPI32.CloseServiceHandle(service);
      }
    } finally {
      ADVAPI32.CloseServiceHandle(manager);
    }
  }

  private static Winsvc.SC_HANDLE openManager(int access) {
    Winsvc.SC_HANDLE manager = ADVAPI32.OpenSCManager(null, null, access);
    check(manager != null, "OpenSCManager");
    return manager;
  }

  private static void check(boolean ok, String call) {
    if (!ok) {
      throw failure(call, Kernel32.INSTANCE.GetLastError());
    }
  }

  private static ServiceException failure(String call, int error) {
    return new ServiceException(call + " failed: error " + error + " (" + Kernel32Util.formatMessageFromLastErrorCode(error).strip() + ")");
  }
}
