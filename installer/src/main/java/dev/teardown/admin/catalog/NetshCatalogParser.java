package dev.teardown.admin.catalog;

import dev.teardown.admin.catalog.CatalogEntry.CatalogKind;
import dev.teardown.admin.catalog.CatalogEntry.EntryKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Reads the output of {@code netsh winsock show catalog}, English or localized, as users paste
 * it: with a command prompt banner before it, cut off in the middle of a block, or pieced
 * together. Every complete block is read; an incomplete one is reported, never fatal.
 *
 * <p>A block is a title line, a line of dashes, then "Label: value" lines until a blank line.
 * Labels are recognised in English and Simplified Chinese. The kind of an entry is taken from its
 * protocol chain length (0 layered, 1 base, 2 or more a chain), which every language shows as a
 * number; "(32)" after the entry type marks the 32-bit catalog.
 */
public final class NetshCatalogParser {

  /** What was read, and what could not be. */
  public record Result(Catalog catalog, List<String> incomplete) {
    public Result {
      incomplete = List.copyOf(incomplete);
    }

    /** Whether anything could be read at all. */
    public boolean usable() {
      return !catalog.entries().isEmpty();
    }
  }

  private enum Field {
    ENTRY_TYPE, DESCRIPTION, PROVIDER_ID, PROVIDER_PATH, ENTRY_ID, VERSION, FAMILY, MAX_ADDRESS,
    MIN_ADDRESS, SOCKET_TYPE, PROTOCOL, SERVICE_FLAGS, CHAIN_LENGTH, CHAIN, NAME_SPACE, ACTIVE
  }

  private static final Map<String, Field> LABELS = new HashMap<>();

  static {
    label(Field.ENTRY_TYPE, "Entry Type", "项类型");
    label(Field.DESCRIPTION, "Description", "描述");
    label(Field.PROVIDER_ID, "Provider ID", "提供程序 ID");
    label(Field.PROVIDER_PATH, "Provider Path", "提供程序路径");
    label(Field.ENTRY_ID, "Catalog Entry ID", "目录项 ID");
    label(Field.VERSION, "Version", "版本");
    label(Field.FAMILY, "Address Family", "地址族");
    label(Field.MAX_ADDRESS, "Max Address Length", "最大地址长度");
    label(Field.MIN_ADDRESS, "Min Address Length", "最小地址长度");
    label(Field.SOCKET_TYPE, "Socket Type", "Socket 类型");
    label(Field.PROTOCOL, "Protocol", "协议");
    label(Field.SERVICE_FLAGS, "Service Flags", "服务标志");
    label(Field.CHAIN_LENGTH, "Protocol Chain Length", "协议链长度");
    label(Field.CHAIN, "Protocol Chain", "协议链");
    label(Field.NAME_SPACE, "Name Space");
    label(Field.ACTIVE, "Active");
  }

  private static void label(Field field, String... names) {
    for (String name : names) {
      LABELS.put(name.toLowerCase(Locale.ROOT), field);
    }
  }

  private NetshCatalogParser() {}

  public static Result parse(String text) {
    List<String> lines = text.replace("\r\n", "\n").replace('\r', '\n').lines().toList();
    List<CatalogEntry> entries = new ArrayList<>();
    List<NameSpaceEntry> nameSpaces = new ArrayList<>();
    List<String> incomplete = new ArrayList<>();
    int i = 0;
    while (i < lines.size()) {
      if (i + 1 < lines.size() && isRule(lines.get(i + 1)) && !lines.get(i).isBlank()) {
        int start = i + 1;  // 1-based line number of the title
        Map<Field, String> fields = new HashMap<>();
        i += 2;
        while (i < lines.size() && !lines.get(i).isBlank()
            && !(i + 1 < lines.size() && isRule(lines.get(i + 1)))) {
          readField(lines.get(i), fields);
          i++;
        }
        String problem = fields.containsKey(Field.NAME_SPACE)
            ? addNameSpace(fields, nameSpaces)
            : addTransport(fields, entries);
        if (problem != null) {
          incomplete.add("block at line " + start + " (" + lines.get(start - 1).strip() + "): " + problem);
        }
      } else {
        i++;
      }
    }
    return new Result(new Catalog(entries, nameSpaces), incomplete);
  }

  private static boolean isRule(String line) {
    String stripped = line.strip();
    return stripped.length() >= 20 && stripped.chars().allMatch(c -> c == '-');
  }

  private static void readField(String line, Map<Field, String> fields) {
    int colon = line.indexOf(':');
    if (colon <= 0) {
      return;
    }
    Field field = LABELS.get(line.substring(0, colon).strip().toLowerCase(Locale.ROOT));
    if (field != null) {
      fields.put(field, line.substring(colon + 1).strip());
    }
  }

  private static String addTransport(Map<Field, String> fields, List<CatalogEntry> entries) {
    for (Field required : new Field[] {Field.ENTRY_TYPE, Field.DESCRIPTION, Field.PROVIDER_ID,
        Field.PROVIDER_PATH, Field.ENTRY_ID, Field.FAMILY, Field.SOCKET_TYPE, Field.PROTOCOL,
        Field.SERVICE_FLAGS, Field.CHAIN_LENGTH}) {
      if (!fields.containsKey(required)) {
        return "ends before its " + name(required);
      }
    }
    try {
      int chainLength = Integer.parseInt(fields.get(Field.CHAIN_LENGTH));
      if (chainLength > CatalogPlanner.MAX_PROTOCOL_CHAIN) {
        return "its protocol chain length " + chainLength + " is more than Winsock's " + CatalogPlanner.MAX_PROTOCOL_CHAIN;
      }
      int id = Integer.parseInt(fields.get(Field.ENTRY_ID));
      List<Integer> chain = new ArrayList<>();
      if (chainLength == 1) {
        chain.add(id);
      } else if (chainLength >= 2) {
        if (!fields.containsKey(Field.CHAIN)) {
          return "ends before its " + name(Field.CHAIN);
        }
        for (String part : fields.get(Field.CHAIN).split(":")) {
          chain.add(Integer.parseInt(part.strip()));
        }
        if (chain.size() != chainLength) {
          return "its protocol chain lists " + chain.size() + " ids, its length says " + chainLength;
        }
      }
      String type = fields.get(Field.ENTRY_TYPE);
      CatalogKind catalog = type.replace(" ", "").endsWith("(32)") ? CatalogKind.WOW32 : CatalogKind.NATIVE;
      entries.add(new CatalogEntry(
          catalog,
          EntryKind.ofChainLength(chainLength),
          fields.get(Field.DESCRIPTION),
          guid(fields.get(Field.PROVIDER_ID)),
          fields.get(Field.PROVIDER_PATH),
          id,
          number(fields.getOrDefault(Field.VERSION, "0")),
          number(fields.get(Field.FAMILY)),
          number(fields.getOrDefault(Field.MAX_ADDRESS, "0")),
          number(fields.getOrDefault(Field.MIN_ADDRESS, "0")),
          number(fields.get(Field.SOCKET_TYPE)),
          number(fields.get(Field.PROTOCOL)),
          number(fields.get(Field.SERVICE_FLAGS)),
          chain));
      return null;
    } catch (IllegalArgumentException e) {
      return "unreadable value (" + e.getMessage() + ")";
    }
  }

  private static String addNameSpace(Map<Field, String> fields, List<NameSpaceEntry> nameSpaces) {
    for (Field required : new Field[] {Field.DESCRIPTION, Field.PROVIDER_ID, Field.NAME_SPACE}) {
      if (!fields.containsKey(required)) {
        return "ends before its " + name(required);
      }
    }
    try {
      nameSpaces.add(new NameSpaceEntry(
          fields.get(Field.DESCRIPTION),
          guid(fields.get(Field.PROVIDER_ID)),
          number(fields.get(Field.NAME_SPACE)),
          !"0".equals(fields.getOrDefault(Field.ACTIVE, "1")),
          number(fields.getOrDefault(Field.VERSION, "0"))));
      return null;
    } catch (IllegalArgumentException e) {
      return "unreadable value (" + e.getMessage() + ")";
    }
  }

  private static String name(Field field) {
    return field.name().toLowerCase(Locale.ROOT).replace('_', ' ');
  }

  private static UUID guid(String text) {
    String bare = text.strip();
    if (bare.startsWith("{") && bare.endsWith("}")) {
      bare = bare.substring(1, bare.length() - 1);
    }
    return UUID.fromString(bare);
  }

  private static int number(String text) {
    String value = text.strip();
    if (value.startsWith("0x") || value.startsWith("0X")) {
      return (int) Long.parseLong(value.substring(2), 16);
    }
    return Integer.parseInt(value);
  }
}
