package dev.loadtest.topology;

import dev.loadtest.schemas.topics.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the coordinator's topology from its configuration, apart from any main, so that tests drive the
 * very topology that runs (TopologyTestDriver) and the application only adds Kafka settings
 * (exactly_once_v2, state directory).
 */
public final class CoordinatorTopology {
  private CoordinatorTopology() {}

  public static Topology build(CoordinatorConfig config) {
    Topology t = new Topology();
    t.addSource("commands", Serdes.String().deserializer(), Serdes.String().deserializer(), Topics.COMMANDS);
    t.addProcessor("command-processor", () -> new CommandProcessor(config), "commands");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CommandProcessor.RUNS_STORE),
        Serdes.String(), Serdes.String()), "command-processor");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CommandProcessor.SEEN_STORE),
        Serdes.String(), Serdes.Long()), "command-processor");
    t.addSink(CommandProcessor.RUNS_SINK, Topics.RUNS, Serdes.String().serializer(), Serdes.String().serializer(),
        "command-processor");
    t.addSink(CommandProcessor.DLQ_SINK, Topics.DLQ, Serdes.String().serializer(), Serdes.String().serializer(),
        "command-processor");
    return t;
  }
}
