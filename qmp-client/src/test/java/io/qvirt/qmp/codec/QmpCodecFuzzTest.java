package io.qvirt.qmp.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.qvirt.qmp.QmpException;
import io.qvirt.qmp.QmpMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fixed-seed fuzzing of framing + decoding: valid messages, mutated messages (flips, insertions,
 * deletions, truncation, duplication), random bytes, JSON-ish noise; each fed in random chunks.
 * Holds: nothing but {@link QmpException}s escapes, every buffer the pipeline got or made is released.
 */
class QmpCodecFuzzTest {
    private static final long SEED = 0x51_4D_50_2025L;
    private static final int CASES = 120_000;
    private static final byte[] ALPHABET = "{}[]\"\\:, \r\n\t0123456789abcdefnulltrue-.eE+u\u00e9".getBytes(
            StandardCharsets.UTF_8);

    @Test
    void randomAndMutatedInputsOnlyGiveTypedErrorsAndLeakNothing() {
        Random rnd = new Random(SEED);
        TrackingAllocator alloc = new TrackingAllocator();
        List<byte[]> seeds = new ArrayList<>();
        for (String m : QmpFrameDecoderTest.MESSAGES) {
            seeds.add((m + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        int messages = 0;
        int typedErrors = 0;
        for (int c = 0; c < CASES; c++) {
            byte[] input = generate(rnd, seeds);
            EmbeddedChannel ch = new EmbeddedChannel(new QmpFrameDecoder(rnd.nextBoolean() ? 64 : 4096),
                    new QmpMessageDecoder());
            ch.config().setAllocator(alloc);
            List<ByteBuf> given = new ArrayList<>();
            boolean failed = false;
            int pos = 0;
            try {
                while (pos < input.length && ch.isOpen()) {
                    int n = 1 + rnd.nextInt(Math.min(input.length - pos, 1 + rnd.nextInt(64)));
                    ByteBuf b = alloc.heapBuffer(n);
                    b.writeBytes(input, pos, n);
                    given.add(b);
                    pos += n;
                    ch.writeInbound(b);
                }
                ch.finish();
            } catch (QmpException e) {
                failed = true;
                typedErrors++;
                ch.finishAndReleaseAll();
            } catch (Throwable t) {
                fail("case " + c + " threw an untyped " + t + " for input " + new String(input,
                        StandardCharsets.UTF_8), t);
            }
            Object m;
            while ((m = ch.readInbound()) != null) {
                assertTrue(m instanceof QmpMessage, "decoder output " + m.getClass());
                messages++;
            }
            for (ByteBuf b : given) {
                if (b.refCnt() != 0) {
                    fail("case " + c + " (failed=" + failed + ") left an input buffer unreleased");
                }
            }
            if (c % 10_000 == 9_999) {
                assertEquals(0, alloc.unreleased(), "buffers the pipeline allocated and did not release");
                alloc.reset();
            }
        }
        assertEquals(0, alloc.unreleased());
        // The generator must exercise both paths, or the test proves little.
        assertTrue(messages > 10_000, "decoded messages: " + messages);
        assertTrue(typedErrors > 10_000, "typed errors: " + typedErrors);
    }

    private static byte[] generate(Random rnd, List<byte[]> seeds) {
        switch (rnd.nextInt(5)) {
            case 0: {
                byte[] b = new byte[rnd.nextInt(200)];
                rnd.nextBytes(b);
                return b;
            }
            case 1: {
                byte[] b = new byte[rnd.nextInt(200)];
                for (int i = 0; i < b.length; i++) {
                    b[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                }
                if (b.length > 0) {
                    b[0] = '{';
                }
                return b;
            }
            case 2: {
                // Several valid messages, sometimes with a huge string to cross the frame limit.
                StringBuilder sb = new StringBuilder();
                int k = 1 + rnd.nextInt(4);
                for (int i = 0; i < k; i++) {
                    sb.append(new String(seeds.get(rnd.nextInt(seeds.size() - 1)), StandardCharsets.UTF_8));
                }
                if (rnd.nextInt(10) == 0) {
                    sb.append("{\"return\": \"").append("z".repeat(rnd.nextInt(8000))).append("\"}\r\n");
                }
                return sb.toString().getBytes(StandardCharsets.UTF_8);
            }
            default: {
                byte[] s = seeds.get(rnd.nextInt(seeds.size()));
                List<Byte> b = new ArrayList<>(s.length + 8);
                for (byte x : s) {
                    b.add(x);
                }
                int edits = 1 + rnd.nextInt(4);
                for (int e = 0; e < edits && !b.isEmpty(); e++) {
                    int at = rnd.nextInt(b.size());
                    switch (rnd.nextInt(5)) {
                        case 0 -> b.set(at, (byte) (b.get(at) ^ (1 << rnd.nextInt(8))));
                        case 1 -> b.add(at, ALPHABET[rnd.nextInt(ALPHABET.length)]);
                        case 2 -> b.remove(at);
                        case 3 -> b.subList(at, b.size()).clear();
                        default -> b.addAll(at, b.subList(0, Math.min(at, 20)));
                    }
                }
                byte[] out = new byte[b.size()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.get(i);
                }
                return out;
            }
        }
    }
}
