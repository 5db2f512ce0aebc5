package dev.teardown.api.internal;

import com.sun.jna.Function;
import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.ptr.IntByReference;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The Linux layer as it runs in this process ({@code libteardown_preload.so} through
 * {@code LD_PRELOAD}): its disconnect-data calls, found among the process's symbols, and the
 * descriptor of a connection, found by its endpoints.
 */
public final class ProcessLayer {
  private static final int AF_INET = 2;
  private static final int AF_INET6 = 10;
  private static final int SOCKADDR_CAPACITY = 128;

  /** The C library's socket-name calls, each returning -1 and errno on failure. */
  interface Libc extends Library {
    Libc INSTANCE = Platform.isLinux() ? Native.load("c", Libc.class) : null;

    int getsockname(int fd, byte[] address, IntByReference length) throws LastErrorException;

    int getpeername(int fd, byte[] address, IntByReference length) throws LastErrorException;
  }

  private final Function sendDisconnect;
  private final Function recvDisconnect;

  private ProcessLayer(Function sendDisconnect, Function recvDisconnect) {
    this.sendDisconnect = sendDisconnect;
    this.recvDisconnect = recvDisconnect;
  }

  /** The layer in this process, or null when this process does not run under it. */
  public static ProcessLayer find() {
    if (!Platform.isLinux()) {
      return null;
    }
    try {
      NativeLibrary process = NativeLibrary.getProcess();
      return new ProcessLayer(
          process.getFunction("teardown_send_disconnect"), process.getFunction("teardown_recv_disconnect"));
    } catch (UnsatisfiedLinkError absent) {
      return null;
    }
  }

  /** teardown_send_disconnect: 0, or the errno it failed with. */
  public int sendDisconnect(int fd, byte[] data) {
    int result = sendDisconnect.invokeInt(
        new Object[] {fd, data.length == 0 ? null : data, new SizeT(data.length)});
    return result == 0 ? 0 : Native.getLastError();
  }

  /** teardown_recv_disconnect into {@code buffer}: the bytes received, or minus the errno. */
  public long recvDisconnect(int fd, byte[] buffer) {
    long result = recvDisconnect.invokeLong(new Object[] {fd, buffer, new SizeT(buffer.length)});
    return result >= 0 ? result : -Native.getLastError();
  }

  /**
   * The descriptor of this process's TCP connection from {@code local} to {@code remote}, found
   * among its open descriptors by their socket names. Once both ends have shut down, the system
   * no longer names the peer: then the one descriptor with that local name and no peer is it.
   */
  public static int descriptorOf(InetSocketAddress local, InetSocketAddress remote) throws IOException {
    int ended = -1;
    int endedCount = 0;
    try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path entry : descriptors) {
        int fd;
        try {
          fd = Integer.parseInt(entry.getFileName().toString());
          if (!Files.readSymbolicLink(entry).toString().startsWith("socket:")) {
            continue;
          }
        } catch (NumberFormatException | IOException gone) {
          continue;  // not a descriptor, or closed since the listing
        }
        if (!local.equals(name(fd, true))) {
          continue;
        }
        InetSocketAddress peer = name(fd, false);
        if (remote.equals(peer)) {
          return fd;
        }
        if (peer == null) {
          ended = fd;
          endedCount++;
        }
      }
    }
    if (endedCount == 1) {
      return ended;
    }
    throw new IOException("no open descriptor of this process connects " + local + " to " + remote);
  }

  private static InetSocketAddress name(int fd, boolean local) {
    byte[] address = new byte[SOCKADDR_CAPACITY];
    IntByReference length = new IntByReference(address.length);
    try {
      if (local) {
        Libc.INSTANCE.getsockname(fd, address, length);
      } else {
        Libc.INSTANCE.getpeername(fd, address, length);
      }
    } catch (LastErrorException notConnected) {
      return null;
    }
    int family = (address[0] & 0xFF) | (address[1] & 0xFF) << 8;
    int port = (address[2] & 0xFF) << 8 | (address[3] & 0xFF);
    try {
      if (family == AF_INET) {
        return new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOfRange(address, 4, 8)), port);
      }
      if (family == AF_INET6) {
        return new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOfRange(address, 8, 24)), port);
      }
    } catch (UnknownHostException impossible) {
      return null;
    }
    return null;
  }
}
