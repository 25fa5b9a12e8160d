package dev.loadtest.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The form in which a plan is stored with its run: env values (which may hold secrets) replaced by
 * {@value #REDACTED}, keys sorted; and its SHA-256, so that two runs of the same plan compare equal
 * whatever secrets they were given.
 */
final class StoredPlans {
  static final String REDACTED = dev.loadtest.schemas.plan.PlanSecrets.REDACTED;
  private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonNodeFeature.WRITE_PROPERTIES_SORTED).build();

  private StoredPlans() {}

  static String redacted(JsonNode plan) {
    JsonNode copy = plan.deepCopy();
    dev.loadtest.schemas.plan.PlanSecrets.redact(copy);
    try {
      return JSON.writeValueAsString(copy);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hash(String storedPlan) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(storedPlan.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
