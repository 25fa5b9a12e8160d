package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The OpenAPI document the API serves is true: it names exactly the routes the server has, every operation
 * says its responses and parameters, every query parameter an endpoint accepts is documented (an
 * undocumented one is refused as unknown), and every $ref resolves.
 */
@Timeout(120)
class OpenApiIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theDocumentDescribesExactlyTheRoutesAndTheirParameters() throws Exception {
    ClickHouseServer ch = ClickHouseServer.shared();
    EmbeddedKafka.shared().createTopics(dev.loadtest.schemas.topics.Topics.all().stream()
        .map(t -> new org.apache.kafka.clients.admin.NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    String token = "write-token-0123456789";
    try (ApiServer api = ApiServer.start(new ApiConfig("127.0.0.1", 0, ch.httpUri(), ch.user(), ch.password(),
        "openapi_it", EmbeddedKafka.shared().bootstrapServers(), Map.of(token, ApiConfig.Scope.WRITE), List.of(),
        Limits.DEFAULT))) {
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/openapi.json")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      JsonNode doc = JSON.readTree(r.body());
      assertTrue(doc.path("openapi").asText().startsWith("3."));
      assertEquals("/api/v1", doc.path("servers").get(0).path("url").asText());

      Set<String> documented = new TreeSet<>();
      doc.path("paths").properties().forEach(p -> p.getValue().fieldNames().forEachRemaining(m ->
          documented.add(m.toUpperCase() + " /api/v1" + p.getKey().replaceAll("\\{([^}]+)}", ":$1"))));
      Set<String> routed = new TreeSet<>(api.routes());
      assertEquals(routed, documented, "routes vs the document");

      for (var p : iterable(doc.path("paths").properties())) {
        for (var op : iterable(p.getValue().properties())) {
          String where = op.getKey() + " " + p.getKey();
          assertFalse(op.getValue().path("summary").asText().isEmpty(), where + " has a summary");
          assertTrue(op.getValue().path("responses").size() > 0, where + " has responses");
          for (JsonNode param : op.getValue().path("parameters")) {
            assertTrue(param.hasNonNull("schema") && !param.path("description").asText().isEmpty(), where + " " + param);
            if (param.path("in").asText().equals("path")) {
              assertTrue(p.getKey().contains("{" + param.path("name").asText() + "}"), where + " " + param);
            }
          }
          if (op.getKey().equals("get") && p.getKey().startsWith("/runs/{id}/") && !p.getKey().endsWith("/live")) {
            // each documented query parameter is accepted (not refused as unknown)
            for (JsonNode param : op.getValue().path("parameters")) {
              if (!param.path("in").asText().equals("query")) {
                continue;
              }
              String url = api.url() + p.getKey().replace("{id}", "no-such-run") + "?" + param.path("name").asText() + "=";
              HttpResponse<String> res;
              try {
                res = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                    .build(), HttpResponse.BodyHandlers.ofString());
              } catch (java.io.IOException e) {
                throw new AssertionError(url + " failed: " + e, e);
              }
              assertFalse(res.body().contains("unknown parameter"), url + " -> " + res.body());
            }
          }
        }
      }
      List<String> refs = new ArrayList<>();
      collectRefs(doc, refs);
      for (String ref : refs) {
        assertFalse(doc.at(ref.substring(1)).isMissingNode(), "unresolved " + ref);
      }
    }
  }

  static <T> Iterable<T> iterable(java.util.Collection<T> c) {
    return c;
  }

  static void collectRefs(JsonNode n, List<String> out) {
    if (n.isObject()) {
      if (n.has("$ref")) {
        out.add(n.get("$ref").asText());
      }
      n.forEach(c -> collectRefs(c, out));
    } else if (n.isArray()) {
      n.forEach(c -> collectRefs(c, out));
    }
  }
}
