package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogCommandTest {
  @TempDir Path dir;

  private Path fixture(String name) throws IOException {
    Path file = dir.resolve(name);
    try (InputStream in = getClass().getResourceAsStream("/catalog/" + name)) {
      Files.copy(in, file);
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
}
