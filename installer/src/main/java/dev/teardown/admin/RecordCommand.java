package dev.teardown.admin;

import dev.teardown.admin.service.RecorderService;
import dev.teardown.admin.service.ServiceHost;
import dev.teardown.api.TeardownChannel;
import dev.teardown.history.Recorder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code teardown record}: a durable history of every teardown, until stopped. */
@Command(
    name = "record",
    description = {
        "Record every event of the channel into a history database until stopped.",
        "Ctrl-C or SIGTERM commits and stops. Started again, it goes on from its last commit:"
            + " nothing is recorded twice, and what the channel overwrote meanwhile is recorded as"
            + " a loss. Query the history with `teardown why`."})
final class RecordCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Mixin HistoryDatabase database;

  @Option(names = "--max-age", paramLabel = "DURATION", description = "Drop connections older than this (default: 30d).")
  Duration maxAge = Recorder.Options.DEFAULT.maxAge();

  @Option(
      names = "--max-size",
      paramLabel = "SIZE",
      converter = SizeConverter.class,
      description = "Keep the database under this size, dropping the oldest connections (default: 1GiB).")
  long maxSize = Recorder.Options.DEFAULT.maxBytes();

  @Option(names = "--print-systemd-unit", description = "Print a systemd unit that runs this recorder, and exit.")
  boolean printUnit;

  // How the Windows service runs it (`teardown install --recorder`): under the service control
  // manager, its messages appended to <db>.log.
  @Option(names = "--service", hidden = true)
  boolean service;

  @Spec CommandSpec spec;

  static final class SizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      return Sizes.parse(value);
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path db = database.resolve(channel.directory).toAbsolutePath();
    Recorder.Options options;
    try {
      options = Recorder.Options.DEFAULT.withMaxAge(maxAge).withMaxBytes(maxSize);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    if (printUnit) {
      out.print(systemdUnit(db));
      out.flush();
      return 0;
    }
    if (service) {
      return serve(db, options);
    }
    // Ctrl-C, SIGTERM: stop, and hold the JVM until the last commit is made, the database closed
    // and the totals said.
    CountDownLatch done = new CountDownLatch(1);
    try {
      Recorder.Progress progress;
      try (TeardownChannel opened = channel.open();
          Recorder recorder = Recorder.open(opened, db, options)) {
        err.printf("teardown: recording %s into %s (keeping %s, %s); Ctrl-C to stop%n",
            opened.path(), db, Durations.describe(maxAge), Sizes.format(maxSize));
        err.flush();
        Thread hook = new Thread(() -> {
          recorder.stop();
          try {
            done.await(15, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "teardown-record-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
          recorder.run();
        } finally {
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException shuttingDown) {
            // stopped by a signal: the hook waits for `done`
          }
        }
        progress = recorder.progress();
      }
      err.printf("teardown: stopped; %d events recorded in all, %d lost before they could be read; %s%n",
          progress.recorded(), progress.lost(), db);
      err.flush();
      return 0;
    } finally {
      done.countDown();
    }
  }

  /** The recorder as the Windows service: a log next to the database says what it did. */
  private int serve(Path db, Recorder.Options options) {
    if (!com.sun.jna.Platform.isWindows()) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--service is for Windows' service control manager (`teardown install --recorder`)");
    }
    Path log = db.resolveSibling(db.getFileName() + ".log");
    try (TeardownChannel opened = channel.open();
        Recorder recorder = Recorder.open(opened, db, options)) {
      ServiceLog.append(log, "started: recording " + opened.path() + " into " + db);
      Throwable failure = ServiceHost.serve(RecorderService.NAME, new ServiceHost.Task() {
        @Override
        public void run() {
          recorder.run();
        }

        @Override
        public void stop() {
          recorder.stop();
        }
      });
      Recorder.Progress progress = recorder.progress();
      ServiceLog.append(log, failure == null
          ? "stopped: " + progress.recorded() + " events recorded in all, " + progress.lost() + " lost"
          : "failed: " + failure.getMessage());
      return failure == null ? 0 : 1;
    } catch (RuntimeException e) {
      ServiceLog.append(log, "could not start: " + e.getMessage());
      throw e;
    }
  }

  /** This program's jar, as a service or unit runs it. */
  static Path jar() {
    try {
      return Path.of(RecordCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (Exception e) {
      throw new IllegalStateException("cannot tell where teardown.jar is: " + e.getMessage(), e);
    }
  }

  /** The Java that runs this program. */
  static Path java() {
    return Path.of(System.getProperty("java.home"), "bin", com.sun.jna.Platform.isWindows() ? "java.exe" : "java");
  }

  /** A unit that runs this very program as the system recorder. */
  static String systemdUnit(Path db) {
    String jar = jar().toString();
    String java = java().toString();
    return String.join("\n",
        "[Unit]",
        "Description=Teardown recorder: the history of how every connection ended",
        "Documentation=teardown record --help",
        "After=local-fs.target",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + java + " -jar " + jar + " record --db " + db,
        "KillSignal=SIGTERM",
        "# A JVM stopped by SIGTERM exits with 143 once the recorder has committed.",
        "SuccessExitStatus=143",
        "TimeoutStopSec=20",
        "Restart=on-failure",
        "RestartSec=5",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "");
  }
}
