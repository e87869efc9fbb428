package dev.inferno.image.unpack;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Watches the tar stream as commons-compress reads it and keeps the raw bytes of {@code
 * SCHILY.xattr.*} PAX records. commons-compress decodes PAX values as UTF-8, which corrupts binary
 * xattrs such as {@code security.capability}; the unpacker takes the raw value from here when its
 * UTF-8 decoding equals what commons-compress reported for the same entry (so a desynchronised tap
 * can never attach a value to the wrong file).
 */
final class PaxXattrTap extends FilterInputStream {
  private final byte[] header = new byte[512];
  private int headerFill;
  private long skip;
  private ByteArrayOutputStream pax;
  private long paxLeft;
  private Long sizeOverride;
  private boolean lost;
  private Map<String, byte[]> pending = new HashMap<>();
  private Map<String, byte[]> current = new HashMap<>();

  PaxXattrTap(InputStream in) {
    super(in);
  }

  /** Raw xattr values of the entry whose header was read last. */
  Map<String, byte[]> current() {
    return current;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n <= 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0 && !lost) {
      feed(b, off, n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
    long done = 0;
    while (done < n) {
      int r = read(buf, 0, (int) Math.min(buf.length, n - done));
      if (r < 0) {
        break;
      }
      done += r;
    }
    return done;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  private void feed(byte[] b, int off, int n) {
    int i = off;
    int end = off + n;
    while (i < end) {
      if (skip > 0) {
        int k = (int) Math.min(skip, end - i);
        if (pax != null && paxLeft > 0) {
          int c = (int) Math.min(paxLeft, k);
          pax.write(b, i, c);
          paxLeft -= c;
        }
        skip -= k;
        i += k;
        if (skip == 0 && pax != null) {
          parsePax(pax.toByteArray());
          pax = null;
        }
        continue;
      }
      int k = Math.min(512 - headerFill, end - i);
      System.arraycopy(b, i, header, headerFill, k);
      headerFill += k;
      i += k;
      if (headerFill == 512) {
        headerFill = 0;
        onHeader();
      }
    }
  }

  private void onHeader() {
    boolean zero = true;
    for (byte x : header) {
      if (x != 0) {
        zero = false;
        break;
      }
    }
    if (zero) {
      return; // end-of-archive blocks
    }
    byte type = header[156];
    long size = size();
    if (size < 0) {
      lost = true;
      return;
    }
    long padded = (size + 511) / 512 * 512;
    switch (type) {
      case 'x' -> {
        if (size > (1 << 20)) {
          lost = true;
          return;
        }
        pax = new ByteArrayOutputStream((int) size);
        paxLeft = size;
        skip = padded;
        if (skip == 0) {
          parsePax(new byte[0]);
          pax = null;
        }
      }
      case 'g', 'L', 'K' -> skip = padded;
      case 'S' -> lost = true; // old GNU sparse headers carry extension blocks: stop tracking
      default -> {
        if (sizeOverride != null) {
          padded = (sizeOverride + 511) / 512 * 512;
          sizeOverride = null;
        }
        if (type == '1'
            || type == '2'
            || type == '3'
            || type == '4'
            || type == '5'
            || type == '6') {
          padded = 0; // links, devices, dirs, fifos carry no data
        }
        current = pending;
        pending = new HashMap<>();
        skip = padded;
      }
    }
  }

  private long size() {
    if ((header[124] & 0x80) != 0) {
      long v = 0;
      for (int i = 125; i < 136; i++) {
        v = (v << 8) | (header[i] & 0xff);
      }
      return v;
    }
    long v = 0;
    for (int i = 124; i < 136; i++) {
      byte c = header[i];
      if (c == 0 || c == ' ') {
        if (v > 0) {
          break;
        }
        continue;
      }
      if (c < '0' || c > '7') {
        return -1;
      }
      v = v * 8 + (c - '0');
    }
    return v;
  }

  private void parsePax(byte[] data) {
    int i = 0;
    while (i < data.length) {
      int sp = i;
      while (sp < data.length && data[sp] != ' ') {
        sp++;
      }
      int len;
      try {
        len = Integer.parseInt(new String(data, i, sp - i, StandardCharsets.US_ASCII));
      } catch (NumberFormatException e) {
        lost = true;
        return;
      }
      int recEnd = i + len;
      if (len <= 0 || recEnd > data.length || sp >= recEnd) {
        lost = true;
        return;
      }
      int eq = sp + 1;
      while (eq < recEnd && data[eq] != '=') {
        eq++;
      }
      String key = new String(data, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
      int valEnd = recEnd - 1; // the record ends with '\n'
      byte[] value = new byte[Math.max(0, valEnd - eq - 1)];
      System.arraycopy(data, eq + 1, value, 0, value.length);
      if (key.startsWith("SCHILY.xattr.")) {
        pending.put(key.substring("SCHILY.xattr.".length()), value);
      } else if (key.equals("size")) {
        try {
          sizeOverride = Long.parseLong(new String(value, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
          lost = true;
        }
      }
      i = recEnd;
    }
  }
}
