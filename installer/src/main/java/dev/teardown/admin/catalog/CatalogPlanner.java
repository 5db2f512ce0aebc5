package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import dev.teardown.admin.catalog.CatalogStep.Ref;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Computes the exact catalog changes that install, uninstall or repair Teardown. Plans are pure:
 * they read a catalog and return steps; {@link InMemoryCatalog} (tests) and the Windows binding
 * apply them.
 *
 * <p>Install, per catalog: Teardown's hidden layered entry (a copy of the TCP/IPv4 base entry, chain
 * length 0, its IFS flag kept in compatible mode and cleared in full mode), then Teardown put into
 * every path to a TCP/IPv4 or TCP/IPv6 base provider: a chain of its own over each base provider
 * and over each existing chain, except, in compatible mode, where that chain has a non-IFS layer:
 * an IFS layer must not stand on a non-IFS one, so Teardown is inserted into that chain beneath
 * its lowest non-IFS layer (Microsoft's installer sample does the same). Then the LSP categories,
 * then an order in which each of Teardown's chains comes just before what it layers over: every
 * path keeps its priority, with Teardown in it. Chain GUIDs are derived from what they layer over,
 * so a plan is the same every time.
 */
public final class CatalogPlanner {
  /** Winsock's limit on a protocol chain's length. */
  public static final int MAX_PROTOCOL_CHAIN = 7;
  /**
   * LSP_INSPECTOR: observes traffic. Without LSP_SYSTEM Windows keeps it out of the processes
   * categorised as services and system processes (lsass, winlogon, many svchost processes).
   */
  public static final int DEFAULT_CATEGORIES = 0x00000001;

  private CatalogPlanner() {}

  /** Where Teardown's DLL is, per catalog. */
  public record Paths(String native64, String wow32) {
    String of(CatalogKind catalog) {
      return catalog == CatalogKind.NATIVE ? native64 : wow32;
    }
  }

  /** The steps that install Teardown in {@code mode}; none if it is already installed in a catalog. */
  public static List<CatalogStep> install(Catalog catalog, Paths paths, int categories, LspMode mode) {
    List<CatalogStep> steps = new ArrayList<>();
    for (CatalogKind kind : CatalogKind.CHANGE_ORDER) {
      List<CatalogEntry> entries = catalog.entries(kind);
      if (entries.isEmpty() || ours(entries).isPresent()) {
        continue;
      }
      Optional<CatalogEntry> tcp = entries.stream().filter(CatalogPlanner::isTcpBase).filter(e -> e.addressFamily() == 2).findFirst();
      if (tcp.isEmpty()) {
        continue;  // no TCP/IPv4 base provider to copy: nothing to layer over
      }
      String path = paths.of(kind);
      CatalogEntry layered = copy(tcp.get(), kind, EntryKind.LAYERED, "Teardown", TeardownProvider.GUID, path,
          mode.flags(tcp.get().serviceFlags()), List.of());
      steps.add(new CatalogStep.Install(kind, layered, List.of()));
      List<Ref> order = new ArrayList<>();
      for (CatalogEntry lower : entries) {
        if (layersOverTcp(catalog, kind, lower) && lower.chain().size() < MAX_PROTOCOL_CHAIN) {
          int beneath = mode == LspMode.COMPATIBLE ? lowestNonIfs(catalog, kind, lower) : -1;
          if (beneath < 0) {
            UUID guid = chainGuid(kind, lower);
            CatalogEntry chain = copy(lower, kind, EntryKind.CHAIN, "Teardown over [" + lower.description() + "]", guid,
                path, mode.flags(lower.serviceFlags()), List.of());
            List<Ref> links = new ArrayList<>();
            links.add(Ref.of(TeardownProvider.GUID));
            lower.chain().forEach(id -> links.add(Ref.of(id)));
            steps.add(new CatalogStep.Install(kind, chain, links));
            order.add(Ref.of(guid));
          } else if (beneath < lower.chain().size() - 1) {
            // Beneath the lowest non-IFS layer, above what has real handles.
            List<Ref> links = new ArrayList<>();
            lower.chain().forEach(id -> links.add(Ref.of(id)));
            links.add(beneath + 1, Ref.of(TeardownProvider.GUID));
            steps.add(new CatalogStep.Relink(kind, lower.id(), lower.providerId(), links));
          }
        }
        order.add(Ref.of(lower.id()));
      }
      steps.add(new CatalogStep.SetCategories(kind, TeardownProvider.GUID, categories));
      order.add(Ref.of(TeardownProvider.GUID));
      steps.add(new CatalogStep.WriteOrder(kind, order));
    }
    return steps;
  }

  /** The mode Teardown is installed in, from its hidden entry in either catalog; empty if it is not. */
  public static Optional<LspMode> installedMode(Catalog catalog) {
    return catalog.entries().stream().filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e))
        .findFirst().map(LspMode::of);
  }

  // The position in `entry`'s chain of its lowest non-IFS provider (the base included), or -1 when
  // every provider of the path has real handles.
  private static int lowestNonIfs(Catalog catalog, CatalogKind kind, CatalogEntry entry) {
    List<Integer> links = entry.chain();
    for (int at = links.size() - 1; at >= 0; at--) {
      if (catalog.entry(kind, links.get(at)).filter(CatalogEntry::ifs).isEmpty()) {
        return at;
      }
    }
    return -1;
  }

  /**
   * The steps that remove Teardown: other vendors' chains that ran through ours are relinked
   * around it, then our chains and layered entries go. What is left keeps its order.
   */
  public static List<CatalogStep> uninstall(Catalog catalog) {
    List<CatalogStep> steps = new ArrayList<>();
    for (CatalogKind kind : CatalogKind.CHANGE_ORDER) {
      steps.addAll(uninstall(catalog, kind));
    }
    return steps;
  }

  private static List<CatalogStep> uninstall(Catalog catalog, CatalogKind kind) {
    List<CatalogStep> steps = new ArrayList<>();
    List<CatalogEntry> entries = catalog.entries(kind);
    List<Integer> ourLayered = entries.stream()
        .filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).map(CatalogEntry::id).toList();
    Set<UUID> removed = new HashSet<>();  // WSCDeinstallProvider takes every entry of a GUID at once
    for (CatalogEntry entry : entries) {
      if (entry.kind() != EntryKind.CHAIN) {
        continue;
      }
      boolean ourChain = ourLayered.contains(entry.layeredEntryId()) || TeardownProvider.isOurs(entry);
      if (ourChain) {
        if (removed.add(entry.providerId())) {
          steps.add(new CatalogStep.Deinstall(kind, entry.providerId(), entry.id()));
        }
      } else if (entry.chain().stream().anyMatch(ourLayered::contains)) {
        // Another vendor's chain that runs through Teardown (layered over ours, or ours inserted
        // beneath its non-IFS layer): Teardown is cut out, the chain as it was without it.
        List<Ref> relinked = entry.chain().stream().filter(id -> !ourLayered.contains(id)).map(Ref::of).toList();
        steps.add(new CatalogStep.Relink(kind, entry.id(), entry.providerId(), relinked));
      }
    }
    for (int id : ourLayered) {
      CatalogEntry layered = catalog.entry(kind, id).orElseThrow();
      if (removed.add(layered.providerId())) {
        steps.add(new CatalogStep.Deinstall(kind, layered.providerId(), id));
      }
    }
    return steps;
  }


  /**
   * The steps that repair Teardown's part of a catalog and nothing else: a chain of ours whose
   * layered entry is gone, and every installation but the first.
   */
  public static List<CatalogStep> repair(Catalog catalog) {
    List<CatalogStep> steps = new ArrayList<>();
    for (CatalogKind kind : CatalogKind.CHANGE_ORDER) {
      List<CatalogEntry> entries = catalog.entries(kind);
      List<CatalogEntry> layered = entries.stream()
          .filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).toList();
      if (layered.size() > 1) {
        // Installed twice under one GUID: WSCDeinstallProvider cannot take one copy and leave the
        // other, so all of Teardown goes, other vendors' chains relinked, and it is installed anew
        // in the mode of the first.
        steps.addAll(reinstall(catalog, kind, layered.get(0).providerPath(), LspMode.of(layered.get(0))));
        continue;
      }
      int keep = layered.isEmpty() ? -1 : layered.get(0).id();
      Set<UUID> removed = new HashSet<>();
      for (CatalogEntry entry : entries) {
        boolean orphanOfOurs = entry.kind() == EntryKind.CHAIN && TeardownProvider.isOurs(entry)
            && entry.layeredEntryId() != keep;
        if (orphanOfOurs && removed.add(entry.providerId())) {
          steps.add(new CatalogStep.Deinstall(kind, entry.providerId(), entry.id()));
        }
      }
    }
    return steps;
  }

  private static List<CatalogStep> reinstall(Catalog catalog, CatalogKind kind, String path, LspMode mode) {
    List<CatalogStep> removal = uninstall(catalog, kind);
    InMemoryCatalog without = new InMemoryCatalog(catalog);
    without.apply(removal);
    List<CatalogStep> steps = new ArrayList<>(removal);
    install(without.snapshot(), new Paths(path, path), DEFAULT_CATEGORIES, mode).stream()
        .filter(step -> step.catalog() == kind).forEach(steps::add);
    return steps;
  }


  private static Optional<CatalogEntry> ours(List<CatalogEntry> entries) {
    return entries.stream().filter(e -> e.kind() == EntryKind.LAYERED && TeardownProvider.isOurs(e)).findFirst();
  }

  private static boolean isTcpBase(CatalogEntry entry) {
    return entry.kind() == EntryKind.BASE && entry.socketType() == 1 && entry.protocol() == 6
        && (entry.addressFamily() == 2 || entry.addressFamily() == 23);
  }

  // A TCP base provider, or a sound chain ending in one (a broken chain is left for its vendor: one
  // whose entries are missing, or with an IFS layer above a non-IFS one, whose sockets fail).
  private static boolean layersOverTcp(Catalog catalog, CatalogKind kind, CatalogEntry entry) {
    if (entry.kind() == EntryKind.LAYERED || TeardownProvider.isOurs(entry)) {
      return false;
    }
    if (entry.kind() == EntryKind.CHAIN) {
      boolean sound = catalog.entry(kind, entry.layeredEntryId()).filter(e -> e.kind() == EntryKind.LAYERED).isPresent()
          && entry.chain().stream().allMatch(id -> catalog.entry(kind, id).isPresent())
          && CatalogChecker.ifsAboveNonIfs(catalog, kind, entry).isEmpty();
      if (!sound) {
        return false;
      }
    }
    return catalog.entry(kind, entry.baseEntryId()).filter(CatalogPlanner::isTcpBase).isPresent();
  }

  private static UUID chainGuid(CatalogKind kind, CatalogEntry lower) {
    String key = "teardown-chain/" + kind + "/" + lower.providerId() + "/" + lower.chain();
    return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8));
  }

  private static CatalogEntry copy(CatalogEntry from, CatalogKind kind, EntryKind entryKind, String description, UUID guid,
      String path, int flags, List<Integer> chain) {
    return new CatalogEntry(kind, entryKind, description, guid, path, 0, from.version(), from.addressFamily(),
        from.maxAddressLength(), from.minAddressLength(), from.socketType(), from.protocol(), flags, chain);
  }
}
