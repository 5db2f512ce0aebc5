package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What install decides from what Windows says of code integrity and of the DLLs' signatures. */
class CodeIntegrityTest {
  private static final Path DLL64 = Path.of("x64", "teardown_lsp.dll");
  private static final Path DLL32 = Path.of("x86", "teardown_lsp.dll");

  private record Machine(OptionalInt sac, OptionalInt umci, Set<Path> signedDlls) implements CodeIntegrity.Probe {
    @Override
    public CodeIntegrity.State state() {
      return new CodeIntegrity.State(sac, umci);
    }

    @Override
    public boolean signed(Path dll) {
      return signedDlls.contains(dll);
    }
  }

  private static Optional<String> refusal(Machine machine, boolean force) throws IOException {
    return CodeIntegrity.refusal(machine, List.of(DLL64, DLL32), force);
  }

  @Test
  void aMachineWithNothingEnforcedOrSmartAppControlOffOrEvaluatingLetsAnyDllIn() throws IOException {
    for (OptionalInt sac : List.of(OptionalInt.empty(), OptionalInt.of(0), OptionalInt.of(2))) {
      for (OptionalInt umci : List.of(OptionalInt.empty(), OptionalInt.of(0), OptionalInt.of(1))) {
        assertEquals(Optional.empty(), refusal(new Machine(sac, umci, Set.of()), false), sac + " " + umci);
      }
    }
  }

  @Test
  void smartAppControlOnRefusesAnUnsignedDllAndSaysWhatToDo() throws IOException {
    Optional<String> refused = refusal(new Machine(OptionalInt.of(1), OptionalInt.empty(), Set.of()), false);
    assertTrue(refused.isPresent());
    assertTrue(refused.get().startsWith("Smart App Control is on, and " + DLL64 + " carries no valid signature"),
        refused.get());
    assertTrue(refused.get().contains("10106") && refused.get().contains("--force"), refused.get());
  }

  @Test
  void anEnforcedAppControlPolicyRefusesTheFirstUnsignedDll() throws IOException {
    Optional<String> refused = refusal(new Machine(OptionalInt.of(0), OptionalInt.of(2), Set.of(DLL64)), false);
    assertTrue(refused.orElseThrow().startsWith("an App Control for Business (WDAC) policy enforces user-mode code"
        + " integrity, and " + DLL32), refused.get());
  }

  @Test
  void signedDllsOrForceGoAhead() throws IOException {
    Machine locked = new Machine(OptionalInt.of(1), OptionalInt.of(2), Set.of(DLL64, DLL32));
    assertEquals(Optional.empty(), refusal(locked, false));
    assertEquals(Optional.empty(), refusal(new Machine(OptionalInt.of(1), OptionalInt.of(2), Set.of()), true));
  }

  @Test
  void aSmartAppControlStateNobodyKnowsIsTakenForBlocking() throws IOException {
    Optional<String> refused = refusal(new Machine(OptionalInt.of(7), OptionalInt.empty(), Set.of()), false);
    assertTrue(refused.orElseThrow().contains("Smart App Control's state is 7"), refused.get());
  }
}
