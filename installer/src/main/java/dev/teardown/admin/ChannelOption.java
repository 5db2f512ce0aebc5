package dev.teardown.admin;

import dev.teardown.api.TeardownChannel;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --channel DIR}, shared by the commands that use a channel. */
final class ChannelOption {
  @Option(
      names = "--channel",
      paramLabel = "DIR",
      description = {
        "Channel directory (default: $TEARDOWN_CHANNEL, else the system channel, else on Linux",
        "your private channel $XDG_RUNTIME_DIR/teardown)."
      })
  Path directory;

  TeardownChannel open() {
    return directory == null ? TeardownChannel.open() : TeardownChannel.open(directory);
  }

  TeardownChannel openOrCreate() {
    return directory == null ? TeardownChannel.createDefault() : TeardownChannel.create(directory);
  }
}
