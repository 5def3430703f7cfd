package io.qvirt.qmp.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.qvirt.qmp.QmpFrameTooLargeException;
import io.qvirt.qmp.QmpProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QmpFrameDecoderTest {
    /** Real QEMU output shapes plus the awkward cases: braces and quotes inside strings, unicode. */
    static final List<String> MESSAGES = List.of(
            "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": "
                    + "\"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}",
            "{\"return\": {}, \"id\": 1}",
            "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}, \"id\": 2}",
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}, \"id\": 3}",
            "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, \"event\": \"STOP\"}",
            "{\"return\": \"text with } and { and {{}} braces\", \"id\": 4}",
            "{\"return\": \"escaped \\\" quote and \\\\ backslash \\\\\\\" then } brace\", \"id\": 5}",
            "{\"return\": \"unicode h\u00e9 \u4e2d\u6587 \ud83d\ude00 \\u00e9 \\ud83d\\ude00 }\", \"id\": 6}",
            "{\"return\": [{\"a\": [1, {\"b\": \"}\"}]}, {}], \"id\": 7}",
            "{}");

    private static EmbeddedChannel channel(int max) {
        return new EmbeddedChannel(new QmpFrameDecoder(max));
    }

    private static List<String> drain(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        ByteBuf b;
        while ((b = ch.readInbound()) != null) {
            out.add(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return out;
    }

    private static ByteBuf buf(byte[] bytes, int from, int to) {
        return Unpooled.copiedBuffer(bytes, from, to - from);
    }

    @Test
    void everyMessageFedOneByteAtATime() {
        for (String m : MESSAGES) {
            byte[] bytes = (m + "\r\n").getBytes(StandardCharsets.UTF_8);
            EmbeddedChannel ch = channel(1 << 20);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < bytes.length; i++) {
                ch.writeInbound(buf(bytes, i, i + 1));
                out.addAll(drain(ch));
                if (i < bytes.length - 3) {
                    assertTrue(out.isEmpty(), "frame emitted early at byte " + i + " of " + m);
                }
            }
            assertEquals(List.of(m), out);
            assertFalse(ch.finish());
        }
    }

    @Test
    void everyMessageSplitAtEveryOffset() {
        for (String m : MESSAGES) {
            byte[] bytes = (m + "\r\n").getBytes(StandardCharsets.UTF_8);
            for (int cut = 0; cut <= bytes.length; cut++) {
                EmbeddedChannel ch = channel(1 << 20);
                ch.writeInbound(buf(bytes, 0, cut));
                ch.writeInbound(buf(bytes, cut, bytes.length));
                assertEquals(List.of(m), drain(ch), "cut at " + cut);
                assertFalse(ch.finish());
            }
        }
    }

    @Test
    void severalObjectsInOneRead() {
        String all = String.join("\r\n", MESSAGES) + "\r\n";
        EmbeddedChannel ch = channel(1 << 20);
        ch.writeInbound(Unpooled.copiedBuffer(all, StandardCharsets.UTF_8));
        assertEquals(MESSAGES, drain(ch));
        assertFalse(ch.finish());
    }

    @Test
    void objectsBackToBackWithoutSeparatorsAndWithMixedWhitespace() {
        String all = String.join("", MESSAGES) + " \t\n\r\n" + MESSAGES.get(1) + "\n";
        EmbeddedChannel ch = channel(1 << 20);
        ch.writeInbound(Unpooled.copiedBuffer(all, StandardCharsets.UTF_8));
        List<String> expected = new ArrayList<>(MESSAGES);
        expected.add(MESSAGES.get(1));
        assertEquals(expected, drain(ch));
        assertFalse(ch.finish());
    }

    @Test
    void garbageBetweenObjectsIsATypedErrorAndClosesTheChannel() {
        EmbeddedChannel ch = channel(1 << 20);
        ByteBuf in = Unpooled.copiedBuffer("{\"return\": {}, \"id\": 1}\r\nHTTP/1.1 400\r\n", StandardCharsets.UTF_8);
        QmpProtocolException e = assertThrows(QmpProtocolException.class, () -> ch.writeInbound(in));
        assertTrue(e.getMessage().contains("0x48"), e.getMessage());
        assertEquals(List.of("{\"return\": {}, \"id\": 1}"), drain(ch));
        assertFalse(ch.isOpen());
        assertEquals(0, in.refCnt());
    }

    @Test
    void frameOverTheLimitIsTypedWithTheLimit() {
        EmbeddedChannel ch = channel(100);
        String big = "{\"return\": \"" + "x".repeat(200) + "\", \"id\": 1}";
        ByteBuf in = Unpooled.copiedBuffer(big, StandardCharsets.UTF_8);
        QmpFrameTooLargeException e = assertThrows(QmpFrameTooLargeException.class, () -> ch.writeInbound(in));
        assertEquals(100, e.limit());
        assertFalse(ch.isOpen());
        assertTrue(drain(ch).isEmpty());
        assertEquals(0, in.refCnt());
    }

    @Test
    void frameOverTheLimitArrivingSlowlyIsDetectedWithoutWaitingForTheEnd() {
        EmbeddedChannel ch = channel(100);
        ch.writeInbound(Unpooled.copiedBuffer("{\"return\": \"", StandardCharsets.UTF_8));
        QmpFrameTooLargeException e = null;
        for (int i = 0; i < 20 && e == null; i++) {
            try {
                ch.writeInbound(Unpooled.copiedBuffer("x".repeat(10), StandardCharsets.UTF_8));
            } catch (QmpFrameTooLargeException ex) {
                e = ex;
            }
        }
        assertInstanceOf(QmpFrameTooLargeException.class, e);
        assertFalse(ch.isOpen());
    }

    @Test
    void frameExactlyAtTheLimitPasses() {
        String m = "{\"return\": \"" + "y".repeat(50) + "\"}";
        EmbeddedChannel ch = channel(m.length());
        ch.writeInbound(Unpooled.copiedBuffer(m + "\r\n", StandardCharsets.UTF_8));
        assertEquals(List.of(m), drain(ch));
        assertFalse(ch.finish());
    }

    @Test
    void streamEndingMidObjectIsTruncatedJson() {
        EmbeddedChannel ch = channel(1 << 20);
        ch.writeInbound(Unpooled.copiedBuffer("{\"return\": {\"status\": \"runn", StandardCharsets.UTF_8));
        QmpProtocolException e = assertThrows(QmpProtocolException.class, ch::finish);
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertNull(ch.readInbound());
    }

    @Test
    void streamEndingInWhitespaceIsClean() {
        EmbeddedChannel ch = channel(1 << 20);
        ch.writeInbound(Unpooled.copiedBuffer("{}\r\n  \r\n", StandardCharsets.UTF_8));
        assertEquals(List.of("{}"), drain(ch));
        assertFalse(ch.finish());
    }
}
