package dev.teardown.admin;

import com.sun.jna.platform.win32.Advapi32Util;
import com.sun.jna.platform.win32.Win32Exception;
import com.sun.jna.platform.win32.WinReg;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * {@link CodeIntegrity.Probe} on Windows: Smart App Control's state from the registry; user-mode
 * code integrity's enforcement and a DLL's signature from Windows PowerShell (Win32_DeviceGuard
 * and Get-AuthenticodeSignature, present on every supported Windows).
 */
final class WindowsCodeIntegrity implements CodeIntegrity.Probe {
  private static final String POLICY_KEY = "SYSTEM\\CurrentControlSet\\Control\\CI\\Policy";
  private static final String SAC_VALUE = "VerifiedAndReputablePolicyState";
  private static final long TIMEOUT_SECONDS = 60;

  private final Path powershell;

  WindowsCodeIntegrity(Path systemRoot) {
    this.powershell = systemRoot.resolve("System32").resolve("WindowsPowerShell").resolve("v1.0")
        .resolve("powershell.exe");
  }

  @Override
  public CodeIntegrity.State state() {
    OptionalInt sac = OptionalInt.empty();
    try {
      if (Advapi32Util.registryValueExists(WinReg.HKEY_LOCAL_MACHINE, POLICY_KEY, SAC_VALUE)) {
        sac = OptionalInt.of(Advapi32Util.registryGetIntValue(WinReg.HKEY_LOCAL_MACHINE, POLICY_KEY, SAC_VALUE));
      }
    } catch (Win32Exception e) {
      // no such key: a Windows without Smart App Control
    }
    OptionalInt umci = OptionalInt.empty();
    String answer = run("(Get-CimInstance -Namespace root\\Microsoft\\Windows\\DeviceGuard"
        + " -ClassName Win32_DeviceGuard).UsermodeCodeIntegrityPolicyEnforcementStatus");
    if (answer.matches("\\d+")) {
      umci = OptionalInt.of(Integer.parseInt(answer));
    }
    return new CodeIntegrity.State(sac, umci);
  }

  @Override
  public boolean signed(Path dll) throws IOException {
    String literal = "'" + dll.toAbsolutePath().toString().replace("'", "''") + "'";
    return run("(Get-AuthenticodeSignature -LiteralPath " + literal + ").Status").equals("Valid");
  }

  // What the command printed, trimmed; "" when it could not run or failed.
  private String run(String command) {
    try {
      Process process = new ProcessBuilder(powershell.toString(), "-NoProfile", "-NonInteractive",
          "-Command", command).redirectErrorStream(true).start();
      process.getOutputStream().close();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) || process.exitValue() != 0) {
        process.destroyForcibly();
        return "";
      }
      return new String(output, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
