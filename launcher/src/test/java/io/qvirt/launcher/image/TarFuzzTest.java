package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.image.FakeRegistryPeer.TarEntry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Mutated tar archives (header bytes flipped, size, type, checksum and pax fields scrambled, truncations):
 * the reader ends every one with an entry list or an {@link IOException}, never another exception or a hang.
 */
class TarFuzzTest {
    static final int INPUTS = Integer.getInteger("qvirt.tarfuzz.inputs", 20_000);

    @Test
    void mutatedArchivesEndCleanly() throws Exception {
        String pax = " path=disk/" + "p".repeat(120) + ".img\n";
        byte[] paxRecord = ((pax.length() + 3) + pax).getBytes(StandardCharsets.UTF_8);
        byte[] seed = gunzip(FakeRegistryPeer.layerOf(List.of(
                new TarEntry("PaxHeaders/x", 'x', "", paxRecord),
                TarEntry.file("disk/disk.img", new byte[700]),
                TarEntry.symlink("boot/vmlinuz", "../usr/lib/vmlinuz"),
                TarEntry.hardlink("boot/initrd", "disk/disk.img"),
                new TarEntry("././@LongLink", 'L', "", ("boot/" + "k".repeat(120) + "\0").getBytes(StandardCharsets.UTF_8)),
                TarEntry.file("x", "abc".getBytes(StandardCharsets.UTF_8)),
                new TarEntry("dir/", '5', "", new byte[0]))));
        Random r = new Random(22);
        int ended = 0;
        int refused = 0;
        long slowest = 0;
        for (int i = 0; i < INPUTS; i++) {
            byte[] t = seed.clone();
            int n = 1 + r.nextInt(6);
            for (int k = 0; k < n; k++) {
                int block = r.nextInt(t.length / 512) * 512;
                switch (r.nextInt(5)) {
                    case 0 -> t[block + r.nextInt(512)] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> t[block + 124 + r.nextInt(12)] = (byte) "0123456789\u0080\u00ff 7x".charAt(r.nextInt(14));
                    case 2 -> t[block + 156] = (byte) "012567xLKgA\0".charAt(r.nextInt(12));
                    case 3 -> t[block + r.nextInt(512)] = (byte) r.nextInt(256);
                    default -> t = java.util.Arrays.copyOf(t, r.nextInt(t.length));
                }
                if (t.length < 512) {
                    break;
                }
            }
            fixChecksums(t, r);
            long t0 = System.nanoTime();
            try {
                TarReader tar = new TarReader(new ByteArrayInputStream(t));
                TarReader.Entry e;
                int entries = 0;
                while ((e = tar.next()) != null && entries++ < 100) {
                    e.content().transferTo(OutputStream.nullOutputStream());
                    ImageStore.climbs("", e.path());
                }
                ended++;
            } catch (IOException e) {
                refused++;
            }
            slowest = Math.max(slowest, System.nanoTime() - t0);
        }
        System.out.printf("tar fuzz: %d archives: %d read, %d refused; slowest %.1f ms%n", INPUTS, ended, refused,
                slowest / 1e6);
        assertTrue(ended > INPUTS / 20 && refused > INPUTS / 20, ended + " read, " + refused + " refused");
        assertTrue(slowest < 2_000_000_000L, "slowest " + slowest / 1e6 + " ms");
    }

    /** Most mutations would only fail the checksum: recompute it for most, so the fields behind it are reached. */
    private static void fixChecksums(byte[] t, Random r) {
        for (int off = 0; off + 512 <= t.length; off += 512) {
            if (r.nextInt(10) == 0) {
                continue;
            }
            long sum = 0;
            for (int i = 0; i < 512; i++) {
                sum += (i >= 148 && i < 156) ? ' ' : (t[off + i] & 0xff);
            }
            if (sum == 8 * ' ') {
                continue; // an all-zero block stays the end marker
            }
            byte[] s = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
            if (s.length == 6) {
                System.arraycopy(s, 0, t, off + 148, 6);
                t[off + 154] = 0;
                t[off + 155] = ' ';
            }
        }
    }

    private static byte[] gunzip(byte[] gz) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }
}
