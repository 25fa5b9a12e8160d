package dev.loadtest.schemas.plan;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The text of a plan file from its bytes: UTF-8 (with or without a byte order mark), or UTF-16 / UTF-32 with
 * their byte order mark (as editors on Windows save them). Anything else is refused with where it goes
 * wrong, instead of a decoder's "Input length = 1".
 */
public final class PlanText {
  private PlanText() {}

  /**
   * The decoded text of {@code bytes}.
   *
   * @throws InvalidPlanException at {@code $} saying which byte is wrong and what to do
   */
  public static String decode(byte[] bytes) {
    int n = bytes.length;
    if (n >= 4 && (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xFE && bytes[2] == 0 && bytes[3] == 0) {
      return strict(bytes, 4, Charset.forName("UTF-32LE"), "UTF-32");
    }
    if (n >= 4 && bytes[0] == 0 && bytes[1] == 0 && (bytes[2] & 0xFF) == 0xFE && (bytes[3] & 0xFF) == 0xFF) {
      return strict(bytes, 4, Charset.forName("UTF-32BE"), "UTF-32");
    }
    if (n >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
      return strict(bytes, 3, StandardCharsets.UTF_8, "UTF-8");
    }
    if (n >= 2 && (bytes[0] & 0xFF) == 0xFE && (bytes[1] & 0xFF) == 0xFF) {
      return strict(bytes, 2, StandardCharsets.UTF_16BE, "UTF-16");
    }
    if (n >= 2 && (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xFE) {
      return strict(bytes, 2, StandardCharsets.UTF_16LE, "UTF-16");
    }
    for (int i = 0; i < n; i++) {
      if (bytes[i] == 0) {
        throw error("byte " + i + " is NUL: this is a binary file or UTF-16 without a byte order mark; save the"
            + " plan as UTF-8");
      }
    }
    return strict(bytes, 0, StandardCharsets.UTF_8, "UTF-8");
  }

  private static String strict(byte[] bytes, int from, Charset charset, String name) {
    CharsetDecoder d = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, from, bytes.length - from);
    try {
      String text = d.decode(in).toString();
      int nul = text.indexOf('\0');
      if (nul >= 0) {
        throw error("character " + nul + " is NUL: a binary file, not a plan");
      }
      return text;
    } catch (MalformedInputException e) {
      int at = in.position();
      throw error("not " + name + " text: byte 0x" + String.format("%02X", bytes[Math.min(at, bytes.length - 1)] & 0xFF)
          + " at offset " + at + " is not valid " + name + "; save the plan as UTF-8");
    } catch (CharacterCodingException e) {
      throw error("not " + name + " text: " + e);
    }
  }

  private static InvalidPlanException error(String message) {
    return new InvalidPlanException(List.of(new PlanError("$", message)));
  }
}
