package dev.teardown.admin;

import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --channel DIR}, shared by the commands that use a channel. */
final class ChannelOption {
  @Option(
      names = "--channel",
      paramLabel = "DIR",
      description = {
        "Channel directory (default: $TEARDOWN_CHANNEL, else the system channel, else on Linux"
            + " your private channel $XDG_RUNTIME_DIR/teardown)."
      })
  Path directory;

  /** No channel where one was looked for: the message names each place and how to make one. */
  static final class Missing extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Missing(String message) {
      super(message);
    }
  }

  /**
   * The channel.
   *
   * @throws Missing naming the places looked at when there is none
   */
  TeardownChannel open() {
    try {
      return directory == null ? TeardownChannel.open() : TeardownChannel.open(directory);
    } catch (TeardownException e) {
      if (e.status() != TeardownException.Status.NOT_FOUND) {
        throw e;
      }
      throw new Missing(whereLooked());
    }
  }

  TeardownChannel openOrCreate() {
    return directory == null ? TeardownChannel.createDefault() : TeardownChannel.create(directory);
  }

  /** Where the channel was looked for, and the command that makes one there. */
  String whereLooked() {
    if (directory != null) {
      return "no channel at " + directory + ": `teardown init --channel " + directory + "` makes it"
          + " (`teardown run --channel " + directory + " -- PROGRAM` makes it and runs PROGRAM)";
    }
    String fromEnvironment = HistoryDatabase.channelFromEnvironment();
    if (fromEnvironment != null) {
      return "no channel at " + fromEnvironment + " (from $TEARDOWN_CHANNEL): `teardown init --channel "
          + fromEnvironment + "` makes it, or unset TEARDOWN_CHANNEL for the default channel";
    }
    if (HistoryDatabase.onWindows()) {
      return "no channel at " + HistoryDatabase.windowsFolder() + " (the system channel):"
          + " `teardown install`, run as an administrator, makes it";
    }
    String system = "the system channel " + HistoryDatabase.LINUX_SYSTEM_CHANNEL
        + " does not exist (an administrator makes it with `sudo teardown init`)";
    String runtime = System.getenv("XDG_RUNTIME_DIR");
    if (runtime == null || !Path.of(runtime).isAbsolute() || !Files.isDirectory(Path.of(runtime))) {
      return "no channel: " + system + ", and with no $XDG_RUNTIME_DIR you have no private channel"
          + " (`teardown init --channel DIR` makes one anywhere; name it with --channel or TEARDOWN_CHANNEL)";
    }
    return "no channel: " + system + ", nor does your private channel " + Path.of(runtime, "teardown")
        + " (`teardown init` makes it)";
  }
}
