package dev.teardown.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * teardown exclude and include on the live machine, with a copy of the probe as the program (so
 * that the other tests' probe keeps loading Teardown): Windows keeps the LSP out of it from its
 * next start, status lists it, and include, with Teardown installed by default (no LSP_SYSTEM),
 * says why Windows cannot take the exclusion back.
 */
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "needs real Windows, elevated: runs on the GitHub windows job")
class ExcludeOnWindowsTest {
  @Test
  void anExcludedProgramLoadsNoTeardownAndIncludeSaysWhyWindowsCannotUndoIt() throws Exception {
    Path copy = Path.of("target", "runs", "excluded-probe.exe").toAbsolutePath();
    Files.createDirectories(copy.getParent());
    Files.copy(Machine.probeExecutable(64), copy, StandardCopyOption.REPLACE_EXISTING);
    Machine.teardown("exclude", copy.toString());

    Machine.Run run = Machine.program("excluded-probe-graceful", List.of(copy.toString(), "graceful"));
    assertTrue(run.output().contains("lsp absent"), "Windows kept Teardown out:\n" + run.output());
    assertEquals(List.of(), run.all(), "nothing is recorded from it");
    String status = Machine.teardown("status").toLowerCase(Locale.ROOT);
    assertTrue(status.contains(copy.toString().toLowerCase(Locale.ROOT)), "status lists it:\n" + status);

    Machine.Result include = Machine.teardownResult("include", copy.toString());
    assertEquals(1, include.exit(), include.output());
    assertTrue(include.output().contains("--services"), include.output());
  }
}
