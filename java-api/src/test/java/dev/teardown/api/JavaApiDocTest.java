package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/java-api.md cannot drift from the code: its program is the repository's
 * docs/examples/WatchEndings.java, which runs here (from its source, as the page says to run it)
 * against a channel of its own; the version it tells Maven and Gradle users is the project's.
 */
class JavaApiDocTest {
  private static final Path DOCS = Path.of("..", "docs");

  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (Process process : started) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void thePagesProgramIsTheExampleFileWordForWord() throws Exception {
    String page = Files.readString(DOCS.resolve("java-api.md"));
    Matcher block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(page);
    assertTrue(block.find(), "the page shows a program");
    assertEquals(Files.readString(DOCS.resolve("examples").resolve("WatchEndings.java")), block.group(1));
    assertTrue(block.group(1).lines().count() <= 30, "a short program");
  }

  @Test
  void theVersionThePageGivesIsTheProjects() throws Exception {
    String pom = Files.readString(Path.of("..", "pom.xml"));
    Matcher declared = Pattern.compile("<artifactId>teardown-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertTrue(declared.find());
    String page = Files.readString(DOCS.resolve("java-api.md"));
    assertTrue(page.contains("<version>" + declared.group(1) + "</version>"), "the Maven snippet's version");
    assertTrue(page.contains("dev.teardown:teardown-api:" + declared.group(1)), "the Gradle line's version");
    Matcher anyVersion = Pattern.compile("teardown-api[:-](\\d[^\")`\\s]*?)(-javadoc\\.jar|\"|`|\\))").matcher(page);
    while (anyVersion.find()) {
      assertEquals(declared.group(1), anyVersion.group(1), "every version the page names: " + anyVersion.group());
    }
  }

  @Test
  void theExampleWatchesChangesTheConfigurationAndPrintsWhatItWasAskedFor() throws Exception {
    Path channelDir = dir.resolve("channel");
    try (TeardownChannel channel = TeardownChannel.create(channelDir)) {
      Path output = dir.resolve("output");
      ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"),
          DOCS.resolve("examples").resolve("WatchEndings.java").toString(), "60")
          .redirectErrorStream(true).redirectOutput(output.toFile());
      builder.environment().put("TEARDOWN_CHANNEL", channelDir.toString());
      Process example = builder.start();
      started.add(example);
      for (int i = 0; i < 600 && !Files.readString(output).contains("watching"); i++) {
        assertTrue(example.isAlive(), "the example ended: " + Files.readString(output));
        Thread.sleep(50);
      }
      assertTrue(Files.readString(output).startsWith("watching " + channelDir), Files.readString(output));
      Configuration live = channel.configuration();
      assertEquals(64, live.captureBytes(), "the example changed the live configuration");
      assertTrue(live.kinds().containsAll(EnumSet.of(EventKind.FD_CLOSE, EventKind.RESET,
          EventKind.SEND_DISCONNECT, EventKind.RECV_DISCONNECT)), live.kinds().toString());

      InetSocketAddress local = new InetSocketAddress("127.0.0.1", 50000);
      InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 8080);
      channel.publish(TeardownEvent.builder(EventKind.CLOSE).processName("client").pid(100).local(local).remote(remote).build());
      channel.publish(TeardownEvent.builder(EventKind.RESET).processName("client").pid(100).error(10054)
          .local(local).remote(remote).build());
      channel.publish(TeardownEvent.builder(EventKind.SEND_DISCONNECT).processName("client").pid(100)
          .local(local).remote(remote).disconnectData(new byte[] {1, 2, 3, 4}).build());
      for (int i = 0; i < 600 && Files.readString(output).lines().count() < 3; i++) {
        Thread.sleep(50);
      }
      List<String> lines = Files.readString(output).lines().toList();
      assertEquals(3, lines.size(), "the header, the reset and the disconnect; not the close: " + lines);
      assertTrue(lines.get(1).endsWith(" client[100] /127.0.0.1:50000 -> /127.0.0.1:8080 RESET WSAECONNRESET, 0 bytes of data"),
          lines.get(1));
      assertTrue(lines.get(2).endsWith(" SEND_DISCONNECT 0, 4 bytes of data"), lines.get(2));
    }
  }
}
