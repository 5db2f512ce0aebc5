package dev.teardown.admin.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The recorder service's install and removal, against a service control manager in memory. */
class RecorderServiceTest {
  /** Services by name, and every call made, in order. */
  static final class FakeServices implements ServiceControl {
    final Map<String, State> services = new HashMap<>();
    final Map<String, Spec> specs = new HashMap<>();
    final List<String> calls = new ArrayList<>();
    boolean stopTimesOut;
    String refuse;  // a call that fails

    @Override
    public State state(String name) {
      return services.getOrDefault(name, State.ABSENT);
    }

    @Override
    public void create(Spec spec) {
      call("create " + spec.name());
      if (services.containsKey(spec.name())) {
        throw new ServiceException("CreateService failed: error 1073 (The specified service already exists.)");
      }
      services.put(spec.name(), State.STOPPED);
      specs.put(spec.name(), spec);
    }

    @Override
    public void start(String name) {
      call("start " + name);
      services.put(name, State.RUNNING);
    }

    @Override
    public boolean stop(String name, Duration timeout) {
      call("stop " + name);
      if (stopTimesOut) {
        return false;
      }
      services.put(name, State.STOPPED);
      return true;
    }

    @Override
    public void delete(String name) {
      call("delete " + name);
      services.remove(name);
    }

    private void call(String call) {
      calls.add(call);
      if (call.equals(refuse)) {
        throw new ServiceException(call + " failed: error 5 (Access is denied.)");
      }
    }
  }

  private static final String LINE = RecorderService.commandLine(
      Path.of("C:\\Program Files\\Java\\bin\\java.exe"), Path.of("C:\\Program Files\\Teardown\\teardown.jar"),
      Path.of("C:\\ProgramData\\Teardown\\history.db"));

  @Test
  void theCommandLineQuotesWhatCommandLineToArgvWWouldSplit() {
    assertEquals("\"C:\\Program Files\\Java\\bin\\java.exe\" -jar \"C:\\Program Files\\Teardown\\teardown.jar\""
        + " record --service --db C:\\ProgramData\\Teardown\\history.db", LINE);
    assertEquals("\"C:\\dir with space\\\\\"", RecorderService.quote("C:\\dir with space\\"),
        "a trailing backslash doubled before the closing quote");
    assertEquals("\"say \\\"hi\\\"\"", RecorderService.quote("say \"hi\""));
    assertEquals("\"\"", RecorderService.quote(""));
  }

  @Test
  void installCreatesAnAutoStartServiceAndStartsIt() {
    FakeServices services = new FakeServices();
    List<String> said = new ArrayList<>();
    RecorderService.install(services, LINE, said::add);
    assertEquals(List.of("create TeardownRecorder", "start TeardownRecorder"), services.calls);
    assertEquals(ServiceControl.State.RUNNING, services.state(RecorderService.NAME));
    assertEquals(LINE, services.specs.get(RecorderService.NAME).commandLine());
    assertTrue(said.get(0).startsWith("recorder service TeardownRecorder installed: starts at boot, runs "), said.toString());
  }

  @Test
  void installingAgainReplacesTheServiceSoThatItRunsThisBuild() {
    FakeServices services = new FakeServices();
    services.services.put(RecorderService.NAME, ServiceControl.State.RUNNING);
    RecorderService.install(services, LINE, line -> {});
    assertEquals(List.of("stop TeardownRecorder", "delete TeardownRecorder", "create TeardownRecorder",
        "start TeardownRecorder"), services.calls);
  }

  @Test
  void uninstallStopsThenRemovesAndLeavesNoServiceAloneSilently() {
    FakeServices services = new FakeServices();
    List<String> said = new ArrayList<>();
    assertFalse(RecorderService.uninstall(services, said::add));
    assertEquals(List.of(), services.calls);
    assertEquals(List.of(), said);
    services.services.put(RecorderService.NAME, ServiceControl.State.RUNNING);
    assertTrue(RecorderService.uninstall(services, said::add));
    assertEquals(List.of("stop TeardownRecorder", "delete TeardownRecorder"), services.calls);
    assertEquals(ServiceControl.State.ABSENT, services.state(RecorderService.NAME));
    assertEquals(List.of("recorder service stopped (its last commit made)", "recorder service TeardownRecorder removed"), said);
  }

  @Test
  void aRecorderThatWillNotStopIsNotDeletedUnderIt() {
    FakeServices services = new FakeServices();
    services.services.put(RecorderService.NAME, ServiceControl.State.RUNNING);
    services.stopTimesOut = true;
    ServiceControl.ServiceException e = assertThrows(ServiceControl.ServiceException.class,
        () -> RecorderService.uninstall(services, line -> {}));
    assertTrue(e.getMessage().contains("did not stop within 30 s; stop it (sc stop TeardownRecorder)"), e.getMessage());
    assertEquals(List.of("stop TeardownRecorder"), services.calls);
    assertEquals(ServiceControl.State.RUNNING, services.state(RecorderService.NAME));
  }

  @Test
  void aRefusedCallIsReportedWithItsError() {
    FakeServices services = new FakeServices();
    services.refuse = "create TeardownRecorder";
    ServiceControl.ServiceException e = assertThrows(ServiceControl.ServiceException.class,
        () -> RecorderService.install(services, LINE, line -> {}));
    assertEquals("create TeardownRecorder failed: error 5 (Access is denied.)", e.getMessage());
  }
}
