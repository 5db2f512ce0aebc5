package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The shared flag sets every decoded event carries: each behaves as an immutable set of exactly
 * its bits' flags, in every way a caller can tell, and turns back into the same bits.
 */
class EventFlagTest {
  private static final int ALL_BITS = 0x7F;

  private static EnumSet<EventFlag> byHand(int bits) {
    EnumSet<EventFlag> set = EnumSet.noneOf(EventFlag.class);
    for (EventFlag flag : EventFlag.values()) {
      if ((bits & flag.bit()) != 0) {
        set.add(flag);
      }
    }
    return set;
  }

  @Test
  void everySharedSetIsTheSetOfItsBits() {
    for (int bits = 0; bits <= ALL_BITS; bits++) {
      Set<EventFlag> shared = EventFlag.fromBits(bits);
      EnumSet<EventFlag> expected = byHand(bits);
      assertEquals(expected, shared, "bits " + bits);
      assertEquals(shared, expected, "bits " + bits + ", compared the other way");
      assertEquals(expected.hashCode(), shared.hashCode(), "bits " + bits);
      assertEquals(expected.size(), shared.size(), "bits " + bits);
      assertEquals(expected.isEmpty(), shared.isEmpty(), "bits " + bits);
      assertEquals(expected.toString(), shared.toString(), "bits " + bits);
      assertEquals(List.copyOf(expected), new ArrayList<>(shared), "declaration order, bits " + bits);
      for (EventFlag flag : EventFlag.values()) {
        assertEquals(expected.contains(flag), shared.contains(flag), flag + " in bits " + bits);
      }
      assertFalse(shared.contains("CONVERTED"), "only flags are in a set of flags");
      assertFalse(shared.contains(null));
      assertEquals(bits, EventFlag.toBits(shared));
      assertEquals(bits, EventFlag.toBits(new HashSet<>(expected)), "any set's bits, bits " + bits);
      assertSame(shared, EventFlag.fromBits(bits), "one set per combination");
    }
  }

  @Test
  void unknownBitsAreIgnored() {
    assertEquals(EventFlag.fromBits(0x5), EventFlag.fromBits(0x5 | 0x400 | 0x4000));
  }

  @Test
  void aSharedSetCannotBeChanged() {
    Set<EventFlag> shared = EventFlag.fromBits(EventFlag.CONVERTED.bit() | EventFlag.SHARED.bit());
    assertThrows(UnsupportedOperationException.class, () -> shared.add(EventFlag.AT_EXIT));
    assertThrows(UnsupportedOperationException.class, () -> shared.remove(EventFlag.CONVERTED));
    assertThrows(UnsupportedOperationException.class, shared::clear);
    assertThrows(UnsupportedOperationException.class, () -> shared.removeIf(flag -> true));
    Iterator<EventFlag> iterator = shared.iterator();
    iterator.next();
    assertThrows(UnsupportedOperationException.class, iterator::remove);
    iterator.next();
    assertFalse(iterator.hasNext());
    assertThrows(NoSuchElementException.class, iterator::next);
    assertEquals(Set.of(EventFlag.CONVERTED, EventFlag.SHARED), shared, "unchanged");
  }

  @Test
  void anEventKeepsTheSharedSetOfWhatItWasGiven() {
    Set<EventFlag> given = new HashSet<>(Set.of(EventFlag.NON_BLOCKING, EventFlag.UNREAD_DATA));
    TeardownEvent event = withFlags(given);
    assertSame(EventFlag.fromBits(EventFlag.toBits(given)), event.flags());
    given.add(EventFlag.AT_EXIT);
    assertEquals(Set.of(EventFlag.NON_BLOCKING, EventFlag.UNREAD_DATA), event.flags(),
        "a caller's set changed later does not change the event");
    Set<EventFlag> shared = EventFlag.fromBits(EventFlag.CLEANUP.bit());
    assertSame(shared, withFlags(shared).flags());
    assertTrue(withFlags(shared).flags().contains(EventFlag.CLEANUP));
  }

  private static TeardownEvent withFlags(Set<EventFlag> flags) {
    TeardownEvent close = Events.of(EventKind.CLOSE, 7);
    return new TeardownEvent(close.sequence(), close.timeNanos(), close.pid(), close.processName(),
        close.socketId(), close.protocol(), close.socketType(), close.kind(), close.error(),
        close.shutdownHow(), close.closeMode(), close.linger(), flags, close.dataLength(),
        close.captured(), close.local(), close.remote(), close.summary(), close.framingError());
  }
}
