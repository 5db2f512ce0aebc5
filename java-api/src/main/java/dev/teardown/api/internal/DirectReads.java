package dev.teardown.api.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.lang.reflect.Proxy;

/**
 * {@code td_reader_read}, the one call a reader makes per batch and a subscription makes on every
 * wait, bound by JNA's direct mapping to the library {@link NativeTeardown#INSTANCE} loaded: an
 * interface call converts its arguments through reflection (about 2.4 us a call here), a direct
 * call passes them as they are. {@code count} and {@code lost} point at a {@code size_t} and a
 * {@code uint64_t}; the library is 64-bit only.
 */
final class DirectReads {
  static {
    Native.register(
        DirectReads.class,
        ((Library.Handler) Proxy.getInvocationHandler(NativeTeardown.INSTANCE)).getNativeLibrary());
  }

  private DirectReads() {}

  static native int td_reader_read(
      Pointer reader, Pointer events, long capacity, Pointer count, Pointer lost);
}
