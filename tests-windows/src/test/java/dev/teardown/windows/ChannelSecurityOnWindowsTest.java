package dev.teardown.windows;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.ConfigurationOwner;
import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownChannel;
import dev.teardown.api.TeardownEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.AclEntry;
import java.nio.file.attribute.AclEntryPermission;
import java.nio.file.attribute.AclEntryType;
import java.nio.file.attribute.AclFileAttributeView;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The system channel `teardown install` made, on real Windows: its ACLs are the security model's
 * (administrators and SYSTEM full control; users read the configuration, add their own ring and
 * touch nobody else's).
 */
@EnabledOnOs(
    value = OS.WINDOWS, disabledReason = "needs real Windows: runs on the GitHub windows job")
class ChannelSecurityOnWindowsTest {
  /** What lets a holder change, replace or remove a file, or another's file in a directory. */
  private static final Set<AclEntryPermission> TAKEOVER = EnumSet.of(AclEntryPermission.WRITE_ACL,
      AclEntryPermission.WRITE_OWNER, AclEntryPermission.DELETE, AclEntryPermission.DELETE_CHILD);

  private static final Set<AclEntryPermission> WRITE_FILE =
      EnumSet.of(AclEntryPermission.WRITE_DATA, AclEntryPermission.APPEND_DATA,
          AclEntryPermission.WRITE_ATTRIBUTES, AclEntryPermission.WRITE_NAMED_ATTRS,
          AclEntryPermission.WRITE_ACL, AclEntryPermission.WRITE_OWNER, AclEntryPermission.DELETE);

  private static boolean administrative(AclEntry entry) {
    String name = entry.principal().getName().toUpperCase(Locale.ROOT);
    return name.endsWith("\\SYSTEM") || name.equals("SYSTEM") || name.endsWith("\\ADMINISTRATORS")
        || name.equals("ADMINISTRATORS") || name.equals("OWNER RIGHTS");
  }

  /** The allowed entries for anyone but administrators, SYSTEM and the owner. */
  private static List<AclEntry> others(Path path) throws IOException {
    return Files.getFileAttributeView(path, AclFileAttributeView.class)
        .getAcl()
        .stream()
        .filter(entry -> entry.type() == AclEntryType.ALLOW && !administrative(entry))
        .toList();
  }

  private static Path systemChannel() {
    try (TeardownChannel channel = TeardownChannel.open()) {
      return channel.path();
    }
  }

  @Test
  void installMadeTheChannelReadyWithAnAdministratorsConfiguration() {
    try (TeardownChannel channel = TeardownChannel.open()) {
      ConfigurationOwner owner = channel.configurationOwner();
      assertTrue(owner.honouredByEveryone(), owner.appliesTo());
    }
  }

  @Test
  void nobodyButAdministratorsMayWriteTheConfigurationOrItsDirectory() throws IOException {
    Path dir = systemChannel();
    for (Path path : List.of(dir, dir.resolve("config"))) {
      for (AclEntry entry : others(path)) {
        Set<AclEntryPermission> granted = EnumSet.copyOf(entry.permissions());
        granted.retainAll(WRITE_FILE);
        assertTrue(
            granted.isEmpty(), path + " lets " + entry.principal().getName() + " " + granted);
      }
    }
  }

  @Test
  void usersMayAddARingButNeverRemoveOrReplaceAnothers() throws IOException {
    Path rings = systemChannel().resolve("rings");
    for (AclEntry entry : others(rings)) {
      Set<AclEntryPermission> granted = EnumSet.copyOf(entry.permissions());
      granted.retainAll(TAKEOVER);
      assertTrue(granted.isEmpty(), rings + " lets " + entry.principal().getName() + " " + granted);
    }
  }

  @Test
  void aRingIsItsUsersAndAdministratorsOnly() throws IOException {
    // This process's own ring, made by publishing one event.
    try (TeardownChannel channel = TeardownChannel.open()) {
      channel.publish(new TeardownEvent(0, TeardownEvent.epochNanos(Instant.now()),
          ProcessHandle.current().pid(), "java.exe", 1, 6, 1, EventKind.EOF, 0, null, null,
          Duration.ZERO, Set.of(), 0, null, null, null, null, null));
    }
    List<Path> rings;
    try (Stream<Path> all = Files.list(systemChannel().resolve("rings"))) {
      rings = all.filter(p -> p.getFileName().toString().startsWith("ring-")).toList();
    }
    assertFalse(rings.isEmpty());
    for (Path ring : rings) {
      List<AclEntry> entries =
          Files.getFileAttributeView(ring, AclFileAttributeView.class).getAcl();
      for (AclEntry entry : entries) {
        String name = entry.principal().getName().toUpperCase(Locale.ROOT);
        assertFalse(name.equals("EVERYONE") || name.endsWith("\\USERS")
                || name.endsWith("\\AUTHENTICATED USERS"),
            ring + " grants " + entry.principal().getName() + " " + entry.permissions());
      }
    }
  }
}
