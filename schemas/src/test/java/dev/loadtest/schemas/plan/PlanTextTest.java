package dev.loadtest.schemas.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PlanTextTest {
  private static final String PLAN = "{\"name\": \"café ☕\", \"flows\": {}}";

  private static byte[] bom(int[] mark, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int b : mark) {
      out.write(b);
    }
    out.writeBytes(body);
    return out.toByteArray();
  }

  @Test
  void utf8WithOrWithoutAByteOrderMarkAndUtf16Or32WithOneDecode() {
    assertEquals(PLAN, PlanText.decode(PLAN.getBytes(StandardCharsets.UTF_8)));
    assertEquals(PLAN, PlanText.decode(bom(new int[] {0xEF, 0xBB, 0xBF}, PLAN.getBytes(StandardCharsets.UTF_8))));
    assertEquals(PLAN, PlanText.decode(bom(new int[] {0xFF, 0xFE}, PLAN.getBytes(StandardCharsets.UTF_16LE))));
    assertEquals(PLAN, PlanText.decode(bom(new int[] {0xFE, 0xFF}, PLAN.getBytes(StandardCharsets.UTF_16BE))));
    assertEquals(PLAN, PlanText.decode(bom(new int[] {0xFF, 0xFE, 0, 0}, PLAN.getBytes(Charset.forName("UTF-32LE")))));
    assertEquals(PLAN, PlanText.decode(bom(new int[] {0, 0, 0xFE, 0xFF}, PLAN.getBytes(Charset.forName("UTF-32BE")))));
  }

  @Test
  void utf16WithoutAMarkOrABinaryFileIsRefusedSayingWhere() {
    InvalidPlanException e = assertThrows(InvalidPlanException.class,
        () -> PlanText.decode(PLAN.getBytes(StandardCharsets.UTF_16LE)));
    assertEquals("$", e.errors().get(0).path());
    assertTrue(e.errors().get(0).message().contains("byte 1 is NUL"), e.errors().toString());
    assertTrue(e.errors().get(0).message().contains("save the plan as UTF-8"), e.errors().toString());
  }

  @Test
  void invalidUtf8IsRefusedWithItsOffsetNotADecodersInputLength() {
    byte[] latin1 = PLAN.getBytes(StandardCharsets.ISO_8859_1); // "é" is 0xE9 at offset 13, not UTF-8
    InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> PlanText.decode(latin1));
    String m = e.errors().get(0).message();
    assertTrue(m.contains("not UTF-8 text: byte 0xE9 at offset 13"), m);
    assertTrue(!m.contains("Input length"), m);
  }
}
