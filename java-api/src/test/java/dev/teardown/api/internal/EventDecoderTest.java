package dev.teardown.api.internal;

import java.util.Set;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.teardown.api.CloseMode;
import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.Ending;
import dev.teardown.api.FramingError;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.KernelView;
import dev.teardown.api.TcpState;
import dev.teardown.api.TeardownEvent;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Records come from memory any local process can write: whatever does not make sense is
 * rejected, never turned into an event or an exception. Runs without the native library.
 */
class EventDecoderTest {
  private final EventDecoder decoder = new EventDecoder();

  private static TeardownEvent close() {
    return new TeardownEvent(
        3, TeardownEvent.epochNanos(Instant.parse("2026-01-01T00:00:00Z")), 10, "srv", 5, 6, 1, EventKind.CLOSE, 0, null,
        CloseMode.ABORTIVE, Duration.ZERO, Set.of(), 4, new byte[] {1, 2, 3, 4},
        new InetSocketAddress("127.0.0.1", 1), new InetSocketAddress("127.0.0.1", 2),
        new ConnectionSummary(Duration.ofSeconds(1), 1, 2, Initiator.REMOTE, Ending.ABORTIVE, TcpState.CLOSED), null);
  }

  private ByteBuffer encoded(Consumer<ByteBuffer> damage) {
    ByteBuffer buffer = ByteBuffer.allocate(EventRecordLayout.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    EventEncoder.encode(close(), buffer, 0);
    damage.accept(buffer);
    return buffer;
  }

  @Test
  void aSoundRecordDecodes() {
    TeardownEvent event = decoder.decode(encoded(b -> {}), 0);
    assertNotNull(event);
    assertEquals(CloseMode.ABORTIVE, event.closeMode());
    assertEquals(Ending.ABORTIVE, event.summary().ending());
    assertEquals(Initiator.REMOTE, event.summary().firstShutdown());
    assertEquals(TcpState.CLOSED, event.summary().kernelState(), "the kernel's state survives the round trip");
  }

  @Test
  void unknownKindIsRejected() {
    assertNull(decoder.decode(encoded(b -> b.putShort(EventRecordLayout.KIND, (short) 99)), 0));
    assertNull(decoder.decode(encoded(b -> b.putShort(EventRecordLayout.KIND, (short) 0)), 0));
  }

  @Test
  void captureLongerThanTheDataOrTheSlotIsRejected() {
    assertNull(decoder.decode(encoded(b -> b.putShort(EventRecordLayout.CAPTURED_LENGTH, (short) 5)), 0));
    assertNull(
        decoder.decode(
            encoded(
                b -> {
                  b.putInt(EventRecordLayout.DATA_LENGTH, 100_000);
                  b.putShort(EventRecordLayout.CAPTURED_LENGTH, (short) 257);
                }),
            0));
  }

  @Test
  void theProgramsOwnErrorAndTheKernelsViewGoThereAndBack() {
    KernelView told = new KernelView(1000, 5, 0, 12, Duration.ofNanos(48_000), 3, 0, 2);
    KernelView partly = new KernelView(KernelView.UNKNOWN, KernelView.UNKNOWN, 7, KernelView.UNKNOWN, null,
        (int) KernelView.UNKNOWN, (int) KernelView.UNKNOWN, (int) KernelView.UNKNOWN);
    for (KernelView view : new KernelView[] {told, partly}) {
      TeardownEvent lost = new TeardownEvent(
          0, TeardownEvent.epochNanos(Instant.parse("2026-01-01T00:00:00Z")), 10, "srv", 5, 6, 1, EventKind.RESET,
          10054, null, null, Duration.ZERO, Set.of(EventFlag.KERNEL_VIEW, EventFlag.ACCEPTED), 0, null,
          new InetSocketAddress("127.0.0.1", 1), new InetSocketAddress("127.0.0.1", 2), null, null, "", 32, view);
      ByteBuffer buffer = ByteBuffer.allocate(EventRecordLayout.SIZE).order(ByteOrder.LITTLE_ENDIAN);
      EventEncoder.encode(lost, buffer, 0);
      TeardownEvent decoded = decoder.decode(buffer, 0);
      assertEquals(view, decoded.kernel());
      assertEquals(32, decoded.osError());
      assertEquals("EPIPE (WSAECONNRESET)", decoded.errorName());
      assertEquals(lost, decoded.withUser(""));
    }
    // Without the flag, whatever the bytes hold is no view.
    ByteBuffer buffer = encoded(b -> b.putLong(EventRecordLayout.KERNEL, 99));
    assertNull(decoder.decode(buffer, 0).kernel());
  }

  @Test
  void aResetForAFramingErrorCarriesWhatWasWrong() {
    ByteBuffer buffer = ByteBuffer.allocate(EventRecordLayout.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    EventEncoder.encode(close(), buffer, 0);
    buffer.putShort(EventRecordLayout.KIND, (short) EventKind.RESET.code());
    buffer.put(EventRecordLayout.DETAIL, (byte) 1);
    buffer.putShort(EventRecordLayout.FLAGS, (short) EventFlag.FRAMING.bit());
    TeardownEvent reset = decoder.decode(buffer, 0);
    assertNotNull(reset);
    assertEquals(FramingError.NOT_FRAMED, reset.framingError());
    assertNull(reset.summary());

    buffer.put(EventRecordLayout.DETAIL, (byte) 10);
    assertNull(decoder.decode(buffer, 0), "no such framing error");
    buffer.putShort(EventRecordLayout.FLAGS, (short) 0);
    assertNull(decoder.decode(buffer, 0).framingError(), "no FRAMING flag, no framing error");
  }

  @Test
  void impossibleModesFamiliesAndSummariesAreRejected() {
    assertNull(decoder.decode(encoded(b -> b.put(EventRecordLayout.DETAIL, (byte) 9)), 0));
    assertNull(decoder.decode(encoded(b -> b.put(EventRecordLayout.LOCAL, (byte) 5)), 0));
    assertNull(decoder.decode(encoded(b -> b.put(EventRecordLayout.ENDING, (byte) 3)), 0));
    assertNull(decoder.decode(encoded(b -> b.put(EventRecordLayout.FIRST_SHUTDOWN, (byte) 7)), 0));
    assertNull(decoder.decode(encoded(b -> b.put(EventRecordLayout.KERNEL_STATE, (byte) 12)), 0),
        "no such TCP state");
  }

  @Test
  void processNamesAndEndpointsAreSharedBetweenEvents() {
    TeardownEvent first = decoder.decode(encoded(b -> {}), 0);
    TeardownEvent second = decoder.decode(encoded(b -> {}), 0);
    assertSame(first.processName(), second.processName());
    assertSame(first.local(), second.local());
  }

  @Test
  void aProcessThatChangesItsNameIsNotGivenTheOldOne() {
    decoder.decode(encoded(b -> {}), 0);
    TeardownEvent renamed =
        decoder.decode(encoded(b -> b.put(EventRecordLayout.PROCESS_NAME, (byte) 'S')), 0);
    assertEquals("Srv", renamed.processName());
  }

  @Test
  void aPidsNameIsReadAgainWheneverItsBytesChange() {
    // One pid, names of every shape in turn (exec changes a process's name): each decodes as its own.
    String full = "x".repeat(EventRecordLayout.PROCESS_NAME_SIZE);
    for (String name : new String[] {"srv", "server2", "srv", "exactly8", "exactly9x", "", full,
        "exactly8", full.substring(1), "srv"}) {
      ByteBuffer buffer = encoded(b -> {
        byte[] field = new byte[EventRecordLayout.PROCESS_NAME_SIZE];
        byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        System.arraycopy(bytes, 0, field, 0, bytes.length);
        b.put(EventRecordLayout.PROCESS_NAME, field);
      });
      assertEquals(name, decoder.decode(buffer, 0).processName());
    }
  }
}
