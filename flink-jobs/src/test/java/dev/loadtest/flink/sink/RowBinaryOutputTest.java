package dev.loadtest.flink.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class RowBinaryOutputTest {
  @Test
  void numbersAreLittleEndianAndLengthsLeb128AcrossGrowth() {
    RowBinaryOutput out = new RowBinaryOutput(1); // grows on every write
    out.int64(0x0102030405060708L);
    out.uint32(0xF1F2F3F4L);
    out.uint16(0xABCD);
    out.float64(1.0);
    out.string("é");
    out.strings(new String[] {"a", ""});
    out.varint(300);
    out.write(new byte[] {9, 8, 7}, 1, 2);
    assertArrayEquals(new byte[] {8, 7, 6, 5, 4, 3, 2, 1, (byte) 0xF4, (byte) 0xF3, (byte) 0xF2, (byte) 0xF1,
        (byte) 0xCD, (byte) 0xAB, 0, 0, 0, 0, 0, 0, (byte) 0xF0, 0x3F, 2, (byte) 0xC3, (byte) 0xA9, 2, 1, 'a', 0,
        (byte) 0xAC, 0x02, 8, 7}, out.toByteArray());
  }
}
