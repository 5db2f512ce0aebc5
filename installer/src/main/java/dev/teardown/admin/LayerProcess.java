package dev.teardown.admin;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Starts programs under the Linux layer, recording into a given channel. */
final class LayerProcess {
  private LayerProcess() {}

  /** A process builder for {@code command} with the layer preloaded and the channel set. */
  static ProcessBuilder builder(List<String> command, Path channel) {
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> environment = builder.environment();
    String layer = NativeFiles.get(NativeFiles.PRELOAD).toString();
    String existing = environment.get("LD_PRELOAD");
    environment.put("LD_PRELOAD", existing == null || existing.isBlank() ? layer : layer + ":" + existing);
    environment.put("TEARDOWN_CHANNEL", channel.toAbsolutePath().toString());
    return builder;
  }
}
