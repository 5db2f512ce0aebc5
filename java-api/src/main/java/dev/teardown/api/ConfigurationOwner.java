package dev.teardown.api;

import java.util.Objects;

/**
 * Who owns a channel's configuration, which decides whose programs honour it. A program honours
 * a sound configuration only if an administrator (root, Administrators, SYSTEM) or the program's
 * own user owns it and nobody else may write it; every other program uses {@link
 * Configuration#DEFAULT the defaults}: record everything, no emulation, no policy, no capture.
 *
 * @param present whether the channel has a configuration file
 * @param sound whether it holds a configuration of this version
 * @param owner the owner's name; empty when there is none
 * @param administrator whether the owner is an administrator
 * @param othersMayWrite whether users other than the owner (and administrators) may write it
 * @param mine whether the caller owns it
 */
public record ConfigurationOwner(
    boolean present,
    boolean sound,
    String owner,
    boolean administrator,
    boolean othersMayWrite,
    boolean mine) {

  public ConfigurationOwner {
    Objects.requireNonNull(owner, "owner");
  }

  /** Whether every user's programs honour the configuration. */
  public boolean honouredByEveryone() {
    return present && sound && administrator && !othersMayWrite;
  }

  /** Which programs the configuration applies to, and why, in one sentence. */
  public String appliesTo() {
    String defaults = "the defaults (record everything, no emulation, no policy, no capture)";
    if (!present) {
      return "no configuration file: every program uses " + defaults;
    }
    if (!sound) {
      return "the configuration file is damaged: every program uses " + defaults;
    }
    if (othersMayWrite) {
      return "owned by " + owner + " but writable by others: no program honours it, every program"
          + " uses " + defaults;
    }
    if (administrator) {
      return "owned by " + owner + ", an administrator: every user's programs honour it";
    }
    return "owned by " + owner + ", not an administrator: only " + owner + "'s programs honour it,"
        + " every other user's use " + defaults;
  }
}
