package dev.teardown.api.internal;

import dev.teardown.api.ConnectionSummary;
import dev.teardown.api.TeardownEvent;
import java.util.List;
import jdk.jfr.EventType;

/** Emits decoded events to JFR when a recording wants them; one check per batch otherwise. */
public final class JfrEmitter {
  private static final EventType TYPE = EventType.getEventType(TeardownJfrEvent.class);

  private JfrEmitter() {}

  public static void emit(List<TeardownEvent> events) {
    if (events.isEmpty() || !TYPE.isEnabled()) {
      return;
    }
    for (TeardownEvent event : events) {
      TeardownJfrEvent jfr = new TeardownJfrEvent();
      if (!jfr.shouldCommit()) {
        continue;
      }
      jfr.kind = event.kind().name();
      jfr.closeMode = event.closeMode() == null ? null : event.closeMode().name();
      jfr.shutdownHow = event.shutdownHow() == null ? null : event.shutdownHow().name();
      jfr.flags = event.flags().isEmpty() ? null : event.flags().toString();
      jfr.framingError = event.framingError() == null ? null : event.framingError().name();
      jfr.process = event.processName();
      jfr.pid = event.pid();
      jfr.user = event.user();
      jfr.socket = event.socketId();
      jfr.local = event.local() == null ? null : event.local().toString();
      jfr.remote = event.remote() == null ? null : event.remote().toString();
      jfr.error = event.errorName();
      jfr.dataLength = event.dataLength();
      ConnectionSummary summary = event.summary();
      if (summary != null) {
        jfr.firstShutdown = summary.firstShutdown().name();
        jfr.ending = summary.ending().name();
        jfr.kernelState = summary.kernelState().name();
        jfr.lifetime = summary.lifetime().toNanos();
        jfr.bytesSent = summary.bytesSent();
        jfr.bytesReceived = summary.bytesReceived();
      }
      if (event.kernel() != null) {
        jfr.unreadBytes = event.kernel().unreadBytes();
        jfr.bytesAcked = event.kernel().bytesAcked();
      }
      jfr.recordedAt = Math.floorDiv(event.timeNanos(), 1_000_000L);
      jfr.sequence = event.sequence();
      jfr.commit();
    }
  }
}
