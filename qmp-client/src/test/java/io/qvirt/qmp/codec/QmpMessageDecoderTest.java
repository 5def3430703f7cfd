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
import io.qvirt.qmp.QmpError;
import io.qvirt.qmp.QmpEvent;
import io.qvirt.qmp.QmpGreeting;
import io.qvirt.qmp.QmpMessage;
import io.qvirt.qmp.QmpProtocolException;
import io.qvirt.qmp.QmpReturn;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QmpMessageDecoderTest {
    private static EmbeddedChannel pipeline() {
        return new EmbeddedChannel(new QmpFrameDecoder(1 << 20), new QmpMessageDecoder());
    }

    private static List<QmpMessage> decodeAll(String text) {
        EmbeddedChannel ch = pipeline();
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        List<QmpMessage> out = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            out.add((QmpMessage) m);
        }
        assertFalse(ch.finish());
        return out;
    }

    @Test
    void decodesEveryQmpSampleInOrder() {
        List<String> qmp = QmpFrameDecoderTest.MESSAGES.subList(0, QmpFrameDecoderTest.MESSAGES.size() - 1);
        List<QmpMessage> ms = decodeAll(String.join("\r\n", qmp) + "\r\n");
        assertEquals(qmp.size(), ms.size());
        assertInstanceOf(QmpGreeting.class, ms.get(0));
        assertInstanceOf(QmpReturn.class, ms.get(1));
        assertInstanceOf(QmpError.class, ms.get(3));
        assertInstanceOf(QmpEvent.class, ms.get(4));
        for (int i = 5; i < ms.size(); i++) {
            assertEquals(i - 1, ((QmpReturn) ms.get(i)).id().asInt());
        }
    }

    @Test
    void greeting() {
        QmpGreeting g = (QmpGreeting) decodeAll(QmpFrameDecoderTest.MESSAGES.get(0)).get(0);
        assertEquals(7, g.major());
        assertEquals(2, g.minor());
        assertEquals(0, g.micro());
        assertEquals("Debian 1:7.2+dfsg-7", g.packageName());
        assertEquals(List.of("oob"), g.capabilities());
        assertTrue(g.offers("oob"));
        assertEquals("7.2.0", g.version());
    }

    @Test
    void returnErrorEvent() {
        QmpReturn r = (QmpReturn) decodeAll(QmpFrameDecoderTest.MESSAGES.get(2)).get(0);
        assertEquals(2, r.id().asInt());
        assertEquals("prelaunch", r.value().get("status").asText());

        QmpError e = (QmpError) decodeAll(QmpFrameDecoderTest.MESSAGES.get(3)).get(0);
        assertEquals(3, e.id().asInt());
        assertEquals("CommandNotFound", e.errorClass());
        assertTrue(e.description().contains("nope"));

        QmpEvent ev = (QmpEvent) decodeAll(QmpFrameDecoderTest.MESSAGES.get(4)).get(0);
        assertEquals("STOP", ev.name());
        assertTrue(ev.data().isObject() && ev.data().isEmpty());
        assertEquals(Instant.ofEpochSecond(1700000000, 123456000), ev.timestamp());
    }

    @Test
    void stringsKeepBracesQuotesAndUnicode() {
        QmpReturn r = (QmpReturn) decodeAll(QmpFrameDecoderTest.MESSAGES.get(6)).get(0);
        assertEquals("escaped \" quote and \\ backslash \\\" then } brace", r.value().asText());
        QmpReturn u = (QmpReturn) decodeAll(QmpFrameDecoderTest.MESSAGES.get(7)).get(0);
        assertEquals("unicode h\u00e9 \u4e2d\u6587 \ud83d\ude00 \u00e9 \ud83d\ude00 }", u.value().asText());
    }

    @Test
    void replyWithoutIdKeepsNullId() {
        QmpError e = (QmpError) decodeAll("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}").get(0);
        assertNull(e.id());
    }

    @Test
    void invalidJsonIsATypedErrorAndReleasesTheFrame() {
        EmbeddedChannel ch = pipeline();
        ByteBuf in = Unpooled.copiedBuffer("{\"return\": tru}\r\n{\"return\": {}}", StandardCharsets.UTF_8);
        QmpProtocolException e = assertThrows(QmpProtocolException.class, () -> ch.writeInbound(in));
        assertTrue(e.getMessage().contains("invalid JSON"), e.getMessage());
        assertNull(ch.readInbound(), "frames after a violation are dropped");
        assertFalse(ch.isOpen());
        assertEquals(0, in.refCnt());
    }

    @Test
    void unknownShapeIsATypedError() {
        EmbeddedChannel ch = pipeline();
        QmpProtocolException e = assertThrows(QmpProtocolException.class,
                () -> ch.writeInbound(Unpooled.copiedBuffer("{\"hello\": 1}", StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("hello"), e.getMessage());
    }

    @Test
    void badlyTypedMembersAreTypedErrors() {
        for (String bad : List.of("{\"event\": 5}", "{\"error\": \"x\"}", "{\"QMP\": 1}",
                "{\"QMP\": {\"capabilities\": \"oob\"}}")) {
            EmbeddedChannel ch = pipeline();
            assertInstanceOf(QmpProtocolException.class, assertThrows(RuntimeException.class,
                    () -> ch.writeInbound(Unpooled.copiedBuffer(bad, StandardCharsets.UTF_8))), bad);
        }
    }
}
