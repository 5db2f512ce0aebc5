package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Writes a catalog in the English form of {@code netsh winsock show catalog}, which
 * {@link NetshCatalogParser} reads back: what the installer's backups are kept in, so that
 * {@code teardown catalog check} and {@code catalog plan} work on them like on any dump.
 */
public final class NetshCatalogWriter {
  private static final int VALUE_COLUMN = 37;

  private NetshCatalogWriter() {}

  public static String write(Catalog catalog) {
    StringBuilder out = new StringBuilder();
    for (CatalogKind kind : CatalogKind.values()) {
      for (CatalogEntry entry : catalog.entries(kind)) {
        out.append("Winsock Catalog Provider Entry\n").append("-".repeat(54)).append('\n');
        field(out, "Entry Type", type(entry));
        field(out, "Description", entry.description());
        field(out, "Provider ID", "{" + entry.providerId().toString().toUpperCase(Locale.ROOT) + "}");
        field(out, "Provider Path", entry.providerPath());
        field(out, "Catalog Entry ID", Integer.toString(entry.id()));
        field(out, "Version", Integer.toString(entry.version()));
        field(out, "Address Family", Integer.toString(entry.addressFamily()));
        field(out, "Max Address Length", Integer.toString(entry.maxAddressLength()));
        field(out, "Min Address Length", Integer.toString(entry.minAddressLength()));
        field(out, "Socket Type", Integer.toString(entry.socketType()));
        field(out, "Protocol", Integer.toString(entry.protocol()));
        field(out, "Service Flags", "0x" + Integer.toHexString(entry.serviceFlags()));
        int length = entry.kind() == CatalogEntry.EntryKind.LAYERED ? 0 : entry.chain().size();
        field(out, "Protocol Chain Length", Integer.toString(length));
        if (entry.kind() == CatalogEntry.EntryKind.CHAIN) {
          field(out, "Protocol Chain", entry.chain().stream().map(String::valueOf).collect(Collectors.joining(" : ")));
        }
        out.append('\n');
      }
    }
    return out.toString();
  }

  private static String type(CatalogEntry entry) {
    String name = switch (entry.kind()) {
      case BASE -> "Base Service Provider";
      case LAYERED -> "Layered Service Provider";
      case CHAIN -> "Layered Chain Entry";
    };
    return entry.catalog() == CatalogKind.WOW32 ? name + " (32)" : name;
  }

  private static void field(StringBuilder out, String label, String value) {
    String head = label + ":";
    out.append(head).append(" ".repeat(Math.max(1, VALUE_COLUMN - head.length()))).append(value).append('\n');
  }
}
