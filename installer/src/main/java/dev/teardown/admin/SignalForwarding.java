package dev.teardown.admin;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code teardown run} does with the signals that end a program: SIGINT, SIGTERM and SIGHUP
 * sent to teardown go to the program it runs, and teardown waits for the program to end (it exits
 * with the program's status, 128 + the signal's number for a program a signal ended).
 *
 * <p>A SIGINT typed at the terminal reaches every process of the terminal's foreground group, the
 * program included: forwarding it too would interrupt the program twice. So SIGINT is forwarded
 * only when teardown does not run in the terminal's foreground group (sent by {@code kill}, by
 * {@code timeout}, by a service manager); SIGTERM and SIGHUP always are.
 *
 * <p>The JVM's signal handling is reached through {@code sun.misc.Signal} (module jdk.unsupported,
 * open to every program), by reflection: compiled against directly, it is a warning this build
 * refuses.
 */
final class SignalForwarding implements AutoCloseable {
  static final List<String> SIGNALS = List.of("INT", "TERM", "HUP");

  interface Libc extends Library {
    Libc INSTANCE = Platform.isLinux() || Platform.isMac() ? Native.load("c", Libc.class) : null;

    int kill(int pid, int signal);

    int getpgrp();

    int tcgetpgrp(int fd);
  }

  /** One signal the JVM can be asked to hand over: its name and number. */
  private record Caught(String name, int number) {}

  private final List<Caught> pending = new ArrayList<>();
  private final List<Object> installed = new ArrayList<>();
  private final List<Object> previous = new ArrayList<>();
  private ProcessHandle program;
  private Method restore;  // sun.misc.Signal.handle, to put the previous handlers back

  private SignalForwarding() {}

  /** Forwarding installed for this process, or null where signals cannot be forwarded. */
  static SignalForwarding install() {
    if (Libc.INSTANCE == null) {
      return null;
    }
    SignalForwarding forwarding = new SignalForwarding();
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
      Method name = signalClass.getMethod("getName");
      Method number = signalClass.getMethod("getNumber");
      Object handler = Proxy.newProxyInstance(SignalForwarding.class.getClassLoader(),
          new Class<?>[] {handlerClass}, (proxy, method, arguments) -> {
            if (method.getName().equals("handle") && arguments != null && arguments.length == 1) {
              forwarding.received(new Caught((String) name.invoke(arguments[0]), (int) number.invoke(arguments[0])));
              return null;
            }
            return switch (method.getName()) {
              case "hashCode" -> System.identityHashCode(proxy);
              case "equals" -> proxy == arguments[0];
              default -> "teardown run's signal forwarding";
            };
          });
      forwarding.restore = handle;  // set first: whatever is installed below can be undone
      for (String signal : SIGNALS) {
        Object caught = signalClass.getConstructor(String.class).newInstance(signal);
        try {
          forwarding.previous.add(handle.invoke(null, caught, handler));
          forwarding.installed.add(caught);
        } catch (java.lang.reflect.InvocationTargetException refused) {
          // The JVM runs with -Xrs, or the signal is the JVM's own: its default stays.
        }
      }
    } catch (ReflectiveOperationException | RuntimeException absent) {
      forwarding.close();
      return null;  // a runtime without jdk.unsupported: the JVM's defaults stay
    }
    return forwarding;
  }

  /** The program signals now go to; any that came before it started are sent to it now. */
  void started(Process process) {
    List<Caught> early;
    synchronized (this) {
      program = process.toHandle();
      early = new ArrayList<>(pending);
      pending.clear();
    }
    for (Caught signal : early) {
      send(process.toHandle(), signal);
    }
  }

  /** The handlers from before, back in place: the program has ended. */
  @Override
  public void close() {
    for (int i = 0; i < installed.size() && restore != null; i++) {
      try {
        restore.invoke(null, installed.get(i), previous.get(i));
      } catch (ReflectiveOperationException | RuntimeException e) {
        // teardown is about to exit with the program's status: nothing to restore for
      }
    }
    installed.clear();
  }

  private void received(Caught signal) {
    ProcessHandle target;
    synchronized (this) {
      target = program;
      if (target == null) {
        pending.add(signal);
        return;
      }
    }
    send(target, signal);
  }

  private static void send(ProcessHandle target, Caught signal) {
    if (signal.name().equals("INT") && inTerminalsForeground()) {
      return; // the terminal sent it to the program as well
    }
    if (target.isAlive()) {
      Libc.INSTANCE.kill((int) target.pid(), signal.number());
    }
  }

  private static boolean inTerminalsForeground() {
    int foreground = Libc.INSTANCE.tcgetpgrp(0);
    return foreground > 0 && foreground == Libc.INSTANCE.getpgrp();
  }
}
