package dev.teardown.api;

import java.util.AbstractSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;

/** Circumstances of an event, beyond its kind. */
public enum EventFlag {
  /** An abortive close that the abortive-to-graceful policy performed gracefully. */
  CONVERTED(0x1),
  /** The socket was non-blocking when the call was made. */
  NON_BLOCKING(0x2),
  /** Closed with received data unread: the stack resets the connection, whatever lingers. */
  UNREAD_DATA(0x4),
  /** Other handles (dup, fork, inheritance) may keep the connection open after this close. */
  SHARED(0x8),
  /** Closed by the process's exit rather than by a call. */
  AT_EXIT(0x10),
  /**
   * Disconnect-data emulation: the peer's stream was not framed as agreed, and the layer reset
   * the connection (see {@link TeardownEvent#framingError()}).
   */
  FRAMING(0x20),
  /**
   * Windows: closed by the program's last {@code WSACleanup}, which closes every socket still
   * open, rather than by {@code closesocket}.
   */
  CLEANUP(0x40),
  /** The event carries the kernel's view of the connection ({@link TeardownEvent#kernel()}). */
  KERNEL_VIEW(0x80),
  /** The socket came from accept: this end is the connection's responder, the other began it. */
  ACCEPTED(0x100),
  /**
   * A close the layer did not see happen (a raw {@code close} system call, io_uring: libuv's and
   * uvloop's way), recorded when its descriptor was next made a new socket or at the process's
   * exit: it happened no later than the event's time, and the kernel's state was not read.
   */
  UNSEEN_CLOSE(0x200);

  private static final int ALL_BITS = 0x3FF;
  private static final EventFlag[] ALL = values();
  private static final FlagSet[] SETS = buildSets();

  private final int bit;

  EventFlag(int bit) {
    this.bit = bit;
  }

  /** The flag's bit in the native event record. */
  public int bit() {
    return bit;
  }

  /** The flags set in {@code bits} (unknown bits ignored); shared, immutable sets. */
  public static Set<EventFlag> fromBits(int bits) {
    return SETS[bits & ALL_BITS];
  }

  /** The shared set equal to {@code flags}: {@code flags} itself when it is one already. */
  static Set<EventFlag> shared(Set<EventFlag> flags) {
    return flags instanceof FlagSet ? flags : fromBits(toBits(flags));
  }

  /** The native bits of {@code flags}. */
  public static int toBits(Set<EventFlag> flags) {
    if (flags instanceof FlagSet shared) {
      return shared.bits;
    }
    // By asking the set, not iterating it: no iterator is made.
    int bits = 0;
    if (!flags.isEmpty()) {
      for (EventFlag flag : ALL) {
        if (flags.contains(flag)) {
          bits |= flag.bit;
        }
      }
    }
    return bits;
  }

  private static FlagSet[] buildSets() {
    FlagSet[] sets = new FlagSet[ALL_BITS + 1];
    for (int bits = 0; bits <= ALL_BITS; bits++) {
      sets[bits] = new FlagSet(bits);
    }
    return sets;
  }

  /**
   * An immutable set of flags that knows its native bits: what {@link #fromBits} hands out, so
   * that an event's flags are checked and turned back into bits without asking the set flag by
   * flag. Equal to any other set of the same flags, and iterated in declaration order.
   */
  private static final class FlagSet extends AbstractSet<EventFlag> {
    private final int bits;
    private final int size;

    FlagSet(int bits) {
      this.bits = bits;
      this.size = Integer.bitCount(bits);
    }

    @Override
    public boolean contains(Object flag) {
      return flag instanceof EventFlag known && (bits & known.bit) != 0;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public boolean isEmpty() {
      return bits == 0;
    }

    @Override
    public Iterator<EventFlag> iterator() {
      return new Iterator<>() {
        private int left = bits;

        @Override
        public boolean hasNext() {
          return left != 0;
        }

        @Override
        public EventFlag next() {
          if (left == 0) {
            throw new NoSuchElementException();
          }
          int lowest = Integer.lowestOneBit(left);
          left &= ~lowest;
          for (EventFlag flag : ALL) {
            if (flag.bit == lowest) {
              return flag;
            }
          }
          throw new IllegalStateException("no flag has bit " + lowest);
        }
      };
    }
  }
}
