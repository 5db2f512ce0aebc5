package dev.teardown.admin;

import dev.teardown.admin.TransactionTimeline.Step;
import dev.teardown.admin.sample.TransactionTotals;
import dev.teardown.api.Configuration;
import dev.teardown.api.EventReader;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code teardown demo}: the seed's transaction-totals exchange, run by two real programs under
 * the Linux layer on a port whose disconnect data Teardown carries over TCP, observed through the
 * Java API and laid next to the seed's table, totals included.
 */
@Command(
    name = "demo",
    description = {
      "Run the transaction-totals exchange and show how its connection ended.",
      "Two sample programs run under the Linux layer and carry their totals as disconnect data over"
          + " TCP, as in the example of Microsoft's Connection Shutdown documentation; the observed"
          + " timeline is printed beside that documentation's table, step by step."
    })
final class DemoCommand implements Callable<Integer> {
  private static final long PROCESS_TIMEOUT_SECONDS = 30;

  @Option(names = "--channel", paramLabel = "DIR", description = "Channel to use (default: a new one in a temporary directory).")
  Path channelDir;

  @Option(names = "--transactions", paramLabel = "N", description = "Transactions the client runs (default: ${DEFAULT-VALUE}).")
  long transactions = 42;

  @Option(names = "--previous-total", paramLabel = "N", description = "The server's grand total before this client (default: ${DEFAULT-VALUE}).")
  long previousTotal = 1000;

  @Option(names = "--java", description = "Run the Java sample programs (java.net sockets and the Java API's DisconnectData) instead of the native ones.")
  boolean java;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    Path directory = channelDir != null ? channelDir : temporaryChannel();
    try {
      return run(out, directory);
    } finally {
      if (channelDir == null) {
        try (var all = Files.walk(directory)) {
          for (Path path : all.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(path);
          }
        }
      }
    }
  }

  // Channels live in tmpfs where there is one, like the machine's own.
  private static Path temporaryChannel() throws IOException {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) && Files.isWritable(shm)
        ? Files.createTempDirectory(shm, "teardown-demo")
        : Files.createTempDirectory("teardown-demo");
  }

  private int run(PrintWriter out, Path directory) throws IOException, InterruptedException {
    int port = freePort();
    try (TeardownChannel channel = TeardownChannel.create(directory);
        EventReader reader = channel.reader(TeardownChannel.ReadFrom.NEWEST)) {
      // Disconnect data over TCP on the demo's port, and enough of it captured to show the totals.
      channel.configure(Configuration.DEFAULT.toBuilder().captureBytes(16).emulationPorts(List.of(port)).build());
      out.printf("Teardown demo: the transaction-totals exchange from Microsoft's Connection Shutdown%n");
      out.printf("documentation, between two real %s programs%n", java ? "Java" : "native");
      out.printf("running under the Linux layer, disconnect data carried over TCP on port %d,%n", port);
      out.printf("observed through the channel at %s%n%n", channel.path());
      out.flush();

      List<String> output = new ArrayList<>();
      Process server = LayerProcess.builder(serverCommand(port), channel.path()).redirectErrorStream(true).start();
      BufferedReader serverOutput =
          new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String first = serverOutput.readLine();
      if (first == null || !first.startsWith("port ")) {
        server.destroyForcibly();
        throw new IllegalStateException("the sample server did not start: " + first);
      }
      Process client = LayerProcess.builder(clientCommand(port), channel.path()).redirectErrorStream(true).start();
      output.addAll(finish(client, "client"));
      output.addAll(serverOutput.lines().toList());
      awaitExit(server, "server");

      List<TeardownEvent> events = drain(reader);
      TransactionTimeline timeline = new TransactionTimeline(events, client.pid(), server.pid());
      print(out, timeline);
      out.println();
      out.println("What the programs printed:");
      output.forEach(line -> out.println("  " + line));
      out.println();
      List<String> problems = new ArrayList<>(timeline.problems());
      if (problems.isEmpty()) {
        problems.addAll(timeline.totalProblems(transactions, previousTotal + transactions));
      }
      if (problems.isEmpty()) {
        out.println("The observed timeline is a valid order of the documentation's table: steps (1) to (8),");
        out.println("with (5') after (5) and, as the documentation allows, in any order with (6), (7) and (8);");
        out.printf("the client's total (%d) and the grand total (%d) travelled as disconnect data.%n",
            transactions, previousTotal + transactions);
      } else {
        out.println("The observed timeline does NOT follow the documentation's table:");
        problems.forEach(problem -> out.println("  " + problem));
      }
      out.flush();
      return problems.isEmpty() ? 0 : 1;
    }
  }

  private List<String> serverCommand(int port) {
    List<String> arguments = List.of(Long.toString(previousTotal), Integer.toString(port));
    return java ? javaSample("server", arguments) : nativeSample(NativeFiles.SAMPLE_SERVER, arguments);
  }

  private List<String> clientCommand(int port) {
    List<String> arguments = List.of(Integer.toString(port), Long.toString(transactions));
    return java ? javaSample("client", arguments) : nativeSample(NativeFiles.SAMPLE_CLIENT, arguments);
  }

  private static List<String> nativeSample(String program, List<String> arguments) {
    List<String> command = new ArrayList<>(List.of(NativeFiles.get(program).toString()));
    command.addAll(arguments);
    return command;
  }

  /** The Java sample in a JVM of its own, with this JVM's class path (the command's jar). */
  private static List<String> javaSample(String side, List<String> arguments) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), TransactionTotals.class.getName(), side));
    command.addAll(arguments);
    return command;
  }

  /** A loopback port free now, for the demo's server. */
  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }

  private static List<String> finish(Process process, String name) throws IOException, InterruptedException {
    List<String> lines;
    try (BufferedReader output =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      lines = output.lines().toList();
    }
    awaitExit(process, name);
    return lines;
  }

  private static void awaitExit(Process process, String name) throws InterruptedException {
    if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("the sample " + name + " did not finish within " + PROCESS_TIMEOUT_SECONDS + " s");
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException("the sample " + name + " failed with exit code " + process.exitValue());
    }
  }

  /** Everything published so far: reads until the channel has been quiet for a moment. */
  private static List<TeardownEvent> drain(EventReader reader) throws InterruptedException {
    List<TeardownEvent> events = new ArrayList<>();
    int quiet = 0;
    while (quiet < 10) {
      EventReader.Batch batch = reader.read();
      events.addAll(batch.events());
      quiet = batch.isEmpty() ? quiet + 1 : 0;
      if (batch.isEmpty()) {
        Thread.sleep(20);
      }
    }
    return events;
  }

  private static void print(PrintWriter out, TransactionTimeline timeline) {
    out.printf("%-6s %-7s %-64s %s%n", "STEP", "SIDE", "THE SEED'S TABLE", "OBSERVED (sequence: event)");
    for (Step step : Step.values()) {
      List<TeardownEvent> observed = timeline.eventsOf(step);
      String first = observed.isEmpty() ? (step == Step.S4 ? "(computation: no event)" : "(not observed)") : describe(observed.get(0));
      out.printf("%-6s %-7s %-64s %s%n", "(" + step.number + ")", step.side, step.description, first);
      for (TeardownEvent more : observed.subList(Math.min(1, observed.size()), observed.size())) {
        out.printf("%-6s %-7s %-64s %s%n", "", "", "", describe(more));
      }
    }
  }

  private static String describe(TeardownEvent event) {
    StringBuilder text = new StringBuilder("#" + event.sequence() + ": " + EventFormat.what(event));
    if (event.error() != 0) {
      text.append(" (").append(event.errorName()).append(')');
    }
    String detail = EventFormat.detail(event);
    if (!detail.isEmpty()) {
      text.append(", ").append(detail);
    }
    return text.toString();
  }
}
