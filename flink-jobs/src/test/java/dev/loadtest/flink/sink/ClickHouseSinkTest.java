package dev.loadtest.flink.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClickHouseSinkTest {
  private final ClickHouseSink.RowsSerializer serializer = new ClickHouseSink.RowsSerializer();

  @Test
  void inlineAndStagedRowsSurviveTheCheckpointAndCommittablesOfTheFirstVersionAreStillRead() throws Exception {
    ClickHouseSink.Rows inline = new ClickHouseSink.Rows("INSERT INTO metric_1s FORMAT RowBinary", new byte[] {1, 2, 3}, 7);
    ClickHouseSink.Rows back = serializer.deserialize(serializer.getVersion(), serializer.serialize(inline));
    assertEquals(inline.insert(), back.insert());
    assertEquals(7, back.count());
    assertArrayEquals(new byte[] {1, 2, 3}, back.data());
    assertNull(back.file());

    ClickHouseSink.Rows staged = new ClickHouseSink.Rows("INSERT INTO metric_10s FORMAT RowBinary", null, 50_000,
        "file:///checkpoints/sink-staging/rows-0-1.bin");
    byte[] small = serializer.serialize(staged);
    assertTrue(small.length < 200, "a staged committable holds the file's path only: " + small.length + " bytes");
    assertEquals(staged, serializer.deserialize(serializer.getVersion(), small));

    ByteArrayOutputStream v1 = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(v1)) {
      out.writeUTF("INSERT INTO series FORMAT RowBinary");
      out.writeInt(2);
      out.writeInt(2);
      out.write(new byte[] {9, 8});
    }
    ClickHouseSink.Rows old = serializer.deserialize(1, v1.toByteArray());
    assertEquals(2, old.count());
    assertArrayEquals(new byte[] {9, 8}, old.data());
  }

  @Test
  void onlyStagedFilesOlderThanTheLimitAreCleanedAway(@TempDir Path dir) throws Exception {
    Path old = Files.write(dir.resolve("rows-0-old.bin"), new byte[] {1});
    Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(ClickHouseSink.STAGED_FILE_MAX_AGE).minusSeconds(60)));
    Path recent = Files.write(dir.resolve("rows-0-recent.bin"), new byte[] {1});
    Path other = Files.write(dir.resolve("notes.txt"), new byte[] {1});
    Files.setLastModifiedTime(other, FileTime.from(Instant.EPOCH));
    ClickHouseSink.deleteOldStagedFiles(new org.apache.flink.core.fs.Path(dir.toUri()),
        System.currentTimeMillis() - ClickHouseSink.STAGED_FILE_MAX_AGE.toMillis());
    assertFalse(Files.exists(old), "a file no checkpoint completed with, older than the limit");
    assertTrue(Files.exists(recent), "a file a pending commit may still need");
    assertTrue(Files.exists(other), "not a staged file");
  }
}
