package dev.loadtest.schemas.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.avro.AggregateBucket;
import dev.loadtest.schemas.avro.MetricKind;
import dev.loadtest.schemas.avro.Tag;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AggregateBatchTest {
  @Test
  void aTrendBucketRoundTripsWithItsHistogram() throws Exception {
    SingleWriterHistogram h = new SingleWriterHistogram();
    for (long v : new long[] {900, 12_000, 12_050, 480_000}) {
      h.record(v);
    }
    SparseHistogram s = h.snapshot();
    AggregateBucket bucket = AggregateBucket.newBuilder()
        .setSeriesId(0x1234_5678_9ABC_DEF0L).setMetric("http_req_duration").setType(MetricKind.TREND)
        .setTags(List.of(new Tag("name", "checkout"), new Tag("status", "200")))
        .setStartMs(1_760_000_000_000L).setWidthMs(1000).setCount(s.count()).setSum(s.sum())
        .setMin(s.min()).setMax(s.max()).setLast(0).setNonZero(0)
        .setHistIndexes(Arrays.stream(s.indexes()).boxed().toList())
        .setHistCounts(Arrays.stream(s.counts()).boxed().toList()).build();
    AggregateBatch batch = AggregateBatch.newBuilder().setTestRunId("run-1").setBuckets(List.of(bucket)).build();

    ByteBuffer bytes = batch.toByteBuffer();
    AggregateBatch back = AggregateBatch.fromByteBuffer(bytes);
    assertEquals(batch, back);
    assertEquals("", back.getAnalysisId(), "a live run has no analysis id");
    AggregateBucket b = back.getBuckets().get(0);
    SparseHistogram rebuilt = SparseHistogram.of(b.getHistIndexes().stream().mapToInt(Integer::intValue).toArray(),
        b.getHistCounts().stream().mapToLong(Long::longValue).toArray(), (long) b.getSum(), (long) b.getMin(), (long) b.getMax());
    assertEquals(s, rebuilt);
    assertEquals(s.percentile(75), rebuilt.percentile(75));
  }
}
