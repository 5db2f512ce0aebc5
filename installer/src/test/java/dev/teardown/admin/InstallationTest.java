package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogPlanner;
import dev.teardown.admin.catalog.LspMode;
import dev.teardown.admin.catalog.CatalogStep;
import dev.teardown.admin.catalog.CatalogTransaction;
import dev.teardown.admin.catalog.NetshCatalogParser;
import dev.teardown.admin.winsock.FakeWs2;
import dev.teardown.admin.winsock.WindowsCatalog;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * install, uninstall and repair from start to end, on a ws2_32 that answers as documented and a
 * system root in a temporary directory: DLLs placed and removed, the backup written and readable,
 * the change verified, and a failure undone (or, when undoing fails too, said so with the backup).
 */
class InstallationTest {
  @TempDir Path dir;
  private Path dll64;
  private Path dll32;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private static Catalog fixture(String name) throws IOException {
    try (InputStream in = InstallationTest.class.getResourceAsStream("/catalog/" + name)) {
      return NetshCatalogParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).catalog();
    }
  }

  @BeforeEach
  void dlls() throws IOException {
    dll64 = Files.write(dir.resolve("lsp64.dll"), new byte[] {'M', 'Z', 64});
    dll32 = Files.write(dir.resolve("lsp32.dll"), new byte[] {'M', 'Z', 32});
  }

  private final Report report = new Report(new PrintWriter(out, true), new PrintWriter(err, true), false);

  private Installation installation(FakeWs2 ws2) {
    return new Installation(new Installation.Machine(ws2.catalog(), true,
        dir.resolve("Windows"), dir.resolve("ProgramData/Teardown/catalog-backups")));
  }

  private List<Path> backups() throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve("ProgramData/Teardown/catalog-backups"))) {
      return files.toList();
    }
  }

  @ParameterizedTest
  @EnumSource(LspMode.class)
  void installPlacesBothDllsBacksUpAndUninstallTakesEverythingOut(LspMode mode) throws IOException {
    Catalog start = fixture("x64-english-lavasoft.txt");
    FakeWs2 ws2 = new FakeWs2(start);
    Map<CatalogKind, List<String>> before = ws2.snapshot();
    Installation installation = installation(ws2);

    assertEquals(Installation.DONE, installation.install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, mode, report), err.toString());
    assertArrayEquals(Files.readAllBytes(dll64), Files.readAllBytes(dir.resolve("Windows/system32/teardown_lsp.dll")));
    assertArrayEquals(Files.readAllBytes(dll32), Files.readAllBytes(dir.resolve("Windows/SysWOW64/teardown_lsp.dll")));
    assertEquals(1, backups().size());
    Catalog backedUp = NetshCatalogParser.parse(Files.readString(backups().get(0))).catalog();
    assertEquals(start.entries(), backedUp.entries(), "the backup reads back as the catalog was");
    List<Installation.CatalogState> states = Installation.states(installation.read());
    assertEquals(2, states.size());
    for (Installation.CatalogState state : states) {
      assertTrue(state.installed(), state.toString());
      assertEquals(mode, state.mode(), state.toString());
      assertEquals(1, state.chainPositions().get(0), "Teardown is in the first path: " + state);
      assertEquals(4, state.chainPositions().size(), "in all four paths to TCP: " + state);
      assertEquals(List.of("LavasoftLSP (C:\\Program Files\\Lavasoft\\Ad-Aware\\LSP\\x64\\LavasoftLSP.dll)").size(),
          state.otherLayered().size(), state.toString());
    }
    assertTrue(out.toString().contains("Installed in " + mode.cliName() + " mode."), out.toString());

    assertEquals(Installation.DONE, installation.install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, mode, report));
    assertTrue(out.toString().contains("Nothing to do: Teardown is already installed"), out.toString());

    assertEquals(Installation.DONE, installation.uninstall(report), err.toString());
    assertEquals(before, ws2.snapshot(), "both catalogs byte for byte, order included");
    assertFalse(Files.exists(dir.resolve("Windows/system32/teardown_lsp.dll")));
    assertFalse(Files.exists(dir.resolve("Windows/SysWOW64/teardown_lsp.dll")));
    assertEquals(2, backups().size(), "every change is backed up first");
  }

  @Test
  void installingInTheOtherModeIsRefusedWithTheWayToChange() throws IOException {
    FakeWs2 ws2 = new FakeWs2(fixture("x64-english-lavasoft.txt"));
    Installation installation = installation(ws2);
    assertEquals(Installation.DONE, installation.install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE, report));
    Map<CatalogKind, List<String>> installed = ws2.snapshot();
    assertEquals(Installation.FAILED, installation.install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.FULL, report));
    assertTrue(err.toString().contains("installed in compatible mode")
        && err.toString().contains("`teardown uninstall`, then `teardown install --mode full`"), err.toString());
    assertEquals(installed, ws2.snapshot(), "nothing was changed");
  }

  @Test
  void aFailedInstallIsUndoneAndSaysSo() throws IOException {
    FakeWs2 ws2 = new FakeWs2(fixture("x64-english-lavasoft.txt"));
    Map<CatalogKind, List<String>> before = ws2.snapshot();
    ws2.failAtChangingCall = 4;
    assertEquals(Installation.FAILED, installation(ws2).install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE, report));
    assertTrue(err.toString().contains("teardown install failed and was undone"), err.toString());
    assertTrue(err.toString().contains("Winsock error 10055"), err.toString());
    assertEquals(before, ws2.snapshot());
    assertFalse(Files.exists(dir.resolve("Windows/system32/teardown_lsp.dll")), "the DLLs it placed go too");
    assertFalse(Files.exists(dir.resolve("Windows/SysWOW64/teardown_lsp.dll")), "the DLLs it placed go too");
  }

  @Test
  void installCompletesAHalfInstall() throws IOException {
    Catalog start = fixture("x64-english-lavasoft.txt");
    FakeWs2 ws2 = new FakeWs2(start);
    List<CatalogStep> nativeOnly = CatalogPlanner.install(start,
        new CatalogPlanner.Paths(Installation.PROVIDER_PATH, Installation.PROVIDER_PATH),
        CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE).stream().filter(s -> s.catalog() == CatalogKind.NATIVE).toList();
    CatalogTransaction.run(ws2.catalog(), nativeOnly);
    List<String> nativeBefore = ws2.snapshot().get(CatalogKind.NATIVE);
    Installation installation = installation(ws2);
    assertEquals(Installation.DONE, installation.install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE, report),
        err.toString());
    assertEquals(nativeBefore, ws2.snapshot().get(CatalogKind.NATIVE), "the native catalog is left as it was");
    for (Installation.CatalogState state : Installation.states(installation.read())) {
      assertTrue(state.installed(), state.toString());
    }
  }

  @Test
  void aFailedUninstallIsUndoneInBothCatalogs() throws IOException {
    FakeWs2 ws2 = new FakeWs2(fixture("x64-english-lavasoft.txt"));
    Installation installation = installation(ws2);
    assertEquals(Installation.DONE, installation.install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE, report));
    Map<CatalogKind, List<String>> installed = ws2.snapshot();
    // Fail at the uninstall's last call: the 32-bit catalog has lost all of Teardown's entries,
    // its hidden one too, which the undo must put back while the native catalog still holds it.
    int steps = CatalogPlanner.uninstall(installation.read()).size();
    ws2.failAtChangingCall = ws2.changingCalls() + steps - 1;
    assertEquals(Installation.FAILED, installation.uninstall(report));
    assertTrue(err.toString().contains("teardown uninstall failed and was undone"), err.toString());
    Map<CatalogKind, List<String>> after = ws2.snapshot();
    for (CatalogKind kind : CatalogKind.values()) {
      assertEquals(installed.get(kind).size(), after.get(kind).size(), kind + ": every entry is back");
    }
    for (Installation.CatalogState state : Installation.states(installation.read())) {
      assertTrue(state.installed(), "installed again: " + state);
    }
  }

  @Test
  void whenUndoingFailsTooTheBackupIsNamedWithWhatToDo() throws IOException {
    FakeWs2 ws2 = new FakeWs2(fixture("x64-english-lavasoft.txt"));
    ws2.failAtChangingCall = 4;
    ws2.keepFailing = true;
    assertEquals(Installation.FAILED, installation(ws2).install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE, report));
    String said = err.toString();
    assertTrue(said.contains("putting the catalog back failed too"), said);
    assertTrue(said.contains(backups().get(0).toString()), said);
    assertTrue(said.contains("teardown repair"), said);
    assertTrue(Files.exists(dir.resolve("Windows/system32/teardown_lsp.dll")),
        "entries may still load it: the DLL stays when the catalog could not be put back");
  }

  @Test
  void repairRemovesTheSecondInstallationOnly() throws IOException {
    FakeWs2 ws2 = new FakeWs2(fixture("teardown-installed-twice.txt"));
    Installation installation = installation(ws2);
    assertEquals(Installation.DONE, installation.repair(report), err.toString());
    for (Installation.CatalogState state : Installation.states(installation.read())) {
      assertTrue(state.installed(), state.toString());
    }
    assertEquals(Installation.DONE, installation.repair(report));
    assertTrue(out.toString().contains("Nothing to repair"), out.toString());
  }

  @Test
  void liveProblemsIncludeProviderDllsMissingOnDisk() throws IOException {
    FakeWs2 ws2 = new FakeWs2(fixture("x64-english-lavasoft.txt"));
    Installation installation = installation(ws2);
    // The fixture spells it both "system32" and "System32"; Windows does not care, this disk does.
    for (String system32 : List.of("system32", "System32")) {
      Files.createDirectories(dir.resolve("Windows").resolve(system32));
      Files.write(dir.resolve("Windows").resolve(system32).resolve("mswsock.dll"), new byte[] {1});
    }
    List<String> problems = installation.problems(installation.read()).stream().map(p -> p.message()).toList();
    assertTrue(problems.stream().anyMatch(p -> p.contains("LavasoftLSP.dll")), problems.toString());
    assertTrue(problems.stream().noneMatch(p -> p.contains("mswsock.dll")), "present on disk: " + problems);
  }

  @Test
  void jsonReportsTheOutcomeAsOneObject() throws IOException {
    FakeWs2 ws2 = new FakeWs2(fixture("x64-english-lavasoft.txt"));
    StringWriter json = new StringWriter();
    Report quiet = new Report(new PrintWriter(json, true), new PrintWriter(err, true), true);
    int exit = installation(ws2).install(dll64, dll32, CatalogPlanner.DEFAULT_CATEGORIES, LspMode.COMPATIBLE, quiet);
    assertEquals("", json.toString(), "nothing before the end");
    quiet.finish("install", exit);
    String line = json.toString().strip();
    assertEquals(1, line.lines().count(), line);
    assertTrue(line.startsWith("{\"command\":\"install\",\"ok\":true,\"changes\":"), line);
    assertTrue(line.contains("\"backup\":\"" + backups().get(0).toString().replace("\\", "\\\\") + "\""), line);
    assertTrue(line.endsWith("\"error\":null}"), line);
  }
}
