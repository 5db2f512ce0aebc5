package dev.teardown.admin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Whether Windows' code integrity would refuse to load an unsigned teardown_lsp.dll. Teardown's
 * chains lead every path to TCP, so a DLL that Windows refuses to load makes {@code socket()} fail
 * with WSAEPROVIDERFAILEDINIT (10106) in every new process: install checks before it changes the
 * catalog. Two things block unsigned code in user mode: Smart App Control turned on (Windows 11;
 * {@code VerifiedAndReputablePolicyState} under {@code HKLM\SYSTEM\CurrentControlSet\Control\CI\Policy}:
 * 0 off, 1 on, 2 evaluation, which blocks nothing), and an App Control for Business (WDAC) policy
 * enforcing user-mode code integrity ({@code Win32_DeviceGuard}'s
 * {@code UsermodeCodeIntegrityPolicyEnforcementStatus}: 0 off, 1 audit, 2 enforced).
 */
final class CodeIntegrity {
  static final int SAC_OFF = 0;
  static final int SAC_ON = 1;
  static final int SAC_EVALUATION = 2;
  static final int UMCI_ENFORCED = 2;

  private CodeIntegrity() {}

  /** What the machine says; empty where it says nothing (no Smart App Control, no Device Guard). */
  record State(OptionalInt smartAppControl, OptionalInt userModeEnforcement) {}

  /** The machine's answers: {@link WindowsCodeIntegrity} on Windows, a stand-in in tests. */
  interface Probe {
    State state();

    /** Whether {@code dll} carries a valid Authenticode signature. */
    boolean signed(Path dll) throws IOException;
  }

  /** Why code integrity would block an unsigned DLL here, or empty when nothing would. */
  static Optional<String> blocker(State state) {
    if (state.smartAppControl().isPresent()) {
      int sac = state.smartAppControl().getAsInt();
      if (sac == SAC_ON) {
        return Optional.of("Smart App Control is on");
      }
      if (sac != SAC_OFF && sac != SAC_EVALUATION) {
        return Optional.of("Smart App Control's state is " + sac + " (VerifiedAndReputablePolicyState),"
            + " which is none of off (0), on (1) or evaluation (2)");
      }
    }
    if (state.userModeEnforcement().orElse(0) == UMCI_ENFORCED) {
      return Optional.of("an App Control for Business (WDAC) policy enforces user-mode code integrity");
    }
    return Optional.empty();
  }

  /**
   * Empty when install may go on: nothing blocks unsigned code, every DLL is signed, or
   * {@code force}. Otherwise why it must not, with what to do.
   */
  static Optional<String> refusal(Probe probe, List<Path> dlls, boolean force) throws IOException {
    if (force) {
      return Optional.empty();
    }
    Optional<String> blocker = blocker(probe.state());
    if (blocker.isEmpty()) {
      return Optional.empty();
    }
    for (Path dll : dlls) {
      if (!probe.signed(dll)) {
        return Optional.of(blocker.get() + ", and " + dll + " carries no valid signature: Windows would"
            + " refuse to load it, and every program's socket() would fail with 10106"
            + " (WSAEPROVIDERFAILEDINIT). Give signed DLLs (--dll64, --dll32), or allow them in the"
            + " policy and give --force. Nothing was changed.");
      }
    }
    return Optional.empty();
  }
}
