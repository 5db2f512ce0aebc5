package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.TeardownChannel.ReadFrom;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public API end to end over a real channel. */
class TeardownChannelTest {
  @TempDir Path dir;

  @Test
  void everyFieldOfAnEventSurvivesTheChannel() throws Exception {
    byte[] data = "grand total: 4711".getBytes(StandardCharsets.UTF_8);
    TeardownEvent sent =
        new TeardownEvent(
            0, TeardownEvent.epochNanos(Instant.parse("2026-11-25T10:00:00.123456789Z")), 77, "server", 0x1234_5678_9ABCL,
            6, 1, EventKind.CLOSE, WinsockErrors.WSAEWOULDBLOCK, null, CloseMode.GRACEFUL_LINGER,
            Duration.ofSeconds(30), Set.of(EventFlag.CONVERTED, EventFlag.NON_BLOCKING), data.length + 5, data,
            new InetSocketAddress(InetAddress.getByName("::1"), 443),
            new InetSocketAddress(InetAddress.getByName("fe80::1%1"), 51000),
            new ConnectionSummary(Duration.ofNanos(987_654_321), 1L << 40, 3, Initiator.REMOTE, Ending.ABORTIVE), null);
    // A ring of one lane, whose first event is sequence 0.
    try (TeardownChannel channel = TeardownChannel.create(dir, 64);
        EventReader reader = channel.reader(ReadFrom.OLDEST)) {
      channel.publish(sent);
      EventReader.Batch batch = reader.read();
      assertEquals(0, batch.lost());
      assertEquals(1, batch.events().size());
      TeardownEvent received = batch.events().get(0);
      assertEquals(sent.withUser(System.getProperty("user.name")), received);
      assertArrayEquals(data, received.captured());
      assertFalse(received.capturedAll());
      assertEquals("WSAEWOULDBLOCK", received.errorName());
      assertEquals(Instant.parse("2026-11-25T10:00:00.123456789Z"), received.time());
      assertEquals(1, ((java.net.Inet6Address) received.remote().getAddress()).getScopeId());
    }
  }

  @Test
  void eventsWithoutEndpointsOrSummaryDecodeAsNull() {
    TeardownEvent bare =
        new TeardownEvent(
            0, 0L, 1, "p", 2, 6, 1, EventKind.EOF, 0, null, null, Duration.ZERO, Set.of(),
            0, null, null, null, null, null);
    try (TeardownChannel channel = TeardownChannel.create(dir);
        EventReader reader = channel.reader(ReadFrom.OLDEST)) {
      channel.publish(bare);
      TeardownEvent received = reader.read().events().get(0);
      assertNull(received.local());
      assertNull(received.remote());
      assertNull(received.summary());
      assertEquals(0, received.captured().length);
    }
  }

  @Test
  void aReaderThatFallsBehindLosesTheOldestAndIsToldHowMany() {
    try (TeardownChannel channel = TeardownChannel.create(dir, 64);
        EventReader reader = channel.reader(ReadFrom.OLDEST, 16, Duration.ofMillis(50))) {
      assertEquals(64, channel.capacity());
      for (int i = 0; i < 100; i++) {
        channel.publish(Events.of(EventKind.RESET, i));
      }
      List<TeardownEvent> all = new ArrayList<>();
      long lost = 0;
      for (EventReader.Batch batch = reader.read(); !batch.isEmpty(); batch = reader.read()) {
        assertTrue(batch.events().size() <= 16, "one batch holds at most the batch size");
        all.addAll(batch.events());
        lost += batch.lost();
      }
      assertEquals(36, lost);
      assertEquals(64, all.size());
      assertEquals(36, all.get(0).socketId());
      assertEquals(99, all.get(63).socketId());
      assertEquals(64, reader.delivered());
      assertEquals(36, reader.lost());
    }
  }

  // What laneCapacity promises is what a ring holds of one thread's burst with no reader reading.
  @Test
  void oneThreadsBurstIsHeldUpToTheLaneCapacity() {
    try (TeardownChannel channel = TeardownChannel.create(dir, 16384);
        EventReader reader = channel.reader(ReadFrom.OLDEST)) {
      int lane = channel.laneCapacity();
      assertTrue(lane >= 4096 && lane <= 16384 && 16384 % lane == 0, "lanes of 4096 or more: " + lane);
      int burst = 20_000;
      for (int i = 0; i < burst; i++) {
        channel.publish(Events.of(EventKind.RESET, i));
      }
      long held = 0;
      long lost = 0;
      for (EventReader.Batch batch = reader.read(); !batch.isEmpty(); batch = reader.read()) {
        held += batch.events().size();
        lost += batch.lost();
      }
      assertEquals(lane, held, "the ring holds " + channel.capacity() + " in all, one thread's share of it");
      assertEquals(burst - lane, lost, "the reader is told of the rest");
    }
  }

  @Test
  void aResumedReaderGoesOnWhereTheSavedPositionsSayAndCountsWhatWentByMeanwhile() {
    try (TeardownChannel channel = TeardownChannel.create(dir, 64)) {
      for (int i = 0; i < 10; i++) {
        channel.publish(Events.of(EventKind.EOF, i));
      }
      List<RingPosition> saved;
      try (EventReader reader = channel.reader(ReadFrom.OLDEST, 4, Duration.ofMillis(50))) {
        assertEquals(4, reader.read().events().size());
        saved = reader.positions();
      }
      assertEquals(1, saved.size());
      assertEquals(4, saved.get(0).nextSequence());
      assertTrue(saved.get(0).ring().startsWith("ring-"), saved.get(0).ring());
      channel.publish(Events.of(EventKind.EOF, 10));
      try (EventReader resumed = channel.resume(saved, 64, Duration.ofMillis(50))) {
        EventReader.Batch batch = resumed.read();
        assertEquals(List.of(4L, 5L, 6L, 7L, 8L, 9L, 10L), batch.events().stream().map(TeardownEvent::socketId).toList());
        assertEquals(0, batch.lost());
        assertEquals(11, resumed.positions().get(0).nextSequence());
      }
      for (int i = 11; i < 111; i++) {
        channel.publish(Events.of(EventKind.EOF, i));
      }
      try (EventReader late = channel.resume(saved, 64, Duration.ofMillis(50))) {
        EventReader.Batch batch = late.read();
        assertEquals(64, batch.events().size());
        assertEquals(47, batch.events().get(0).socketId());
        assertEquals(43, batch.lost(), "4..46 were overwritten while nobody read");
      }
    }
  }

  @Test
  void aReaderFromNewestSeesOnlyWhatFollows() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      channel.publish(Events.of(EventKind.EOF, 1));
      try (EventReader reader = channel.reader(ReadFrom.NEWEST)) {
        channel.publish(Events.of(EventKind.EOF, 2));
        List<TeardownEvent> events = reader.read().events();
        assertEquals(1, events.size());
        assertEquals(2, events.get(0).socketId());
      }
    }
  }

  @Test
  void countersAreExactPerKind() {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      channel.publish(Events.of(EventKind.SHUTDOWN, 1));
      channel.publish(Events.of(EventKind.CLOSE, 1));
      channel.publish(Events.of(EventKind.CLOSE, 2));
      Counters counters = channel.counters();
      assertEquals(3, counters.produced());
      assertEquals(0, counters.dropped());
      assertEquals(1, counters.published(EventKind.SHUTDOWN));
      assertEquals(2, counters.published(EventKind.CLOSE));
      assertEquals(0, counters.published(EventKind.RESET));
    }
  }

  @Test
  void configurationRoundTripsAndIsSeenByAnotherHandle() {
    Configuration wanted =
        Configuration.builder()
            .kinds(EventKind.CLOSE, EventKind.RESET)
            .processes(List.of("curl", "java.exe"))
            .ports(List.of(PortRange.of(443), new PortRange(8000, 8099)))
            .captureBytes(64)
            .emulationPorts(List.of(7000))
            .abortiveToGraceful(true)
            .build();
    try (TeardownChannel admin = TeardownChannel.create(dir);
        TeardownChannel other = TeardownChannel.open(dir)) {
      assertEquals(Configuration.DEFAULT, admin.configuration());
      admin.configure(wanted);
      assertEquals(wanted, other.configuration());
    }
  }

  @Test
  void openingAMissingChannelFailsClearly() {
    TeardownException e =
        assertThrows(TeardownException.class, () -> TeardownChannel.open(dir.resolve("none")));
    assertEquals(TeardownException.Status.NOT_FOUND, e.status());
    assertTrue(e.getMessage().contains(dir.resolve("none").toString()), e.getMessage());
  }

  /** The one ring this test's user has in the channel. */
  private Path ownRing() throws IOException {
    try (var rings = Files.list(dir.resolve("rings"))) {
      List<Path> all = rings.filter(p -> p.getFileName().toString().startsWith("ring-")).toList();
      assertEquals(1, all.size(), all.toString());
      return all.get(0);
    }
  }

  @Test
  void aRingItsOwnerDamagesLosesEventsButNeverStopsTheReader() throws IOException {
    try (TeardownChannel channel = TeardownChannel.create(dir);
        EventReader reader = channel.reader(ReadFrom.OLDEST)) {
      channel.publish(Events.of(EventKind.EOF, 1));
      Files.write(ownRing(), new byte[64], StandardOpenOption.WRITE);
      EventReader.Batch batch = reader.read();
      assertTrue(batch.events().isEmpty(), "nothing is read from a damaged ring");
      Files.write(ownRing(), new byte[0], StandardOpenOption.TRUNCATE_EXISTING);
      assertTrue(reader.read().events().isEmpty(), "nor from a truncated one, without a fault");
    }
    try (TeardownChannel reopened = TeardownChannel.open(dir)) {
      assertTrue(reopened.configurationOwner().present());
    }
  }

  @Test
  void eventsCarryTheirRingsOwnerAsTheUser() {
    try (TeardownChannel channel = TeardownChannel.create(dir);
         EventReader reader = channel.reader(ReadFrom.OLDEST)) {
      channel.publish(Events.of(EventKind.EOF, 1));
      TeardownEvent received = reader.read().events().get(0);
      assertEquals(System.getProperty("user.name"), received.user());
      assertTrue(received.toString().contains("(" + received.user() + ")"), received.toString());
    }
  }

  @Test
  void aWildLossCountIsReportedSaturatedNeverNegative() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir, 64)) {
      channel.publish(Events.of(EventKind.EOF, 1));
      CountDownLatch lostSeen = new CountDownLatch(1);
      List<Long> counts = Collections.synchronizedList(new ArrayList<>());
      try (Subscription subscription = channel.subscribe(ReadFrom.OLDEST, new TeardownListener() {
        @Override
        public void onEvents(List<TeardownEvent> events) {}

        @Override
        public void onLost(long count) {
          counts.add(count);
          lostSeen.countDown();
        }
      })) {
        // The ring's owner sets its head near 2^63.
        ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(0, Long.MAX_VALUE - 2);
        try (FileChannel file = FileChannel.open(ownRing(), StandardOpenOption.WRITE)) {
          file.write(head, 64);
        }
        assertTrue(lostSeen.await(10, TimeUnit.SECONDS));
        assertTrue(subscription.isRunning(), "the subscription goes on");
      }
      assertTrue(counts.stream().allMatch(count -> count > 0), counts.toString());
    }
  }

  @Test
  void aSubscriptionDeliversInOrderOnADaemonThreadUntilClosed() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      List<Long> seen = Collections.synchronizedList(new ArrayList<>());
      CountDownLatch five = new CountDownLatch(5);
      AtomicReference<Thread> thread = new AtomicReference<>();
      Subscription subscription =
          channel.subscribe(
              ReadFrom.NEWEST,
              events -> {
                thread.set(Thread.currentThread());
                for (TeardownEvent event : events) {
                  seen.add(event.socketId());
                  five.countDown();
                }
              });
      for (long i = 0; i < 5; i++) {
        channel.publish(Events.of(EventKind.FD_CLOSE, i));
      }
      assertTrue(five.await(10, TimeUnit.SECONDS));
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), seen);
      assertTrue(thread.get().isDaemon());
      subscription.close();
      assertFalse(subscription.isRunning());
      channel.publish(Events.of(EventKind.FD_CLOSE, 9));
      Thread.sleep(50);
      assertEquals(5, seen.size(), "nothing is delivered after close");
    }
  }

  @Test
  void aListenerThatThrowsIsToldApartFromAReadFailureAndDeliveryGoesOn() throws Exception {
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      List<Throwable> ownFailures = Collections.synchronizedList(new ArrayList<>());
      List<TeardownException> readFailures = Collections.synchronizedList(new ArrayList<>());
      CountDownLatch second = new CountDownLatch(1);
      Subscription subscription = channel.subscribe(ReadFrom.NEWEST, new TeardownListener() {
        @Override
        public void onEvents(List<TeardownEvent> events) {
          if (events.get(0).socketId() == 1) {
            throw new IllegalStateException("the listener's own bug");
          }
          second.countDown();
        }

        @Override
        public void onListenerFailure(Throwable failure) {
          ownFailures.add(failure);
        }

        @Override
        public void onError(TeardownException e) {
          readFailures.add(e);
        }
      });
      channel.publish(Events.of(EventKind.FD_CLOSE, 1));
      for (int i = 0; i < 500 && ownFailures.isEmpty(); i++) {
        Thread.sleep(10);
      }
      channel.publish(Events.of(EventKind.FD_CLOSE, 2));
      assertTrue(second.await(10, TimeUnit.SECONDS), "delivery goes on after the listener threw");
      assertEquals(1, ownFailures.size());
      assertTrue(ownFailures.get(0) instanceof IllegalStateException);
      assertTrue(subscription.isRunning());
      assertEquals(List.of(), readFailures, "not a read failure");
      subscription.close();
      assertFalse(subscription.isRunning());
    }
  }

  @Test
  void closingTheChannelUnderALiveSubscriptionEndsItQuietly() throws Exception {
    List<TeardownException> errors = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch delivered = new CountDownLatch(1);
    TeardownChannel channel = TeardownChannel.create(dir);
    Subscription subscription = channel.subscribe(ReadFrom.NEWEST, new TeardownListener() {
      @Override
      public void onEvents(List<TeardownEvent> events) {
        delivered.countDown();
      }

      @Override
      public void onError(TeardownException e) {
        errors.add(e);
      }
    });
    channel.publish(Events.of(EventKind.FD_CLOSE, 1));
    assertTrue(delivered.await(10, TimeUnit.SECONDS));
    channel.close();
    assertFalse(subscription.isRunning(), "the channel's close ends its subscriptions");
    Thread.sleep(50);
    assertEquals(List.of(), errors, "a close is not a failure");
    subscription.close();
  }

  @Test
  void theDefaultsSayWhatWentWrongInTheLog() throws Exception {
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.teardown.api");
    List<java.util.logging.LogRecord> records = Collections.synchronizedList(new ArrayList<>());
    java.util.logging.Handler handler = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord record) {
        records.add(record);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    log.addHandler(handler);
    try (TeardownChannel channel = TeardownChannel.create(dir)) {
      TeardownListener throwing = events -> {
        throw new IllegalStateException("a lambda's bug");
      };
      try (Subscription subscription = channel.subscribe(ReadFrom.NEWEST, throwing)) {
        channel.publish(Events.of(EventKind.FD_CLOSE, 1));
        for (int i = 0; i < 500 && records.isEmpty(); i++) {
          Thread.sleep(10);
        }
        assertTrue(subscription.isRunning());
      }
      assertEquals(1, records.size(), "a lambda listener that throws is not silent");
      assertEquals(java.util.logging.Level.WARNING, records.get(0).getLevel());
      assertEquals("a lambda's bug", records.get(0).getThrown().getMessage());
      records.clear();
      throwing.onError(new TeardownException(TeardownException.Status.IO, "the disk went away"));
      assertEquals(java.util.logging.Level.SEVERE, records.get(0).getLevel());
      assertTrue(records.get(0).getMessage().contains("the disk went away"), records.get(0).getMessage());
    } finally {
      log.removeHandler(handler);
    }
  }

  @Test
  void aClosedChannelRefusesFurtherUse() {
    TeardownChannel channel = TeardownChannel.create(dir);
    EventReader reader = channel.reader(ReadFrom.OLDEST);
    channel.close();
    channel.close();
    assertThrows(IllegalStateException.class, channel::counters);
    assertThrows(IllegalStateException.class, reader::read);
    reader.close();
    reader.close();
  }
}
