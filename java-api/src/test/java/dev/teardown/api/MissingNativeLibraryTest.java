package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A program whose class path lacks teardown-native is told what is missing, not JNA's raw error. */
class MissingNativeLibraryTest {
  @TempDir Path dir;

  /** Run in a JVM of its own: opens a channel and prints what it was told. */
  public static void main(String[] args) {
    try {
      TeardownChannel.create(Path.of(args[0])).close();
      System.out.println("opened");
    } catch (UnsatisfiedLinkError e) {
      System.out.println(e.getClass().getName() + ": " + e.getMessage());
    }
  }

  @Test
  void withoutTheNativeJarTheErrorNamesWhatIsMissingAndWhereItComesFrom() throws Exception {
    String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> !entry.contains("teardown-native") && !entry.contains("native-lsp"))
        .collect(Collectors.joining(File.pathSeparator));
    Path output = dir.resolve("output");
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djna.library.path=" + dir, "-cp", classPath, MissingNativeLibraryTest.class.getName(),
        dir.resolve("channel").toString())
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS));
    String said = Files.readString(output).strip();
    assertEquals(0, process.exitValue(), said);
    assertTrue(said.startsWith("java.lang.UnsatisfiedLinkError: Teardown's native library "
        + System.mapLibraryName("teardown") + " for "), said);
    assertTrue(said.contains("dev.teardown:teardown-native, which dev.teardown:teardown-api brings with it"), said);
  }
}
