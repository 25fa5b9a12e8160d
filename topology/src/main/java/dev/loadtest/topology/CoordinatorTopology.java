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

  /**
   * The coordinator's own topic, one partition: validated runs, stops and aborts go through it to the
   * control processor, which is then the only writer of their lifecycle and of the generator registry.
   */
  public static final String CONTROL_TOPIC = "loadtest.coordinator.control";

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
    t.addSink(CommandProcessor.CONTROL_SINK, CONTROL_TOPIC, Serdes.String().serializer(),
        Serdes.String().serializer(), "command-processor");

    // Threshold results are keyed by run over several partitions: they reach the control processor through
    // its one-partition topic, like everything that changes a run's lifecycle.
    t.addSource("thresholds", Serdes.String().deserializer(), Serdes.String().deserializer(), Topics.THRESHOLDS);
    t.addProcessor("threshold-forwarder", ThresholdForwarder::new, "thresholds");
    t.addSink("threshold-control-sink", CONTROL_TOPIC, Serdes.String().serializer(), Serdes.String().serializer(),
        "threshold-forwarder");
    t.addSink("threshold-dlq-sink", Topics.DLQ, Serdes.String().serializer(), Serdes.String().serializer(),
        "threshold-forwarder");

    t.addSource("control", Serdes.String().deserializer(), Serdes.String().deserializer(), CONTROL_TOPIC);
    t.addSource("generators", Serdes.String().deserializer(), Serdes.String().deserializer(), Topics.GENERATORS);
    t.addProcessor("control-processor", () -> new ControlProcessor(config), "control", "generators");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ControlProcessor.LIFECYCLE_STORE),
        Serdes.String(), Serdes.String()), "control-processor");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ControlProcessor.REGISTRY_STORE),
        Serdes.String(), Serdes.String()), "control-processor");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ControlProcessor.ACTIVE_STORE),
        Serdes.String(), Serdes.String()), "control-processor");
    t.addSink(ControlProcessor.CONTROL_RUNS_SINK, Topics.RUNS, Serdes.String().serializer(),
        Serdes.String().serializer(), "control-processor");
    t.addSink(ControlProcessor.ASSIGNMENTS_SINK, Topics.ASSIGNMENTS, Serdes.String().serializer(),
        Serdes.String().serializer(), "control-processor");
    t.addSink(ControlProcessor.CONTROL_DLQ_SINK, Topics.DLQ, Serdes.String().serializer(),
        Serdes.String().serializer(), "control-processor");
    // Schedules: kept by the control processor (it knows every run's lifecycle, to skip a start while the
    // schedule's previous run goes), their runs started as commands like any other.
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ScheduleBook.STORE),
        Serdes.String(), Serdes.String()), "control-processor");
    t.addSink(ControlProcessor.SCHEDULED_COMMANDS_SINK, Topics.COMMANDS, Serdes.String().serializer(),
        Serdes.String().serializer(), "control-processor");
    t.addSink(ControlProcessor.SCHEDULES_SINK, Topics.SCHEDULES, Serdes.String().serializer(),
        Serdes.String().serializer(), "control-processor");
    return t;
  }
}
