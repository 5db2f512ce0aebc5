package dev.teardown.windows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpServer;
import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownEvent;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * Programs people run, with Teardown installed in the mode of this run ({@link Machine#mode}):
 * each fetches a page from a local server (which answers and closes, "Connection: close") and must
 * get it exactly as without Teardown, and its connection must be recorded, or, where Teardown is
 * kept out, not: Ruby and Perl open their sockets on the first catalog entry with IFS handles, so
 * a full-mode (non-IFS) Teardown never sees them.
 *
 * <p>.NET (PowerShell 7 is a .NET program) sets FILE_SKIP_COMPLETION_PORT_ON_SUCCESS on every
 * socket without asking whether an LSP is IFS, and a non-IFS LSP's completions are then not
 * delivered (KB2568167): in full mode it is given 30 s, and a hang aborts the test with that reason
 * instead of timing the job out. A program the runner does not have is skipped, saying so.
 */
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "needs real Windows with Teardown installed: runs on the GitHub windows job")
class ProgramsOnWindowsTest {
  private static final String BODY = "hello from the teardown test server";
  private static final long SECONDS = 120;
  private static final long DOTNET_FULL_MODE_SECONDS = 30;

  private static HttpServer server;
  private static int port;

  @BeforeAll
  static void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/", exchange -> {
      byte[] body = BODY.getBytes(StandardCharsets.US_ASCII);
      exchange.getResponseHeaders().set("Content-Type", "text/plain");
      exchange.getResponseHeaders().set("Connection", "close");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    port = server.getAddress().getPort();
  }

  @AfterAll
  static void stop() {
    if (server != null) server.stop(0);
  }

  private static String url() {
    return "http://127.0.0.1:" + port + "/";
  }

  /** A script of these lines, written where the runs' output is kept. */
  private static Path script(String name, String... lines) throws IOException {
    Path script = Files.createDirectories(Path.of("target", "runs").toAbsolutePath()).resolve(name);
    Files.writeString(script, String.join("\n", lines) + "\n");
    return script;
  }

  /** The program on the PATH (as `where` finds it), or the test is skipped saying it is absent. */
  private static Path program(String executable) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (dir.isBlank()) continue;
      Path candidate = Path.of(dir.strip(), executable);
      if (Files.isRegularFile(candidate)) return candidate;
    }
    Assumptions.abort(executable + " is not on this runner's PATH");
    throw new AssertionError("unreachable");
  }

  /**
   * Runs {@code command}, checks it printed the page and exited 0, and checks Teardown recorded its
   * connection: a CLOSE of a socket connected to the server, from the program's own process.
   */
  private static void fetchesAndIsRecorded(String name, List<String> command, boolean recorded, boolean dotnet)
      throws Exception {
    Machine.channel();
    long seconds = dotnet && Machine.mode() == Machine.Mode.FULL ? DOTNET_FULL_MODE_SECONDS : SECONDS;
    Machine.Outcome outcome = Machine.outcome(name, command, seconds);
    if (!outcome.finished() && dotnet && Machine.mode() == Machine.Mode.FULL) {
      Assumptions.abort(name + " did not finish in " + seconds + " s with Teardown in full mode: .NET sets"
          + " FILE_SKIP_COMPLETION_PORT_ON_SUCCESS on every socket, and a non-IFS LSP's completions are"
          + " then never delivered (KB2568167). This is why compatible mode is the default:\n"
          + outcome.output());
    }
    if (!outcome.finished()) fail(name + " did not finish in " + seconds + " s:\n" + outcome.output());
    assertEquals(0, outcome.exit(), name + ":\n" + outcome.output());
    assertTrue(outcome.output().contains(BODY), name + " got the page exactly:\n" + outcome.output());
    List<TeardownEvent> events = Machine.eventsOf(outcome.pid());
    List<TeardownEvent> closes = events.stream()
        .filter(e -> e.kind() == EventKind.CLOSE && e.remote() != null && e.remote().getPort() == port).toList();
    if (recorded) {
      assertEquals(1, closes.size(), name + "'s connection to the server, closed, is recorded once: " + events);
    } else {
      assertEquals(List.of(), events, name + " opened its sockets around Teardown: nothing is recorded");
    }
  }

  @Test
  void powerShell7InvokeWebRequest() throws Exception {
    fetchesAndIsRecorded("pwsh-invoke-webrequest", List.of(program("pwsh.exe").toString(), "-NoProfile",
        "-NonInteractive", "-Command", "(Invoke-WebRequest -UseBasicParsing -Uri " + url() + ").Content"), true, true);
  }

  @Test
  void dotNetHttpClient() throws Exception {
    fetchesAndIsRecorded("dotnet-httpclient", List.of(program("pwsh.exe").toString(), "-NoProfile",
        "-NonInteractive", "-Command", "$client = [System.Net.Http.HttpClient]::new();"
            + " $client.GetStringAsync('" + url() + "').GetAwaiter().GetResult(); $client.Dispose()"),
        true, true);
  }

  @Test
  void goNetHttp() throws Exception {
    Path go = program("go.exe");
    Path dir = Files.createDirectories(Path.of("target", "runs", "go-fetch").toAbsolutePath());
    Files.writeString(dir.resolve("fetch.go"), String.join("\n",
        "package main",
        "",
        "import (",
        "\t\"fmt\"",
        "\t\"io\"",
        "\t\"net/http\"",
        "\t\"os\"",
        ")",
        "",
        "func main() {",
        "\tresponse, err := http.Get(os.Args[1])",
        "\tif err != nil {",
        "\t\tfmt.Println(err)",
        "\t\tos.Exit(1)",
        "\t}",
        "\tbody, err := io.ReadAll(response.Body)",
        "\tresponse.Body.Close()",
        "\tif err != nil {",
        "\t\tfmt.Println(err)",
        "\t\tos.Exit(1)",
        "\t}",
        "\tfmt.Println(string(body))",
        "}",
        ""));
    Path exe = dir.resolve("fetch.exe");
    Machine.Outcome build = Machine.outcome("go-build", List.of(go.toString(), "build", "-o", exe.toString(),
        dir.resolve("fetch.go").toString()), SECONDS);
    assertTrue(build.finished() && build.exit() == 0, "go build:\n" + build.output());
    fetchesAndIsRecorded("go-net-http", List.of(exe.toString(), url()), true, false);
  }

  @Test
  void nodeFetch() throws Exception {
    fetchesAndIsRecorded("node-fetch", List.of(program("node.exe").toString(), "-e",
        "fetch('" + url() + "').then(r => r.text()).then(t => console.log(t))"
            + ".catch(e => { console.error(e); process.exit(1); })"), true, false);
  }

  @Test
  void pythonAsyncioOnTheProactorLoop() throws Exception {
    Path script = script("fetch.py",
        "import asyncio, sys",
        "",
        "async def main(port):",
        "    # Windows' default loop is the proactor: I/O completion ports.",
        "    assert isinstance(asyncio.get_running_loop(), asyncio.ProactorEventLoop)",
        "    reader, writer = await asyncio.open_connection('127.0.0.1', port)",
        "    writer.write(b'GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n')",
        "    response = await reader.read()",
        "    writer.close()",
        "    await writer.wait_closed()",
        "    print(response.decode('ascii').split('\\r\\n\\r\\n', 1)[1])",
        "",
        "asyncio.run(main(int(sys.argv[1])))");
    fetchesAndIsRecorded("python-asyncio", List.of(program("python.exe").toString(), script.toString(),
        Integer.toString(port)), true, false);
  }

  @Test
  void rubyNetHttp() throws Exception {
    // Ruby opens its sockets on the first entry with IFS handles: Teardown's in compatible mode,
    // the base provider's, around Teardown, in full mode.
    fetchesAndIsRecorded("ruby-net-http", List.of(program("ruby.exe").toString(), "-e",
        "require 'net/http'; puts Net::HTTP.get(URI('" + url() + "'))"),
        Machine.mode() == Machine.Mode.COMPATIBLE, false);
  }

  @Test
  void perlSockets() throws Exception {
    // Perl's Windows port does as Ruby's.
    Path script = script("fetch.pl",
        "use strict;",
        "use IO::Socket::INET;",
        "my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ARGV[0]) or die $!;",
        "print $s qq{GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n};",
        "local $/;",
        "my $response = <$s>;",
        "close $s;",
        "print((split /\\r\\n\\r\\n/, $response, 2)[1], qq{\\n});");
    fetchesAndIsRecorded("perl-socket", List.of(program("perl.exe").toString(), script.toString(),
        Integer.toString(port)), Machine.mode() == Machine.Mode.COMPATIBLE, false);
  }

  @Test
  void statusSaysTheModeAndListsTheProgramsKeptOut() throws Exception {
    String status = Machine.teardown("status");
    assertTrue(status.contains("Teardown installed in " + Machine.mode().cliName() + " mode"), status);
    Path wsl = Path.of(System.getenv().getOrDefault("SystemRoot", "C:\\Windows"), "System32", "wsl.exe");
    if (Files.isRegularFile(wsl)) {
      assertTrue(status.toLowerCase(Locale.ROOT).contains(wsl.toString().toLowerCase(Locale.ROOT)),
          "the default install kept every LSP out of WSL:\n" + status);
    }
  }

}
