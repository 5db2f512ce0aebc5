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
      Machine.teardown("install", "--json");
      assertTrue(Machine.catalog(64).contains("Teardown over ["), "installed in the 64-bit catalog");
      assertTrue(Machine.catalog(32).contains("Teardown over ["), "installed in the 32-bit catalog");
      // A fresh process of each kind sees the new catalog at once.
      Machine.probe(64, "graceful").single("client", EventKind.CLOSE);
      Machine.probe(32, "graceful").single("client", EventKind.CLOSE);

      Machine.teardown("uninstall", "--json");
      assertEquals(before64, Machine.catalog(64), "the 64-bit catalog is as it was before the install");
      assertEquals(before32, Machine.catalog(32), "the 32-bit catalog is as it was before the install");
    } finally {
      Machine.teardown("install", "--json");
    }
  }
}
