package dev.teardown.api.bench;

import dev.teardown.api.EventKind;
import dev.teardown.api.Subscription;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * From an event's publication to the listener of a subscription with the default idle policy:
 * events published one at a time, 0.5 to 3 ms apart (a quiet channel, the hard case for a
 * polling reader), each stamped with the wall clock when published and timed when delivered,
 * after a warm-up of {@value #WARM_UP} events.
 *
 * <p>Prints p50, p99 and the largest delay, then {@code java_latency_p99_us VALUE us}.
 *
 * <pre>mvn -B -q -Pbench -DskipTests verify -pl java-api \
 *   -Dbench.main=dev.teardown.api.bench.LatencyBenchmark -Djmh.args=2000</pre>
 */
public final class LatencyBenchmark {
  // Events delivered before timing starts: the first ones wait for class loading and the JIT.
  private static final int WARM_UP = 300;

  private static double idleCpuPercent;

  private LatencyBenchmark() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    Path shm = Path.of("/dev/shm");
    Path dir = Files.isDirectory(shm)
        ? Files.createTempDirectory(shm, "teardown-latency")
        : Files.createTempDirectory("teardown-latency");
    long[] delays = new long[samples];
    AtomicInteger delivered = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(1);
    try (TeardownChannel channel = TeardownChannel.create(dir);
        Subscription subscription = channel.subscribe(TeardownChannel.ReadFrom.NEWEST, events -> {
          long now = now();
          for (TeardownEvent event : events) {
            int i = delivered.getAndIncrement() - WARM_UP;
            if (i >= 0 && i < samples) {
              delays[i] = now - event.timeNanos();
            }
            if (i + 1 == samples) {
              done.countDown();
            }
          }
        })) {
      Thread.sleep(100);  // the subscription is running, and its reads find nothing
      for (int i = 0; i < WARM_UP + samples; i++) {
        channel.publish(new TeardownEvent(0, now(), 1, "latency", i, 6, 1, EventKind.CLOSE, 0,
            null, dev.teardown.api.CloseMode.GRACEFUL, Duration.ZERO, Set.of(), 0, null,
            new InetSocketAddress("127.0.0.1", 50000), new InetSocketAddress("127.0.0.1", 8080),
            null, null));
        TimeUnit.MICROSECONDS.sleep(ThreadLocalRandom.current().nextLong(500, 3000));
      }
      if (!done.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("delivered " + delivered.get() + " of " + (WARM_UP + samples));
      }
      // What the quiet channel costs once everything is compiled: the subscription's reads.
      com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
          java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      Thread.sleep(500);
      long cpuBefore = os.getProcessCpuTime();
      Thread.sleep(3000);
      idleCpuPercent = (os.getProcessCpuTime() - cpuBefore) / 3e9 * 100;
    } finally {
      try (var files = Files.walk(dir)) {
        for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    }
    Arrays.sort(delays);
    double p50 = delays[samples / 2] / 1e3;
    double p99 = delays[(int) Math.ceil(samples * 0.99) - 1] / 1e3;
    System.out.printf("publication to listener, default idle policy (%d events 0.5-3 ms apart):"
        + " p50 %.0f us, p99 %.0f us, max %.0f us%n", samples, p50, p99,
        delays[samples - 1] / 1e3);
    System.out.printf("a quiet channel's subscription costs %.2f%% of a CPU (the process, 3 s)%n",
        idleCpuPercent);
    System.out.printf("java_latency_p99_us %.0f us%n", p99);
  }

  private static long now() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }
}
