package dev.teardown.admin;

import dev.teardown.api.Configuration;
import dev.teardown.api.EventKind;
import dev.teardown.api.InvalidConfigurationException;
import dev.teardown.api.PortRange;
import dev.teardown.api.TeardownChannel;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code teardown config show|set|reset}: the live configuration of every producer. */
@Command(
    name = "config",
    description = "Show or change the live configuration; producers apply it on their next call.",
    subcommands = {ConfigCommand.Show.class, ConfigCommand.Set.class, ConfigCommand.Reset.class})
final class ConfigCommand {

  static final String KEYS =
      "enabled=true|false, kinds=all|default|none|KIND,..., processes=all|NAME,..., ports=all|PORT[-LAST],...,"
          + " capture=BYTES (0-256), emulation-ports=none|PORT,..., abortive-to-graceful=true|false";

  @Command(name = "show", description = "Print the live configuration.")
  static final class Show implements Callable<Integer> {
    @Mixin ChannelOption channel;

    @Option(names = "--json", description = "As one JSON object.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      try (TeardownChannel opened = channel.open()) {
        PrintWriter out = spec.commandLine().getOut();
        Configuration config = opened.configuration();
        out.println(json ? json(config) : text(config));
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "set", description = {"Change settings of the live configuration.", "Each is KEY=VALUE: " + KEYS + "."})
  static final class Set implements Callable<Integer> {
    @Mixin ChannelOption channel;

    @Parameters(arity = "1..*", paramLabel = "KEY=VALUE")
    List<String> settings;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      try (TeardownChannel opened = channel.open()) {
        Configuration.Builder builder = opened.configuration().toBuilder();
        for (String setting : settings) {
          apply(builder, setting);
        }
        Configuration config;
        try {
          config = builder.build();
        } catch (InvalidConfigurationException e) {
          throw new ParameterException(spec.commandLine(), "invalid configuration: " + e.getMessage());
        }
        opened.configure(config);
        PrintWriter out = spec.commandLine().getOut();
        out.println(text(config));
        WindowsMachine.detect("config set", false, new PrintWriter(java.io.Writer.nullWriter()))
            .flatMap(machine -> EmulationNeedsFull.warning(new Installation(machine).read(), config))
            .ifPresent(warning -> spec.commandLine().getErr().println("teardown: " + warning + "."));
        out.flush();
        return 0;
      }
    }

    private void apply(Configuration.Builder builder, String setting) {
      int equals = setting.indexOf('=');
      if (equals <= 0) {
        throw new ParameterException(spec.commandLine(), "'" + setting + "' is not KEY=VALUE; keys: " + KEYS);
      }
      String key = setting.substring(0, equals).trim().toLowerCase(Locale.ROOT);
      String value = setting.substring(equals + 1).trim();
      try {
        switch (key) {
          case "enabled" -> builder.enabled(bool(key, value));
          case "kinds" -> builder.kinds(kinds(value));
          case "processes" -> builder.processes(all(value) ? List.of() : list(value));
          case "ports" -> builder.ports(all(value) ? List.of() : list(value).stream().map(PortRange::parse).toList());
          case "capture" -> builder.captureBytes(number(key, value));
          case "emulation-ports" -> builder.emulationPorts(
              value.equalsIgnoreCase("none") ? List.of() : list(value).stream().map(v -> number(key, v)).toList());
          case "abortive-to-graceful" -> builder.abortiveToGraceful(bool(key, value));
          default -> throw new ParameterException(spec.commandLine(), "unknown key '" + key + "'; keys: " + KEYS);
        }
      } catch (InvalidConfigurationException e) {
        throw new ParameterException(spec.commandLine(), "'" + setting + "': " + e.getMessage());
      }
    }

    private boolean bool(String key, String value) {
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "true", "on", "yes", "1" -> true;
        case "false", "off", "no", "0" -> false;
        default -> throw new ParameterException(spec.commandLine(), key + ": '" + value + "' is not true or false");
      };
    }

    private int number(String key, String value) {
      try {
        return Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        throw new ParameterException(spec.commandLine(), key + ": '" + value + "' is not a number");
      }
    }

    private List<EventKind> kinds(String value) {
      if (all(value)) {
        return List.copyOf(EnumSet.allOf(EventKind.class));
      }
      if (value.equalsIgnoreCase("default")) {
        return List.copyOf(Configuration.DEFAULT.kinds());
      }
      if (value.equalsIgnoreCase("none")) {
        return List.of();
      }
      List<EventKind> kinds = new ArrayList<>();
      for (String name : list(value)) {
        try {
          kinds.add(EventKind.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_')));
        } catch (IllegalArgumentException e) {
          throw new ParameterException(
              spec.commandLine(),
              "kinds: '" + name + "' is not one of " + Arrays.toString(EventKind.values()));
        }
      }
      return kinds;
    }
  }

  @Command(name = "reset", description = "Restore the default configuration (record everything).")
  static final class Reset implements Callable<Integer> {
    @Mixin ChannelOption channel;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      try (TeardownChannel opened = channel.open()) {
        opened.configure(Configuration.DEFAULT);
        spec.commandLine().getOut().println(text(Configuration.DEFAULT));
        spec.commandLine().getOut().flush();
        return 0;
      }
    }
  }

  private static boolean all(String value) {
    return value.equalsIgnoreCase("all");
  }

  private static List<String> list(String value) {
    return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  static String text(Configuration config) {
    return String.join(
        System.lineSeparator(),
        "enabled               " + config.enabled(),
        "kinds                 " + names(config.kinds()),
        "processes             " + (config.processes().isEmpty() ? "all" : String.join(",", config.processes())),
        "ports                 " + (config.ports().isEmpty() ? "all" : joined(config.ports())),
        "capture               " + config.captureBytes() + " bytes",
        "emulation-ports       " + (config.emulationPorts().isEmpty() ? "none" : joined(config.emulationPorts())),
        "abortive-to-graceful  " + config.abortiveToGraceful());
  }

  static String json(Configuration config) {
    return "{\"enabled\":" + config.enabled()
        + ",\"kinds\":[" + config.kinds().stream().sorted().map(k -> "\"" + k + "\"").collect(Collectors.joining(","))
        + "],\"processes\":[" + config.processes().stream().map(EventFormat::quote).collect(Collectors.joining(","))
        + "],\"ports\":[" + config.ports().stream().map(p -> "\"" + p + "\"").collect(Collectors.joining(","))
        + "],\"captureBytes\":" + config.captureBytes()
        + ",\"emulationPorts\":[" + joined(config.emulationPorts())
        + "],\"abortiveToGraceful\":" + config.abortiveToGraceful() + "}";
  }

  private static String names(java.util.Set<EventKind> kinds) {
    if (kinds.size() == EventKind.values().length) {
      return "all";
    }
    if (kinds.equals(Configuration.DEFAULT.kinds())) {
      return "default (all but CONNECTED)";
    }
    return kinds.isEmpty() ? "none" : kinds.stream().sorted().map(Enum::name).collect(Collectors.joining(","));
  }

  private static String joined(List<?> values) {
    return values.stream().map(Object::toString).collect(Collectors.joining(","));
  }
}
