package dev.loadtest.flink.aggregate;

import java.net.URI;
import java.time.Duration;

/**
 * Where the aggregate job reads and writes, and its event-time tolerances.
 *
 * @param bounded read to the end of the topic as it is at start, then finish (tests, backfills)
 * @param outOfOrderness how late a sample may come and still be in its window (the watermark's delay)
 * @param idleness a partition silent this long does not hold the watermark back
 */
public record AggregateJobConfig(String bootstrapServers, String samplesTopic, String groupId, URI clickHouseUri,
    String clickHouseUser, String clickHousePassword, String database, boolean bounded, Duration outOfOrderness,
    Duration idleness) {}
