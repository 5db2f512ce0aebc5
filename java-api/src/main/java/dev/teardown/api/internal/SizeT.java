package dev.teardown.api.internal;

import com.sun.jna.IntegerType;
import com.sun.jna.Native;

/** C's size_t, as wide as the platform's pointers. */
public final class SizeT extends IntegerType {
  private static final long serialVersionUID = 1L;

  public SizeT() {
    this(0);
  }

  public SizeT(long value) {
    super(Native.SIZE_T_SIZE, value, true);
  }
}
