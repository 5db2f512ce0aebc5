package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.winsock.FakeWs2;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A default install keeps every LSP out of WSL, where it is installed, and says what it did. */
class DefaultExclusionsTest {
  private static final int LSP_SYSTEM = 0x80000000;

  @TempDir Path dir;
  private final FakeWs2 ws2 = new FakeWs2(new Catalog(List.of(), List.of()));

  private ProgramCategories programs() {
    return new ProgramCategories(new WindowsPrograms(ws2), ProgramCategories.recordIn(dir.resolve("ProgramData")));
  }

  @Test
  void theProgramsAreWslsInSystem32AndInItsOwnPackage() {
    Path windows = Path.of("C:", "Windows");
    Path programFiles = Path.of("C:", "Program Files");
    assertEquals(List.of(windows.resolve("System32").resolve("wsl.exe"),
        programFiles.resolve("WSL").resolve("wsl.exe"), programFiles.resolve("WSL").resolve("wslservice.exe")),
        DefaultExclusions.programs(windows, programFiles));
  }

  @Test
  void onlyThoseOnDiskAreExcludedAndStatusListsThem() throws IOException {
    Path windows = dir.resolve("Windows");
    Path programFiles = dir.resolve("Program Files");
    Path wsl = Files.createDirectories(windows.resolve("System32")).resolve("wsl.exe");
    Files.write(wsl, new byte[] {'M', 'Z'});
    ProgramCategories programs = programs();
    List<String> outcomes = DefaultExclusions.apply(programs, DefaultExclusions.programs(windows, programFiles));
    assertEquals(1, outcomes.size(), outcomes.toString());
    assertTrue(outcomes.get(0).startsWith("excluded: " + wsl.toRealPath()), outcomes.get(0));
    assertEquals(LSP_SYSTEM, ws2.applications.get(wsl.toRealPath().toString().toLowerCase(Locale.ROOT)));
    assertEquals(List.of(wsl.toRealPath().toString()), programs.recorded());
    // A second install: nothing to change, and still said.
    List<String> again = DefaultExclusions.apply(programs, DefaultExclusions.programs(windows, programFiles));
    assertTrue(again.get(0).startsWith("excluded: Nothing to do"), again.get(0));
  }
}
