package dev.teardown.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.Configuration;
import dev.teardown.api.EventKind;
import dev.teardown.api.EventReader;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The Windows machine the suite runs on, with Teardown installed: the channel every process's LSP
 * writes to (%ProgramData%\Teardown), the programs the tests start in fresh processes, and the
 * admin command. Paths come from system properties that the module's pom sets.
 */
final class Machine {
  /** How Teardown is installed for this run (the workflow's `teardown install --mode`). */
  enum Mode {
    COMPATIBLE,
    FULL;

    String cliName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  static final int WSAECONNRESET = 10054;
  static final int WSAECONNABORTED = 10053;
  private static final long RUN_TIMEOUT_SECONDS = 120;
  private static final Path OUTPUT = Path.of("target", "runs");

  private static TeardownChannel channel;
  private static EventReader reader;

  private Machine() {}

  /** What one program printed, and the events of its process by role. */
  record Run(String program, long pid, Map<String, List<TeardownEvent>> roles,
      List<TeardownEvent> all, String output) {
    List<TeardownEvent> of(String role) {
      List<TeardownEvent> events = roles.get(role);
      assertNotNull(events, program + " announced no socket \"" + role + "\":\n" + output);
      return events;
    }

    /** The one event of this kind on {@code role}'s socket. */
    TeardownEvent single(String role, EventKind kind) {
      List<TeardownEvent> matching = of(role).stream().filter(e -> e.kind() == kind).toList();
      assertEquals(1, matching.size(), "one " + kind + " on " + role + " in " + of(role) + "\n" + output);
      return matching.get(0);
    }

    List<EventKind> kinds(String role) {
      return of(role).stream().map(TeardownEvent::kind).toList();
    }

    /** The number printed after {@code prefix} on a line of its own output. */
    int printed(String prefix) {
      for (String line : output.split("\\R")) {
        if (line.startsWith(prefix)) {
          return Integer.parseInt(line.substring(prefix.length()).trim().split(" ")[0]);
        }
      }
      throw new AssertionError(program + " printed no \"" + prefix + "\":\n" + output);
    }
  }

  /** The mode the suite was told Teardown is installed in (system property teardown.mode). */
  static Mode mode() {
    return Mode.valueOf(System.getProperty("teardown.mode", "compatible").toUpperCase(java.util.Locale.ROOT));
  }

  /** The machine's channel (created if no process has made it yet), read from now on. */
  static synchronized TeardownChannel channel() {
    if (channel == null) {
      channel = TeardownChannel.createDefault();
      channel.configure(Configuration.DEFAULT.toBuilder().captureBytes(64).build());
      reader = channel.reader(TeardownChannel.ReadFrom.NEWEST);
    }
    return channel;
  }

  /** Something that runs programs and gives back one's events. */
  interface Runs {
    Run run() throws Exception;
  }

  /** Runs {@code runs} with the machine's configuration changed by {@code change}, then as before. */
  static Run withConfiguration(UnaryOperator<Configuration.Builder> change, Runs runs) throws Exception {
    TeardownChannel channel = channel();
    Configuration before = channel.configuration();
    channel.configure(change.apply(before.toBuilder()).build());
    try {
      return runs.run();
    } finally {
      channel.configure(before);
    }
  }

  /** teardown_probe.exe of {@code bits} (64 or 32) running {@code scenario}, and its events. */
  static Run probe(int bits, String scenario) throws IOException, InterruptedException {
    return probe(bits, scenario, Map.of());
  }

  /** The same, with {@code environment} added to the probe's. */
  static Run probe(int bits, String scenario, Map<String, String> environment)
      throws IOException, InterruptedException {
    Path exe = Path.of(required("teardown.probe" + bits)).toAbsolutePath();
    assertTrue(Files.isRegularFile(exe), exe + " is missing: build native-lsp with MSVC first");
    Run run = run("probe" + bits + "-" + scenario, List.of(exe.toString(), scenario), true, environment);
    assertTrue(run.output().contains("bits " + bits), run.output());
    assertTrue(run.output().contains("lsp loaded"),
        "teardown_lsp.dll is not in the probe: is Teardown installed (teardown install)?\n" + run.output());
    assertTrue(run.output().contains("provider Teardown over ["),
        "the probe's sockets come from Teardown's chain:\n" + run.output());
    return run;
  }

  /** {@link JavaPeers} running {@code scenario} in a JVM of its own, and its events by port. */
  static Run java(String scenario) throws IOException, InterruptedException, URISyntaxException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java.exe").toString();
    String classes = Path.of(JavaPeers.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .toString();
    return run("java-" + scenario,
        List.of(java, "-cp", classes, JavaPeers.class.getName(), scenario), false, Map.of());
  }

  /**
   * Runs a program to its end (bounded), checks it exited 0, and collects the events of its
   * process: by socket handle when it names its sockets so, else by local port.
   */
  private static Run run(String name, List<String> command, boolean bySocket,
      Map<String, String> environment) throws IOException, InterruptedException {
    channel();
    Files.createDirectories(OUTPUT);
    Path log = OUTPUT.resolve(name + ".out");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("NUL")));
    builder.environment().putAll(environment);
    Process process = builder.start();
    if (!process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(name + " did not finish in " + RUN_TIMEOUT_SECONDS + " s:\n" + read(log));
    }
    String output = read(log);
    assertEquals(0, process.exitValue(), name + "'s own checks:\n" + output);
    long pid = process.pid();
    Map<String, Long> roles = new LinkedHashMap<>();
    for (String line : output.split("\\R")) {
      String[] words = line.trim().split(" ");
      if (words[0].equals("role") && words.length >= 3) {
        roles.put(words[1], Long.parseLong(words[2]));
      }
    }
    List<TeardownEvent> all = events(pid);
    Map<String, List<TeardownEvent>> byRole = new HashMap<>();
    for (Map.Entry<String, Long> role : roles.entrySet()) {
      long key = role.getValue();
      byRole.put(role.getKey(), all.stream()
          .filter(e -> bySocket ? e.socketId() == key : e.local() != null && e.local().getPort() == key)
          .toList());
    }
    return new Run(name, pid, byRole, all, output);
  }

  /** The events process {@code pid} published, in order; none may have been lost. */
  private static List<TeardownEvent> events(long pid) {
    List<TeardownEvent> events = new ArrayList<>();
    for (EventReader.Batch batch = reader.read(); !batch.isEmpty(); batch = reader.read()) {
      assertEquals(0, batch.lost(), "no event lost");
      batch.events().stream().filter(e -> e.pid() == pid).forEach(events::add);
    }
    return events;
  }

  /** {@code teardown ARGS...} through the shaded admin jar; returns what it printed. */
  static String teardown(String... args) throws IOException, InterruptedException {
    Result result = teardownResult(args);
    assertEquals(0, result.exit(), "teardown " + String.join(" ", args) + ":\n" + result.output());
    return result.output();
  }

  /** What a command said and how it exited. */
  record Result(int exit, String output) {}

  /**
   * {@code teardown ARGS...}, whatever its exit: the package's teardown.exe where the suite is
   * told of one (teardown.command), else the shaded jar with this JDK.
   */
  static Result teardownResult(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    String packaged = System.getProperty("teardown.command", "");
    if (!packaged.isBlank()) {
      Path exe = Path.of(packaged).toAbsolutePath();
      assertTrue(Files.isRegularFile(exe), exe + " is missing: unpack the Windows package first");
      command.add(exe.toString());
    } else {
      Path jar = Path.of(required("teardown.jar")).toAbsolutePath();
      assertTrue(Files.isRegularFile(jar), jar + " is missing: build the installer module first");
      command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java.exe").toString(), "-jar", jar.toString()));
    }
    command.addAll(List.of(args));
    Files.createDirectories(OUTPUT);
    String name = String.join("-", args).replace("--", "").replaceAll("[^A-Za-z0-9._-]", "_");
    Path log = OUTPUT.resolve("teardown-" + name + ".out");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS), "teardown " + String.join(" ", args));
    return new Result(process.exitValue(), read(log));
  }

  /** The probe executable of {@code bits}. */
  static Path probeExecutable(int bits) {
    return Path.of(required("teardown.probe" + bits)).toAbsolutePath();
  }

  /** Runs {@code command} as {@link #probe} does, without requiring Teardown to be loaded. */
  static Run program(String name, List<String> command) throws IOException, InterruptedException {
    return run(name, command, true, Map.of());
  }

  /**
   * What a program of someone else's did: its output and exit, or that it did not finish within
   * {@code seconds} (it is then killed). Its process id, for its events.
   */
  record Outcome(String name, long pid, boolean finished, int exit, String output) {}

  static Outcome outcome(String name, List<String> command, long seconds) throws IOException, InterruptedException {
    Files.createDirectories(OUTPUT);
    Path log = OUTPUT.resolve(name + ".out");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("NUL"))).start();
    boolean finished = process.waitFor(seconds, TimeUnit.SECONDS);
    if (!finished) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    return new Outcome(name, process.pid(), finished, finished ? process.exitValue() : -1, read(log));
  }

  /** The events process {@code pid} published (every other event read on the way is dropped). */
  static List<TeardownEvent> eventsOf(long pid) {
    channel();
    return events(pid);
  }

  /**
   * What {@code netsh winsock show catalog} prints for one catalog: the 64-bit one, or (run by
   * the 32-bit netsh in SysWOW64) the 32-bit one.
   */
  static String catalog(int bits) throws IOException, InterruptedException {
    String root = System.getenv().getOrDefault("SystemRoot", "C:\\Windows");
    Path netsh = Path.of(root, bits == 64 ? "System32" : "SysWOW64", "netsh.exe");
    Files.createDirectories(OUTPUT);
    Path log = OUTPUT.resolve("catalog" + bits + ".txt");
    Process process = new ProcessBuilder(netsh.toString(), "winsock", "show", "catalog")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS), "netsh finishes");
    assertEquals(0, process.exitValue(), "netsh winsock show catalog:\n" + read(log));
    return read(log);
  }

  private static String read(Path log) throws IOException {
    // The probe writes UTF-8, netsh the console's code page; what is checked is ASCII, and a byte
    // that does not decode becomes U+FFFD rather than an exception.
    return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
  }

  private static String required(String property) {
    String value = System.getProperty(property);
    assertNotNull(value, "system property " + property + " is not set (the module's pom sets it)");
    return value;
  }
}
