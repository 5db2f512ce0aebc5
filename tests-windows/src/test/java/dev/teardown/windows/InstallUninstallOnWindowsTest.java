package dev.teardown.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.EventKind;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * teardown install and uninstall on the live catalogs. Runs after every other class (see
 * junit-platform.properties), and leaves Teardown installed as it found it.
 */
@Order(Integer.MAX_VALUE)
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "needs real Windows, elevated: runs on the GitHub windows job")
class InstallUninstallOnWindowsTest {
  @Test
  void uninstallThenInstallThenUninstallLeavesBothCatalogsAsTheyWere() throws Exception {
    Machine.teardown("uninstall", "--json");
    String before64 = Machine.catalog(64);
    String before32 = Machine.catalog(32);
    assertFalse(before64.contains("Teardown"), "uninstalled from the 64-bit catalog:\n" + before64);
    assertFalse(before32.contains("Teardown"), "uninstalled from the 32-bit catalog:\n" + before32);
    try {
      Machine.teardown("install", "--mode", Machine.mode().cliName(), "--json");
      assertTrue(Machine.catalog(64).contains("Teardown over ["), "installed in the 64-bit catalog");
      assertTrue(Machine.catalog(32).contains("Teardown over ["), "installed in the 32-bit catalog");
      // A fresh process of each kind sees the new catalog at once.
      Machine.probe(64, "graceful").single("client", EventKind.CLOSE);
      Machine.probe(32, "graceful").single("client", EventKind.CLOSE);

      Machine.teardown("uninstall", "--json");
      assertEquals(before64, Machine.catalog(64), "the 64-bit catalog is as it was before the install");
      assertEquals(before32, Machine.catalog(32), "the 32-bit catalog is as it was before the install");
    } finally {
      Machine.teardown("install", "--mode", Machine.mode().cliName(), "--json");
    }
  }

  @Test
  void installRecorderRunsAServiceThatRecordsAndUninstallRemovesIt() throws Exception {
    java.nio.file.Path db = java.nio.file.Path.of(System.getenv().getOrDefault("ProgramData", "C:\\ProgramData"),
        "Teardown", "history.db");
    try {
      Machine.teardown("install", "--mode", Machine.mode().cliName(), "--recorder", "--json");
      assertTrue(sc("query", "TeardownRecorder").output().contains("RUNNING"), "the service runs");
      Machine.Run run = Machine.probe(64, "graceful");
      String why = "";
      for (int i = 0; i < 150 && !why.contains("\"mechanism\":\"FIN\""); i++) {
        Thread.sleep(200);  // the service commits within 200 ms of a quiet channel
        why = Machine.teardownResult("why", "--db", db.toString(), "--pid", Long.toString(run.pid()), "--json").output();
      }
      assertTrue(why.contains("\"mechanism\":\"FIN\""), "the service recorded the probe's connection:\n" + why);
      assertTrue(Machine.teardown("status", "--db", db.toString()).contains("recorder running (pid "),
          "status sees the recorder");

      Machine.teardown("uninstall", "--json");
      Machine.Result gone = sc("query", "TeardownRecorder");
      assertEquals(1060, gone.exit(), "ERROR_SERVICE_DOES_NOT_EXIST:\n" + gone.output());
      assertTrue(java.nio.file.Files.readString(db.resolveSibling("history.db.log")).contains(" stopped: "),
          "the service's log says it stopped cleanly");
    } finally {
      Machine.teardown("install", "--mode", Machine.mode().cliName(), "--json");
    }
  }

  private static Machine.Result sc(String... args) throws Exception {
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("sc.exe"));
    command.addAll(java.util.List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "sc finishes");
    return new Machine.Result(process.exitValue(), output);
  }
}
