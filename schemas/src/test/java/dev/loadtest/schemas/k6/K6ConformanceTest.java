package dev.loadtest.schemas.k6;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.histogram.PercentileMethod;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.segment.ExecutionSegment;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence.Share;
import dev.loadtest.schemas.threshold.MetricSelector;
import dev.loadtest.schemas.threshold.MetricSummary;
import dev.loadtest.schemas.threshold.Threshold;
import dev.loadtest.schemas.threshold.ThresholdEvaluator;
import dev.loadtest.schemas.threshold.ThresholdExpression;
import dev.loadtest.schemas.time.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * k6's own test cases for execution segments, durations and thresholds, carried over as data
 * ({@code src/test/resources/k6}): every row must give what k6 gives, or what the row notes as a
 * deliberate difference.
 */
class K6ConformanceTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String orNull(String s) {
    return s.isEmpty() ? null : s;
  }

  private static Share share(K6Cases.Row r) {
    return ExecutionSegmentSequence.share(orNull(r.get(0)), orNull(r.get(1)));
  }

  @TestFactory
  Stream<DynamicTest> segmentsParseAsK6ParsesThem() {
    return K6Cases.tests("segment-parse.tsv", r -> {
      if (r.get(1).equals("ERROR")) {
        assertThrows(IllegalArgumentException.class, () -> ExecutionSegment.parse(r.get(0)));
      } else {
        ExecutionSegment s = ExecutionSegment.parse(r.get(0));
        assertEquals(r.get(1), s.toString());
        assertEquals(s, ExecutionSegment.parse(s.toString()), "a printed segment parses back to itself");
      }
    });
  }

  @TestFactory
  Stream<DynamicTest> sequencesParseAndCompleteAsK6Does() {
    return K6Cases.tests("sequence-parse.tsv", r -> {
      if (r.get(1).equals("ERROR")) {
        assertThrows(IllegalArgumentException.class, () -> ExecutionSegmentSequence.parse(r.get(0)));
        return;
      }
      ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse(r.get(0));
      List<String> expected = Arrays.asList(r.get(1).split(" "));
      int first = seq.indexOf(ExecutionSegment.parse(expected.get(0)));
      assertTrue(first >= 0, expected.get(0) + " is a segment of " + seq);
      for (int i = 0; i < expected.size(); i++) {
        assertEquals(expected.get(i), seq.segment(first + i));
      }
      assertEquals("0", seq.segmentAt(0).from().toString(), "completed from 0");
      assertEquals("1", seq.segmentAt(seq.segmentCount() - 1).to().toString(), "completed to 1");
    });
  }

  @TestFactory
  Stream<DynamicTest> stripedOffsetsAreK6s() {
    return K6Cases.tests("striped-offsets.tsv", r -> {
      Share s = ExecutionSegmentSequence.share(r.get(1), orNull(r.get(0)));
      long[] offsets = s.sequence().stripedOffsets(s.segment());
      assertEquals(Long.parseLong(r.get(2)), offsets[0], "start");
      assertEquals(r.get(3), Arrays.stream(offsets).skip(1).mapToObj(Long::toString).collect(Collectors.joining(" ")),
          "offsets");
      assertEquals(Integer.parseInt(r.get(4)), s.sequence().cycle(), "cycle (k6's lcd)");
    });
  }

  @TestFactory
  Stream<DynamicTest> cyclesAreK6sLeastCommonDenominators() {
    return K6Cases.tests("sequence-cycle.tsv",
        r -> assertEquals(Integer.parseInt(r.get(1)), ExecutionSegmentSequence.parse(r.get(0)).cycle()));
  }

  @TestFactory
  Stream<DynamicTest> sharesAreK6s() {
    return K6Cases.tests("tuple-scale.tsv", r -> {
      Share s = share(r);
      assertEquals(Long.parseLong(r.get(3)), s.sequence().scale(s.segment(), Long.parseLong(r.get(2))));
    });
  }

  @TestFactory
  Stream<DynamicTest> redividedSharesAreK6s() {
    return K6Cases.tests("tuple-redivide.tsv", r -> {
      Share s = share(r);
      Optional<Share> re = s.sequence().redivide(s.segment(), Long.parseLong(r.get(2)));
      if (r.get(4).equals("NONE")) {
        assertTrue(re.isEmpty(), "no share of " + r.get(2) + ", got " + re);
      } else {
        Share n = re.orElseThrow();
        assertEquals(Long.parseLong(r.get(4)), n.sequence().scale(n.segment(), Long.parseLong(r.get(3))));
      }
    });
  }

  @TestFactory
  Stream<DynamicTest> redividedSequencesAreK6s() {
    return K6Cases.tests("redivided-sequence.tsv", r -> {
      Share s = ExecutionSegmentSequence.share(r.get(1), r.get(0));
      assertEquals(r.get(3), s.sequence().redivide(s.segment(), Long.parseLong(r.get(2))).orElseThrow().sequence()
          .toString());
    });
  }

  @TestFactory
  Stream<DynamicTest> sharedIterationsGoWhereK6SendsThem() {
    return K6Cases.tests("shared-iterations.tsv", r -> {
      Share s = ExecutionSegmentSequence.share(r.get(1), r.get(0));
      Share byVus = s.sequence().redivide(s.segment(), Long.parseLong(r.get(2))).orElseThrow();
      String mine = LongStream.range(0, Long.parseLong(r.get(3)))
          .filter(i -> byVus.sequence().ownerOf(i) == byVus.segment())
          .mapToObj(Long::toString).collect(Collectors.joining(" "));
      assertEquals(r.get(4), mine);
    });
  }

  @TestFactory
  Stream<DynamicTest> durationsParseAsK6ParsesThem() {
    return K6Cases.tests("durations.tsv", r -> {
      if (r.get(1).equals("ERROR")) {
        assertThrows(IllegalArgumentException.class, () -> Durations.parse(r.get(0)));
      } else {
        assertEquals(Long.parseLong(r.get(1)), Durations.parse(r.get(0)).toNanos());
      }
    });
  }

  @TestFactory
  Stream<DynamicTest> thresholdExpressionsParseAsK6ParsesThem() {
    return K6Cases.tests("threshold-parse.tsv", r -> {
      if (r.get(1).equals("ERROR")) {
        assertThrows(IllegalArgumentException.class, () -> ThresholdExpression.parse(r.get(0)));
        return;
      }
      ThresholdExpression e = ThresholdExpression.parse(r.get(0));
      assertEquals(r.get(1), e.aggregation().name());
      if (e.aggregation() == ThresholdExpression.Aggregation.PERCENTILE) {
        assertEquals(Double.parseDouble(r.get(2)), e.percentile(), 1e-12);
      }
      assertEquals(r.get(3), e.operator().symbol());
      assertEquals(Double.parseDouble(r.get(4)), e.value(), 1e-12);
    });
  }

  @TestFactory
  Stream<DynamicTest> thresholdsJudgeAsK6Judges() {
    return K6Cases.tests("threshold-eval.tsv", r -> {
      String[] data = r.get(0).split(":", 2);
      MetricSummary summary = switch (data[0]) {
        case "rate" -> {
          String[] f = data[1].split("/");
          yield MetricSummary.rate(Long.parseLong(f[0]), Long.parseLong(f[1]));
        }
        case "counter" -> MetricSummary.counter(1, Double.parseDouble(data[1]), Duration.ofSeconds(1));
        case "trend" -> {
          SingleWriterHistogram h = new SingleWriterHistogram();
          for (String v : data[1].isBlank() ? new String[0] : data[1].split(" ")) {
            h.record(Double.parseDouble(v) * 1000); // thousandths of a millisecond
          }
          yield MetricSummary.trend(h.snapshot());
        }
        default -> throw new IllegalArgumentException(r.get(0));
      };
      String expected = r.deliberate() != null ? r.deliberate().substring("deliberate: ".length()).split(" ")[0]
          : r.get(2);
      assertEquals(expected, ThresholdEvaluator.evaluate(ThresholdExpression.parse(r.get(1)), summary).status().name());
    });
  }

  @TestFactory
  Stream<DynamicTest> thresholdListsReadAsK6ReadsThem() {
    return K6Cases.tests("threshold-lists.tsv", r -> {
      ObjectNode plan = (ObjectNode) readTree("""
          {"scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "f"}},
           "flows": {"f": {"steps": [{"think": "1s"}]}}}""");
      plan.putObject("thresholds").set("http_req_failed", readTree(r.get(0)));
      TestPlan p = PlanParser.parse(plan);
      List<String> sources = new ArrayList<>();
      for (Threshold t : p.thresholds()) {
        sources.add(t.expression().source());
        assertEquals(Boolean.parseBoolean(r.get(2)), t.abortOnFail(), "abortOnFail");
        assertEquals(r.get(3).isEmpty() ? 0 : Long.parseLong(r.get(3)),
            t.delayAbortEval() == null ? 0 : t.delayAbortEval().toMillis(), "delayAbortEval");
      }
      assertEquals(r.get(1), String.join("|", sources));
    });
  }

  @TestFactory
  Stream<DynamicTest> abortsComeOnlyAfterDelayAbortEval() {
    return K6Cases.tests("threshold-abort.tsv", r -> {
      Threshold t = new Threshold(MetricSelector.parse("http_req_duration"), ThresholdExpression.parse("p(95)<200"),
          Boolean.parseBoolean(r.get(0)), r.get(1).isEmpty() ? null : Duration.ofMillis(Long.parseLong(r.get(1))));
      assertEquals(Boolean.parseBoolean(r.get(3)), t.abortsAt(Long.parseLong(r.get(2))));
    });
  }

  @TestFactory
  Stream<DynamicTest> trendsSummarizeAsK6Does() {
    return K6Cases.tests("trend-sink.tsv", r -> {
      SingleWriterHistogram h = new SingleWriterHistogram();
      for (String v : r.get(0).trim().isEmpty() ? new String[0] : r.get(0).trim().split(" ")) {
        h.record(Double.parseDouble(v) * 1000); // stored in thousandths of the unit, as the aggregate job does
      }
      SparseHistogram hist = h.snapshot();
      String stat = r.get(1);
      double expected = Double.parseDouble(r.get(2));
      double got = switch (stat) {
        case "count" -> hist.count();
        case "min" -> hist.min() / 1000.0;
        case "max" -> hist.max() / 1000.0;
        case "sum" -> hist.sum() / 1000.0;
        case "avg" -> hist.mean() / 1000.0;
        case "med" -> hist.percentile(50, PercentileMethod.K6) / 1000.0;
        default -> hist.percentile(Double.parseDouble(stat.substring(2, stat.length() - 1)), PercentileMethod.K6)
            / 1000.0;
      };
      boolean exact = !stat.equals("med") && !stat.startsWith("p(");
      assertEquals(expected, got, exact ? 1e-12 : expected / 128.0, stat + " of " + r.get(0));
    });
  }

  private static com.fasterxml.jackson.databind.JsonNode readTree(String s) {
    try {
      return JSON.readTree(s);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
