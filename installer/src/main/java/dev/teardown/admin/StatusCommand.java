package dev.teardown.admin;

import dev.teardown.admin.catalog.Catalog;
import dev.teardown.admin.catalog.CatalogProblem;
import dev.teardown.api.Configuration;
import dev.teardown.api.ConfigurationOwner;
import dev.teardown.api.Counters;
import dev.teardown.api.EventKind;
import dev.teardown.api.TeardownChannel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code teardown status}: where the channel is, what it holds, how it is configured, and on
 * Windows where Teardown is in each Winsock catalog.
 */
@Command(name = "status", description = {
    "Show the channel, its counters, the live configuration and the history.",
    "On Windows also whether Teardown is installed in each Winsock catalog, where its chains are,"
        + " which other LSPs are there and what is wrong."})
final class StatusCommand implements Callable<Integer> {
  @Mixin ChannelOption channel;

  @Mixin HistoryDatabase database;

  @Option(names = "--json", description = "One JSON object, for scripts.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    try (TeardownChannel opened = channel.open()) {
      PrintWriter out = spec.commandLine().getOut();
      Counters counters = opened.counters();
      ConfigurationOwner owner = opened.configurationOwner();
      // What every user's programs apply: the live configuration, or the defaults.
      Configuration config = opened.effectiveConfiguration();
      Optional<Installation> live = WindowsMachine.detect("status", false, new PrintWriter(Writer.nullWriter()))
          .map(Installation::new);
      List<String> excluded = live.isEmpty() ? List.of() : WindowsMachine
          .programs("status", false, new PrintWriter(Writer.nullWriter())).orElseThrow().excluded();
      HistoryStatus history = HistoryStatus.of(database.resolve(channel.directory));
      if (json) {
        out.println(json(opened, counters, owner, config, live, excluded, history));
        out.flush();
        return 0;
      }
      out.printf("channel     %s ready (%s)%n", opened.path(), held(opened.capacity(), opened.laneCapacity()));
      out.printf("events      %d produced, %d dropped by producers%n", counters.produced(), counters.dropped());
      out.printf("config      %s%n", owner.appliesTo());
      for (EventKind kind : EventKind.values()) {
        out.printf("  %-16s %d%n", kind, counters.published(kind));
      }
      out.printf("recording   %s%n", config.enabled() ? "enabled" : "disabled");
      out.printf("kinds       %s%n", config.kinds().stream().map(Enum::name).sorted().collect(Collectors.joining(",")));
      out.printf("processes   %s%n", config.processes().isEmpty() ? "all" : String.join(",", config.processes()));
      out.printf("ports       %s%n", config.ports().isEmpty() ? "all" : config.ports().stream().map(Object::toString).collect(Collectors.joining(",")));
      out.printf("capture     %d bytes%n", config.captureBytes());
      out.printf("abortive    %s%n", config.abortiveToGraceful() ? "performed gracefully (policy on)" : "left abortive");
      live.flatMap(installation -> EmulationNeedsFull.warning(installation.read(), config))
          .ifPresent(warning -> out.printf("emulation   %s%n", warning));
      out.printf("history     %s%n", history.text());
      if (live.isEmpty()) {
        out.println("catalog     not on Windows (teardown catalog check DUMP reads a saved one)");
      } else {
        Catalog catalog = live.get().read();
        for (Installation.CatalogState state : Installation.states(catalog)) {
          out.printf("catalog     %s: %s%n", state.name(), state.installed()
              ? "Teardown installed in " + state.mode().cliName() + " mode, hidden entry "
                  + state.hiddenEntry() + ", in the chains at positions " + state.chainPositions()
                  + " of " + state.entries()
              : "Teardown not installed");
          out.printf("  other LSPs  %s%n", state.otherLayered().isEmpty() ? "none" : String.join(", ", state.otherLayered()));
        }
        for (CatalogProblem problem : live.get().problems(catalog)) {
          out.printf("  problem     %s; fix: %s%n", problem.message(), problem.fix());
        }
        out.printf("excluded    %s%n", excluded.isEmpty() ? "no program (teardown exclude PROGRAM)"
            : String.join("\n            ", excluded));
      }
      out.flush();
      return 0;
    }
  }

  /** What a ring holds while no reader reads: in all, and of one thread's burst. */
  static String held(int capacity, int laneCapacity) {
    if (laneCapacity >= capacity) {
      return capacity + " events held per user";
    }
    return capacity + " events held per user, in " + capacity / laneCapacity + " lanes: one thread's burst"
        + " (or several threads' sharing a lane) is held up to " + laneCapacity;
  }

  private static String json(TeardownChannel opened, Counters counters, ConfigurationOwner owner,
      Configuration config, Optional<Installation> live, List<String> excluded, HistoryStatus history) {
    StringBuilder out = new StringBuilder("{\"channel\":").append(EventFormat.quote(opened.path().toString()))
        .append(",\"ready\":true")
        .append(",\"capacity\":").append(opened.capacity())
        .append(",\"laneCapacity\":").append(opened.laneCapacity())
        .append(",\"produced\":").append(counters.produced())
        .append(",\"dropped\":").append(counters.dropped())
        .append(",\"configurationOwner\":").append(EventFormat.quote(owner.owner()))
        .append(",\"configurationHonouredByEveryone\":").append(owner.honouredByEveryone())
        .append(",\"configurationAppliesTo\":").append(EventFormat.quote(owner.appliesTo()))
        .append(",\"configuration\":").append(ConfigCommand.json(config))
        .append(",\"history\":").append(history.json())
        .append(",\"catalogs\":");
    if (live.isEmpty()) {
      return out.append("null}").toString();
    }
    Catalog catalog = live.get().read();
    out.append('[');
    List<Installation.CatalogState> states = Installation.states(catalog);
    for (int i = 0; i < states.size(); i++) {
      Installation.CatalogState state = states.get(i);
      out.append(i == 0 ? "" : ",").append("{\"catalog\":").append(EventFormat.quote(state.name()))
          .append(",\"installed\":").append(state.installed())
          .append(",\"mode\":").append(state.installed() ? EventFormat.quote(state.mode().cliName()) : "null")
          .append(",\"hiddenEntry\":").append(state.hiddenEntry())
          .append(",\"chainPositions\":").append(state.chainPositions().toString().replace(" ", ""))
          .append(",\"entries\":").append(state.entries())
          .append(",\"otherLayered\":[")
          .append(state.otherLayered().stream().map(EventFormat::quote).collect(Collectors.joining(",")))
          .append("]}");
    }
    out.append("],\"problems\":[")
        .append(live.get().problems(catalog).stream().map(p -> EventFormat.quote(p.message() + "; fix: " + p.fix()))
            .collect(Collectors.joining(",")))
        .append("],\"excludedPrograms\":[")
        .append(excluded.stream().map(EventFormat::quote).collect(Collectors.joining(",")))
        .append("]}");
    return out.toString();
  }
}
