package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Tar entries as image layers write them: ustar, pax path/size, GNU long names; and the progress line. */
class TarReaderTest {
    @Test
    void paxAndGnuLongNamesAndUstarPrefix() throws IOException {
        String longName = "disk/" + "d".repeat(150) + ".img";
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        String rec = " path=" + longName + "\n";
        int len = rec.length() + 3;
        byte[] pax = (len + rec).getBytes(StandardCharsets.UTF_8);
        entry(tar, "PaxHeaders/x", 'x', pax, null);
        entry(tar, "short", '0', "A".getBytes(StandardCharsets.UTF_8), null);
        entry(tar, "././@LongLink", 'L', ("boot/" + "k".repeat(120) + "\0").getBytes(StandardCharsets.UTF_8), null);
        entry(tar, "trunc", '0', "BB".getBytes(StandardCharsets.UTF_8), null);
        entry(tar, "vmlinuz", '0', "CCC".getBytes(StandardCharsets.UTF_8), "boot");
        entry(tar, "dir/", '5', new byte[0], null);
        tar.write(new byte[1024]);
        TarReader r = new TarReader(new ByteArrayInputStream(tar.toByteArray()));
        TarReader.Entry e = r.next();
        assertEquals(longName, e.path());
        assertEquals("A", new String(e.content().readAllBytes(), StandardCharsets.UTF_8));
        e = r.next();
        assertEquals("boot/" + "k".repeat(120), e.path());
        // Content left unread is skipped by next().
        e = r.next();
        assertEquals("boot/vmlinuz", e.path());
        assertEquals(3, e.size());
        e = r.next();
        assertEquals("dir", e.path());
        assertEquals('5', e.type());
        assertNull(r.next());
    }

    @Test
    void notATarIsRefused() {
        byte[] junk = new byte[1024];
        junk[0] = 'x';
        IOException e = assertThrows(IOException.class, () -> new TarReader(new ByteArrayInputStream(junk)).next());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void progressLineShowsBytesTotalAndRate() {
        StringWriter w = new StringWriter();
        TerminalProgress p = new TerminalProgress(new PrintWriter(w));
        p.begin("reg/x:1", 2_000_000);
        Descriptor d = new Descriptor("t", "sha256:" + "a".repeat(64), 2_000_000);
        p.bytes(d, 2_000_000);
        p.end();
        assertTrue(w.toString().matches("(?s)\rpulling reg/x:1: 2\\.0 / 2\\.0 MB, [0-9.]+ MB/s +\r\033\\[K"), w.toString());
    }

    private static void entry(ByteArrayOutputStream out, String name, char type, byte[] data, String prefix) throws IOException {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 124, String.format("%011o", data.length));
        h[156] = (byte) type;
        put(h, 257, "ustar");
        h[263] = '0';
        h[264] = '0';
        if (prefix != null) {
            put(h, 345, prefix);
        }
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        out.write(h);
        out.write(data);
        out.write(new byte[(512 - data.length % 512) % 512]);
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, b.length);
    }
}
