package dev.teardown.admin.sample;

import dev.teardown.api.DisconnectData;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The seed's transaction-totals exchange in Java, with the Java API's {@link DisconnectData} on
 * plain {@code java.net} sockets: the twin of the native sample programs, run under the Linux
 * layer on a port the configuration emulates. Each side prints its steps, numbered as in the
 * seed's table.
 *
 * <pre>
 *   TransactionTotals server PREVIOUS_GRAND_TOTAL PORT   (prints "port N" once listening)
 *   TransactionTotals client PORT TRANSACTIONS
 * </pre>
 */
public final class TransactionTotals {
  private static final int TIMEOUT_MS = 30_000;
  private static final PrintStream OUT = System.out;

  private TransactionTotals() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 3 && args[0].equals("server")) {
      server(Long.parseLong(args[1]), Integer.parseInt(args[2]));
    } else if (args.length == 3 && args[0].equals("client")) {
      client(Integer.parseInt(args[1]), Long.parseLong(args[2]));
    } else {
      System.err.println("usage: TransactionTotals server PREVIOUS_GRAND_TOTAL PORT | client PORT TRANSACTIONS");
      System.exit(2);
    }
  }

  private static void server(long grandTotal, int port) throws IOException {
    try (ServerSocket listener = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      listener.setSoTimeout(TIMEOUT_MS);
      OUT.println("port " + listener.getLocalPort());
      OUT.flush();
      try (Socket client = listener.accept()) {
        client.setSoTimeout(TIMEOUT_MS);
        readToEnd(client.getInputStream());
        step("server", "2", "zero-byte receive: graceful shutdown in progress");
        long clientTotal = total(DisconnectData.receive(client));
        OUT.println("server (3) receives the client's total: " + clientTotal);
        grandTotal += clientTotal;
        OUT.println("server (4) computes the grand total: " + grandTotal);
        DisconnectData.send(client, bytes(grandTotal));
        step("server", "5", "send-disconnect with the grand total");
      }
      step("server", "5'", "closes its socket");
    }
  }

  private static void client(int port, long transactions) throws IOException {
    try (Socket server = new Socket(InetAddress.getLoopbackAddress(), port)) {
      server.setSoTimeout(TIMEOUT_MS);
      OutputStream out = server.getOutputStream();
      for (long i = 1; i <= transactions; i++) {
        out.write(("TX " + i + "\n").getBytes(StandardCharsets.US_ASCII));
      }
      out.flush();
      DisconnectData.send(server, bytes(transactions));
      step("client", "1", "send-disconnect with its transaction total");
      readToEnd(server.getInputStream());
      step("client", "6", "receives the end of the stream");
      OUT.println("client (7) receives the grand total: " + total(DisconnectData.receive(server)));
    }
    step("client", "8", "closes its socket");
  }

  private static void step(String side, String number, String what) {
    OUT.println(side + " (" + number + ") " + what);
    OUT.flush();
  }

  private static long readToEnd(InputStream in) throws IOException {
    byte[] buffer = new byte[4096];
    long total = 0;
    for (int read; (read = in.read(buffer)) >= 0; ) {
      total += read;
    }
    return total;
  }

  private static byte[] bytes(long total) {
    return ByteBuffer.allocate(Long.BYTES).putLong(total).array();
  }

  private static long total(byte[] data) throws IOException {
    if (data.length != Long.BYTES) {
      throw new IOException("expected an 8-byte total as disconnect data, got " + data.length + " bytes");
    }
    return ByteBuffer.wrap(data).getLong();
  }
}
