package io.qvirt.launcher.image;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a tar stream (POSIX ustar, pax extended headers, GNU long names), entry by entry, as image layers
 * are written. Only what extracting files needs: path, type, size, link target, content.
 */
final class TarReader {
    /**
     * One entry; {@link #content()} is valid until the next {@link TarReader#next()}.
     *
     * @param path    normalized ({@link #normalize})
     * @param rawPath as the archive writes it, for messages
     */
    record Entry(String path, char type, long size, String linkTarget, InputStream content, String rawPath) {
        Entry(String path, char type, long size, String linkTarget, InputStream content) {
            this(path, type, size, linkTarget, content, path);
        }

        boolean isFile() {
            return type == '0' || type == '\0' || type == '7';
        }
    }

    private final InputStream in;
    private long remaining;
    private long padding;

    TarReader(InputStream in) {
        this.in = in;
    }

    /**
     * The next entry (the previous one's unread content is skipped), or null at the end.
     *
     * @throws IOException on a truncated or malformed archive
     */
    Entry next() throws IOException {
        skip(remaining + padding);
        remaining = 0;
        padding = 0;
        String longName = null;
        String longLink = null;
        String paxPath = null;
        String paxLink = null;
        Long paxSize = null;
        byte[] h = new byte[512];
        while (true) {
            if (in.readNBytes(h, 0, 512) < 512) {
                // Some writers end without the two zero blocks; a clean end at a header boundary is the end.
                return null;
            }
            if (allZero(h)) {
                return null;
            }
            checksum(h);
            char type = (char) h[156];
            long size = number(h, 124, 12);
            if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
                if (size < 0 || size > (1 << 20)) {
                    throw new IOException("tar: extended header of " + size + " bytes");
                }
                byte[] data = in.readNBytes((int) size);
                if (data.length < size) {
                    throw new EOFException("tar: truncated extended header");
                }
                skip(pad(size));
                if (type == 'L') {
                    longName = cString(data, 0, data.length);
                } else if (type == 'K') {
                    longLink = cString(data, 0, data.length);
                } else if (type == 'x') {
                    String[] kv = pax(data);
                    paxPath = kv[0] != null ? kv[0] : paxPath;
                    paxLink = kv[1] != null ? kv[1] : paxLink;
                    if (kv[2] != null && !kv[2].matches("[0-9]{1,18}")) {
                        throw new IOException("tar: bad pax size '" + kv[2] + "'");
                    }
                    paxSize = kv[2] != null ? Long.valueOf(kv[2]) : paxSize;
                }
                continue;
            }
            String name = cString(h, 0, 100);
            if (h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r') {
                String prefix = cString(h, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
            }
            if (longName != null) {
                name = longName;
            }
            if (paxPath != null) {
                name = paxPath;
            }
            String link = paxLink != null ? paxLink : longLink != null ? longLink : cString(h, 157, 100);
            if (paxSize != null) {
                size = paxSize;
            }
            boolean hasData = type == '0' || type == '\0' || type == '7';
            remaining = hasData ? size : 0;
            padding = hasData ? pad(size) : 0;
            if (!hasData && type != '5' && type != '1' && type != '2' && size > 0) {
                // Other types (devices, fifos) carry no data, but skip whatever is declared.
                remaining = size;
                padding = pad(size);
            }
            if (size < 0) {
                throw new IOException("tar: entry '" + name + "' has a negative size");
            }
            return new Entry(normalize(name), type, hasData ? size : 0, link, new EntryStream(), name);
        }
    }

    /** {@code ./disk/x} and {@code /disk/x} are {@code disk/x}. */
    static String normalize(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        while (n.startsWith("/")) {
            n = n.substring(1);
        }
        while (n.endsWith("/")) {
            n = n.substring(0, n.length() - 1);
        }
        return n;
    }

    private final class EntryStream extends InputStream {
        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = in.read();
            if (b < 0) {
                throw new EOFException("tar: truncated entry");
            }
            remaining--;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int k = in.read(b, off, (int) Math.min(len, remaining));
            if (k < 0) {
                throw new EOFException("tar: truncated entry");
            }
            remaining -= k;
            return k;
        }
    }

    private void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            long k = in.skip(left);
            if (k <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("tar: truncated archive");
                }
                k = 1;
            }
            left -= k;
        }
    }

    private static long pad(long size) {
        return (512 - size % 512) % 512;
    }

    private static boolean allZero(byte[] h) {
        for (byte b : h) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static void checksum(byte[] h) throws IOException {
        long want = number(h, 148, 8);
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
        }
        if (sum != want) {
            throw new IOException("tar: header checksum mismatch (not a tar archive?)");
        }
    }

    /** An octal field, or a base-256 one (high bit set) as GNU tar writes large sizes. */
    private static long number(byte[] h, int off, int len) throws IOException {
        if ((h[off] & 0x80) != 0) {
            long v = h[off] & 0x7f;
            for (int i = 1; i < len; i++) {
                v = (v << 8) | (h[off + i] & 0xff);
            }
            return v;
        }
        String s = cString(h, off, len).trim();
        if (s.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new IOException("tar: bad number field '" + s + "'");
        }
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** path, linkpath and size from pax records {@code "<len> key=value\n"}. */
    private static String[] pax(byte[] data) throws IOException {
        String[] out = new String[3];
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
                throw new IOException("tar: bad pax record");
            }
            if (len <= 0 || i + len > data.length || sp + 1 > i + len - 1) {
                throw new IOException("tar: bad pax record length");
            }
            String rec = new String(data, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq > 0) {
                String k = rec.substring(0, eq);
                String v = rec.substring(eq + 1);
                switch (k) {
                    case "path" -> out[0] = v;
                    case "linkpath" -> out[1] = v;
                    case "size" -> out[2] = v;
                    default -> {
                    }
                }
            }
            i += len;
        }
        return out;
    }
}
