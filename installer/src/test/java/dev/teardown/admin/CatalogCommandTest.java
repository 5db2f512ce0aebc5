package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogCommandTest {
  @TempDir Path dir;

  private Path fixture(String name) throws IOException {
    Path file = dir.resolve(name);
    if (!Files.exists(file)) {
      try (InputStream in = getClass().getResourceAsStream("/catalog/" + name)) {
        Files.copy(in, file);
      }
    }
    return file;
  }

  @Test
  void aHealthyCatalogExitsZeroAndListsWhatItHolds() throws IOException {
    CommandLineRun run = CommandLineRun.of("catalog", "check", fixture("x64-english-lavasoft.txt").toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("Native (64-bit) catalog: 8 entries"), run.out());
    assertTrue(run.out().contains("32-bit catalog: 8 entries"), run.out());
    assertTrue(run.out().contains("1016  LavasoftLSP over [MSAFD Tcpip [TCP/IP]]"), run.out());
    assertTrue(run.out().contains("1015 -> 1001"), run.out());
    assertTrue(run.out().contains("Healthy"), run.out());
  }

  @Test
  void aCatalogOfAHundredThousandEntriesIsCheckedWhole() throws IOException {
    // 50,000 chains over 50,000 base entries, one chain naming an entry that is not there; names
    // with escape codes (an entry's description is anyone's to write).
    StringBuilder dump = new StringBuilder();
    for (int i = 0; i < 100_000; i++) {
      boolean chain = i % 2 == 1;
      int id = 100_000 + i;
      dump.append("Winsock Catalog Provider Entry\n------------------------------------------------------\n")
          .append("Entry Type:                          ").append(chain ? "Layered Chain Entry" : "Base Service Provider").append('\n')
          .append("Description:                         ").append(i == 1 ? "evil\u001b[2J" : "entry " + i).append('\n')
          .append("Provider ID:                         {").append(String.format("%08X", i)).append("-AB8B-11CF-8CA3-00805F48A192}\n")
          .append("Provider Path:                       %SystemRoot%\\system32\\mswsock.dll\n")
          .append("Catalog Entry ID:                    ").append(id).append('\n')
          .append("Version:                             2\nAddress Family:                      2\n")
          .append("Max Address Length:                  16\nMin Address Length:                  16\n")
          .append("Socket Type:                         1\nProtocol:                            6\n")
          .append("Service Flags:                       0x20066\n")
          .append("Protocol Chain Length:               ").append(chain ? 2 : 1).append('\n');
      if (chain) {
        int lower = i == 99_999 ? 7 : id - 1;  // the last names entry 7: not in the catalog
        dump.append("Protocol Chain:                      ").append(id - 1).append(" : ").append(lower).append('\n');
      }
      dump.append('\n');
    }
    Path file = dir.resolve("huge.txt");
    Files.writeString(file, dump);
    CommandLineRun run = CommandLineRun.of("catalog", "check", file.toString());
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.out().contains("Native (64-bit) catalog: 100000 entries"), run.out().substring(0, 200));
    assertTrue(run.out().contains("passes calls to entry 7, which is not in the catalog"), "the one missing entry");
    assertTrue(run.out().contains("evil\\x1b[2J"), "shown as text");
    assertTrue(run.out().indexOf('\u001b') < 0);
  }

  @Test
  void problemsExitOneEachWithItsFix() throws IOException {
    CommandLineRun run = CommandLineRun.of("catalog", "check", fixture("x64-chinese-orphaned-chain.txt").toString());
    assertEquals(1, run.exit());
    assertTrue(run.out().contains("2 problems"), run.out());
    assertTrue(run.out().contains("[ORPHANED_CHAIN]"), run.out());
    assertTrue(run.out().contains("fix: remove chain entry 1021"), run.out());
  }

  @Test
  void aUtf16DumpFromPowerShellIsRead() throws IOException {
    String text = Files.readString(fixture("teardown-installed-twice.txt"));
    Path utf16 = dir.resolve("utf16.txt");
    byte[] body = text.getBytes(StandardCharsets.UTF_16LE);
    byte[] bytes = new byte[body.length + 2];
    bytes[0] = (byte) 0xFF;
    bytes[1] = (byte) 0xFE;
    System.arraycopy(body, 0, bytes, 2, body.length);
    Files.write(utf16, bytes);
    CommandLineRun run = CommandLineRun.of("catalog", "check", utf16.toString());
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.out().contains("[TEARDOWN_INSTALLED_TWICE]"), run.out());
  }

  @Test
  void planPrintsTheStepsAndASecondLookPlansNothing() throws IOException {
    CommandLineRun install = CommandLineRun.of("catalog", "plan", "install", fixture("x64-english-lavasoft.txt").toString());
    assertEquals(0, install.exit(), install.err());
    // The 32-bit catalog first, its installs made by a 32-bit process, each catalog on its own.
    assertTrue(install.out().contains(" 1. [32-bit] WSCInstallProvider (teardown_catalog32.exe, a 32-bit process) "
        + "\"Teardown\" {7E2A5D1C-6B3F-4C8E-9A0D-2F1B4C6D8E10} (hidden layered entry)"), install.out());
    assertTrue(install.out().contains("[Native (64-bit)] WSCInstallProvider \"Teardown\" {7E2A5D1C-6B3F-4C8E-9A0D-2F1B4C6D8E10} (hidden layered entry)"), install.out());
    // Out of services and system processes unless asked.
    assertTrue(install.out().contains("categories 0x00000001 (LSP_INSPECTOR): not loaded into services"), install.out());
    assertTrue(install.out().contains("[32-bit] WSCSetProviderInfo32(LspCategories 0x00000001)"), install.out());
    assertTrue(install.out().contains("[Native (64-bit)] WSCSetProviderInfo(LspCategories 0x00000001)"), install.out());
    CommandLineRun services = CommandLineRun.of(
        "catalog", "plan", "install", "--services", fixture("x64-english-lavasoft.txt").toString());
    assertTrue(services.out().contains("categories 0x80000001 (LSP_SYSTEM | LSP_INSPECTOR): loaded into services"),
        services.out());
    assertTrue(services.out().contains("[Native (64-bit)] WSCSetProviderInfo(LspCategories 0x80000001)"),
        services.out());
    CommandLineRun zero = CommandLineRun.of(
        "catalog", "plan", "install", "--categories", "0", fixture("x64-english-lavasoft.txt").toString());
    assertEquals(2, zero.exit());
    assertTrue(zero.err().contains("--categories 0 would leave Teardown uncategorised"), zero.err());
    // Compatible mode (the default) goes beneath Lavasoft's non-IFS layer, inside its chains; full
    // mode layers over them and changes none of theirs.
    assertTrue(install.out().contains("mode compatible"), install.out());
    assertTrue(install.out().contains("[Native (64-bit)] WSCUpdateProvider entry 1016 chain -> [1015,"
        + " {7E2A5D1C-6B3F-4C8E-9A0D-2F1B4C6D8E10}, 1001]"), install.out());
    CommandLineRun full = CommandLineRun.of(
        "catalog", "plan", "install", "--mode", "full", fixture("x64-english-lavasoft.txt").toString());
    assertTrue(full.out().contains("mode full"), full.out());
    assertTrue(full.out().contains("\"Teardown over [LavasoftLSP over [MSAFD Tcpip [TCP/IP]]]\""), full.out());
    assertFalse(full.out().contains("WSCUpdateProvider"), full.out());
    CommandLineRun wrongMode = CommandLineRun.of(
        "catalog", "plan", "install", "--mode", "fast", fixture("x64-english-lavasoft.txt").toString());
    assertEquals(2, wrongMode.exit());
    assertTrue(wrongMode.err().contains("--mode") && wrongMode.err().contains("fast"), wrongMode.err());
    CommandLineRun again = CommandLineRun.of("catalog", "plan", "install", fixture("teardown-installed-twice.txt").toString());
    assertTrue(again.out().contains("Nothing to do: Teardown is already installed."), again.out());
    CommandLineRun repair = CommandLineRun.of("catalog", "plan", "repair", fixture("teardown-installed-twice.txt").toString());
    // Installed twice under one GUID: all of Teardown goes and is installed anew.
    assertTrue(repair.out().contains("WSCDeinstallProvider entry 1015 {7E2A5D1C-6B3F-4C8E-9A0D-2F1B4C6D8E10}"), repair.out());
    assertTrue(repair.out().contains("WSCInstallProvider \"Teardown\""), repair.out());
  }

  @Test
  void planRefusesAnIncompleteDump() throws IOException {
    CommandLineRun run = CommandLineRun.of("catalog", "plan", "install", fixture("pasted-banner-truncated.txt").toString());
    assertEquals(2, run.exit());
    assertTrue(run.err().contains("not a complete catalog"), run.err());
  }

  @Test
  void unusableInputExitsTwoSayingWhy() throws IOException {
    Path notACatalog = dir.resolve("notes.txt");
    Files.writeString(notACatalog, "hello\nworld\n");
    CommandLineRun run = CommandLineRun.of("catalog", "check", notACatalog.toString());
    assertEquals(2, run.exit());
    assertTrue(run.err().contains("holds no complete catalog entry"), run.err());
    CommandLineRun missing = CommandLineRun.of("catalog", "check", dir.resolve("absent.txt").toString());
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("no such file"), missing.err());
  }

  @Test
  void theCommandsThatChangeTheLiveCatalogRefuseOffWindowsSayingWhatToDoInstead() {
    org.junit.jupiter.api.Assumptions.assumeFalse(com.sun.jna.Platform.isWindows(), "off Windows only");
    for (String verb : List.of("install", "uninstall", "repair")) {
      CommandLineRun run = CommandLineRun.of(verb);
      assertEquals(2, run.exit(), verb);
      assertTrue(run.err().contains("only Windows has"), run.err());
      assertTrue(run.err().contains("teardown catalog plan " + verb + " DUMP"), run.err());
    }
    CommandLineRun badCategories = CommandLineRun.of("install", "--categories", "zz");
    assertEquals(2, badCategories.exit());
    assertTrue(badCategories.err().contains("--categories takes a hexadecimal number"), badCategories.err());
    CommandLineRun missingDll = CommandLineRun.of("install", "--dll64", dir.resolve("absent.dll").toString());
    assertEquals(2, missingDll.exit());
    assertTrue(missingDll.err().contains("absent.dll is not a file"), missingDll.err());
  }
}
