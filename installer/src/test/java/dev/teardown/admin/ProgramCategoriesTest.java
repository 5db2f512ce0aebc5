package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogPlanner;
import dev.teardown.admin.catalog.TeardownProvider;
import dev.teardown.admin.winsock.FakeWs2;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * exclude and include against a ws2_32 that ORs categories as WSCSetApplicationCategory's page
 * says, under the loading rules of "Categorizing Layered Service Providers and Applications".
 */
class ProgramCategoriesTest {
  private static final int SYSTEM = 0x80000000;
  private static final int INSPECTOR = 0x1;
  private static final int FIREWALL = 0x8;
  private static final int CRYPTO = 0x40;
  private static final String WSL = "C:\\Windows\\System32\\wsl.exe";

  @TempDir Path dir;
  private final FakeWs2 ws2 = new FakeWs2(new Catalog(List.of(), List.of()));

  private ProgramCategories programs() {
    return new ProgramCategories(new WindowsPrograms(ws2), ProgramCategories.recordIn(dir));
  }

  private Integer categoriesOf(String program) {
    return ws2.applications.get(program.toLowerCase(Locale.ROOT));
  }

  @Test
  void theLoadingRulesGiveTheDocumentationsOwnExample() {
    OptionalInt foo = OptionalInt.of(SYSTEM | FIREWALL | CRYPTO);
    OptionalInt bar = OptionalInt.of(FIREWALL | CRYPTO);
    int[] lsps = {SYSTEM, 0, FIREWALL, SYSTEM | FIREWALL | CRYPTO | INSPECTOR};
    boolean[] intoFoo = {true, false, false, false};
    boolean[] intoBar = {false, false, true, false};
    for (int i = 0; i < lsps.length; i++) {
      assertEquals(intoFoo[i], ProgramCategories.loads(lsps[i], foo), "LSP" + (i + 1) + " into Foo.exe");
      assertEquals(intoBar[i], ProgramCategories.loads(lsps[i], bar), "LSP" + (i + 1) + " into Bar.exe");
      assertTrue(ProgramCategories.loads(lsps[i], OptionalInt.empty()), "an uncategorised program loads all");
    }
  }

  @Test
  void excludeCategorisesTheProgramAsASystemProcessAndStatusListsIt() throws IOException {
    ProgramCategories programs = programs();
    ProgramCategories.Outcome outcome = programs.exclude(WSL);
    assertEquals(Installation.DONE, outcome.exit(), outcome.message());
    assertEquals(SYSTEM, categoriesOf(WSL));
    assertFalse(ProgramCategories.loads(CatalogPlanner.DEFAULT_CATEGORIES, OptionalInt.of(categoriesOf(WSL))));
    assertEquals(List.of(WSL + " (0x80000000 (LSP_SYSTEM); Teardown kept out)"),
        withTeardownInstalled(INSPECTOR).excluded());
    ProgramCategories.Outcome again = programs.exclude(WSL);
    assertEquals(Installation.DONE, again.exit());
    assertTrue(again.message().startsWith("Nothing to do"), again.message());
    assertEquals(1, programs.recorded().size(), "listed once");
  }

  @Test
  void includeCannotUndoAnExclusionWindowsOnlyAddsTo() throws IOException {
    programs().exclude(WSL);
    ProgramCategories.Outcome outcome = withTeardownInstalled(INSPECTOR).include(WSL);
    assertEquals(Installation.FAILED, outcome.exit());
    assertTrue(outcome.message().contains("--services"), outcome.message());
    assertTrue(outcome.message().contains("Nothing was changed"), outcome.message());
    assertEquals(SYSTEM, categoriesOf(WSL), "unchanged");
  }

  @Test
  void withServicesTeardownIsExcludedAndIncludedAgain() throws IOException {
    ProgramCategories programs = withTeardownInstalled(SYSTEM | INSPECTOR);
    assertEquals(Installation.DONE, programs.exclude(WSL).exit());
    assertEquals(SYSTEM, categoriesOf(WSL));
    ProgramCategories.Outcome outcome = programs.include(WSL);
    assertEquals(Installation.DONE, outcome.exit(), outcome.message());
    assertEquals(SYSTEM | INSPECTOR, categoriesOf(WSL));
    assertTrue(ProgramCategories.loads(SYSTEM | INSPECTOR, OptionalInt.of(categoriesOf(WSL))));
    assertEquals(List.of(), programs.recorded(), "no longer listed as excluded");
  }

  @Test
  void excludeIsRefusedWhereWhatTheProgramPermitsWouldStillLetTeardownIn() throws IOException {
    ProgramCategories programs = withTeardownInstalled(SYSTEM | INSPECTOR);
    ws2.applications.put(WSL.toLowerCase(Locale.ROOT), INSPECTOR);
    ProgramCategories.Outcome outcome = programs.exclude(WSL);
    assertEquals(Installation.FAILED, outcome.exit());
    assertTrue(outcome.message().contains("would still load Teardown"), outcome.message());
    assertEquals(INSPECTOR, categoriesOf(WSL), "unchanged");
    assertEquals(List.of(), programs.recorded());
  }

  @Test
  void includeOfAnUncategorisedProgramHasNothingToDo() throws IOException {
    ProgramCategories.Outcome outcome = programs().include(WSL);
    assertEquals(Installation.DONE, outcome.exit());
    assertTrue(outcome.message().contains("uncategorised, and loads every LSP"), outcome.message());
    assertEquals(null, categoriesOf(WSL), "not categorised by asking");
  }

  @Test
  void offWindowsTheVerbsSayWhy() {
    CommandLineRun run = CommandLineRun.of("exclude", WSL);
    assertEquals(2, run.exit());
    assertTrue(run.err().contains("teardown exclude works on the Winsock catalog, which only Windows has"),
        run.err());
  }

  private ProgramCategories withTeardownInstalled(int categories) {
    ws2.setCategories(TeardownProvider.GUID, categories);
    return programs();
  }
}
