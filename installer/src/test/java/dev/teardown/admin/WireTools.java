package dev.teardown.admin;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** What the wire tests share: tools on the PATH, the test programs, and a capture on loopback. */
final class WireTools {
  private WireTools() {}

  static boolean onPath(String tool) throws Exception {
    return new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
  }

  /** The test program {@code name} (from resources/programs), copied into {@code dir}. */
  static String program(Path dir, String name) throws IOException {
    Path target = dir.resolve(name);
    if (!Files.exists(target)) {
      try (InputStream in = WireTools.class.getResourceAsStream("/programs/" + name)) {
        Files.copy(in, target);
      }
    }
    return target.toString();
  }

  /** tshark capturing TCP on lo into {@code file}, once it says it is capturing. */
  static Process startCapture(Path file) throws Exception {
    Path log = file.resolveSibling(file.getFileName() + ".log");
    Process tshark = new ProcessBuilder("tshark", "-i", "lo", "-f", "tcp", "-w", file.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains("Capturing on")) {
        Thread.sleep(300);
        return tshark;
      }
      if (!tshark.isAlive()) {
        fail("tshark cannot capture on lo (root, or the wireshark group, is needed): " + Files.readString(log));
      }
      Thread.sleep(50);
    }
    tshark.destroyForcibly();
    throw new AssertionError("tshark did not start capturing: " + Files.readString(log));
  }

  /** Stops a capture started by {@link #startCapture}. */
  static void stopCapture(Process tshark, long timeoutSeconds) throws InterruptedException {
    tshark.destroy();
    assertTrue(tshark.waitFor(timeoutSeconds, TimeUnit.SECONDS), "tshark stops");
  }

  /** "1" or "True": a tshark flag field that is set. */
  static boolean set(String flag) {
    return flag.equals("1") || flag.equalsIgnoreCase("true");
  }
}
