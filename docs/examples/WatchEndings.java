import dev.teardown.api.*;
import java.util.EnumSet;
import java.util.Set;

/** Prints every FD_CLOSE, reset and disconnect as it happens: for N seconds, or until Ctrl-C. */
public class WatchEndings {
  public static void main(String[] args) throws InterruptedException {
    Set<EventKind> wanted = EnumSet.of(EventKind.FD_CLOSE, EventKind.RESET,
        EventKind.SEND_DISCONNECT, EventKind.RECV_DISCONNECT);
    try (TeardownChannel channel = TeardownChannel.open()) {
      // Record these kinds as well as those already recorded, with up to 64 bytes of disconnect data.
      Configuration live = channel.configuration();
      Set<EventKind> kinds = EnumSet.copyOf(live.kinds());
      kinds.addAll(wanted);
      channel.configure(live.toBuilder().kinds(kinds).captureBytes(64).build());
      TeardownListener print = events -> events.stream().filter(e -> wanted.contains(e.kind()))
          .forEach(e -> System.out.printf("%s %s[%d] %s -> %s %s %s, %d bytes of data%n", e.time(),
              e.processName(), e.pid(), e.local(), e.remote(), e.kind(), e.errorName(), e.dataLength()));
      try (Subscription subscription = channel.subscribe(TeardownChannel.ReadFrom.NEWEST, print)) {
        System.out.println("watching " + channel.path());
        Thread.sleep(args.length > 0 ? Long.parseLong(args[0]) * 1000 : Long.MAX_VALUE);
      }
    }
  }
}
