package io.qvirt.handler.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire format, decoded from bytes fed one at a time (every split a TCP read can make). */
class MigrationProxyCodecTest {
    private static final String UID = "1b2c3d4e-5f60-4718-9a0b-c1d2e3f40516";

    /** Feeds {@code bytes} one by one; returns every message that came out, in order. */
    private static List<Object> feedByteByByte(EmbeddedChannel ch, byte[] bytes) {
        List<Object> out = new ArrayList<>();
        for (byte b : bytes) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            Object m;
            while ((m = ch.readInbound()) != null) {
                out.add(m);
            }
        }
        return out;
    }

    @Test
    void headerLineThenRawBytesPassOnAsTheyCame() {
        EmbeddedChannel ch = new EmbeddedChannel(new LineDecoder(ProxyHeader.MAX_LINE, "header line", true));
        byte[] header = new ProxyHeader(UID, ProxyHeader.Kind.STREAM).encode();
        byte[] raw = "QEVM\n\0\1binary\nmore".getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[header.length + raw.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(raw, 0, all, header.length, raw.length);
        List<Object> out = feedByteByByte(ch, all);
        assertEquals("QVIRT-MIGRATION/1 " + UID + " stream", out.get(0));
        assertEquals(new ProxyHeader(UID, ProxyHeader.Kind.STREAM), ProxyHeader.parse((String) out.get(0)));
        StringBuilder rest = new StringBuilder();
        for (Object o : out.subList(1, out.size())) {
            ByteBuf b = assertInstanceOf(ByteBuf.class, o, "after the header: raw bytes, not lines");
            rest.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        assertEquals(new String(raw, StandardCharsets.ISO_8859_1), rest.toString(), "the relay's bytes untouched");
        assertNull(ch.pipeline().get(LineDecoder.class), "the header decoder left");
        assertFalse(ch.finish());
    }

    @Test
    void headerOverTheCapIsRefusedWithoutItsNewline() {
        EmbeddedChannel ch = new EmbeddedChannel(new LineDecoder(ProxyHeader.MAX_LINE, "header line", true));
        byte[] junk = "Q".repeat(ProxyHeader.MAX_LINE - 1).getBytes(StandardCharsets.US_ASCII);
        assertTrue(feedByteByByte(ch, junk).isEmpty(), "255 bytes without a newline: still waiting");
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {'Q'})));
        ProxyProtocolException p = assertInstanceOf(ProxyProtocolException.class, e.getCause());
        assertEquals("header line longer than 256 bytes (the cap, newline included)", p.getMessage());
        ch.finishAndReleaseAll();
    }

    @Test
    void aHeaderOfExactlyTheCapIsTaken() {
        // 255 characters and the newline: the largest header line there is.
        String uid = "a".repeat(64);
        String line = "QVIRT-MIGRATION/1 " + uid + " control";
        String padded = line + " ".repeat(0);
        EmbeddedChannel ch = new EmbeddedChannel(new LineDecoder(padded.length() + 1, "header line", true));
        List<Object> out = feedByteByByte(ch, (padded + "\n").getBytes(StandardCharsets.US_ASCII));
        assertEquals(List.of(line), out);
        assertEquals(ProxyHeader.Kind.CONTROL, ProxyHeader.parse(line).kind());
        ch.finishAndReleaseAll();
    }

    @Test
    void badHeadersSayWhatIsWrong() {
        assertTrue(assertThrows(ProxyProtocolException.class, () -> ProxyHeader.parse("GET / HTTP/1.1"))
                .getMessage().startsWith("bad header: expected \"QVIRT-MIGRATION/1 <migrationUid> stream|nbd|control\""));
        assertTrue(assertThrows(ProxyProtocolException.class, () -> ProxyHeader.parse("QVIRT-MIGRATION/1 ../x stream"))
                .getMessage().contains("migration uid"));
        assertTrue(assertThrows(ProxyProtocolException.class, () -> ProxyHeader.parse("QVIRT-MIGRATION/1 " + UID + " ssh"))
                .getMessage().contains("stream, nbd or control"));
        assertThrows(ProxyProtocolException.class, () -> ProxyHeader.parse("QVIRT-MIGRATION/2 " + UID + " stream"));
        assertThrows(ProxyProtocolException.class, () -> ProxyHeader.parse("QVIRT-MIGRATION/1 " + UID + " stream "));
        assertThrows(IllegalArgumentException.class, () -> ProxyHeader.requireUid("-x", "migrationUid"));
        assertThrows(IllegalArgumentException.class, () -> ProxyHeader.requireUid("a".repeat(65), "migrationUid"));
    }

    @Test
    void controlMessagesDecodeByteByByte() {
        EmbeddedChannel ch = new EmbeddedChannel(new LineDecoder(ControlMessage.MAX_LINE, "control message", false),
                new ControlMessageDecoder());
        String lines = "{\"id\":1,\"op\":\"prepare\",\"capabilities\":{\"events\":true,\"multifd\":false},"
                + "\"multifdChannels\":0,\"copyNodes\":[\"disk0-fmt\"]}\n"
                + "{\"id\":1,\"ok\":true,\"result\":null}\n"
                + "{\"id\":2,\"ok\":true,\"result\":\"inmigrate\"}\n"
                + "{\"id\":3,\"error\":\"cont on the target: QEMU said no\"}\n"
                + "{\"event\":\"MIGRATION\",\"status\":\"active\"}\n"
                + "{\"id\":4,\"op\":\"finish\",\"succeeded\":true}\n";
        List<Object> out = feedByteByByte(ch, lines.getBytes(StandardCharsets.UTF_8));
        assertEquals(6, out.size(), out.toString());
        ControlMessage.Request prepare = assertInstanceOf(ControlMessage.Request.class, out.get(0));
        assertEquals(1, prepare.id());
        assertEquals("prepare", prepare.op());
        assertTrue(prepare.body().path("capabilities").path("events").asBoolean());
        assertEquals("disk0-fmt", prepare.body().path("copyNodes").get(0).asText());
        ControlMessage.Reply ok = assertInstanceOf(ControlMessage.Reply.class, out.get(1));
        assertNull(ok.error());
        assertEquals("inmigrate", ((ControlMessage.Reply) out.get(2)).result().asText());
        assertEquals("cont on the target: QEMU said no", ((ControlMessage.Reply) out.get(3)).error());
        assertEquals(new ControlMessage.Event("MIGRATION", "active"), out.get(4));
        ControlMessage.Request finish = assertInstanceOf(ControlMessage.Request.class, out.get(5));
        assertTrue(finish.body().path("succeeded").asBoolean());
        assertFalse(ch.finish());
    }

    @Test
    void controlMessagesRoundTripThroughTheEncoder() {
        EmbeddedChannel enc = new EmbeddedChannel(new ControlMessageEncoder());
        EmbeddedChannel dec = new EmbeddedChannel(new LineDecoder(ControlMessage.MAX_LINE, "control message", false),
                new ControlMessageDecoder());
        ControlMessage.Request req = new ControlMessage.Request(7, "status", ControlMessage.JSON.createObjectNode());
        List<ControlMessage> sent = List.of(req, ControlMessage.Reply.ok(7, null),
                ControlMessage.Reply.failed(8, "line\nbreak \"quoted\""), new ControlMessage.Event("MIGRATION", "completed"));
        for (ControlMessage m : sent) {
            assertTrue(enc.writeOutbound(m));
            ByteBuf b = enc.readOutbound();
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            assertEquals('\n', bytes[bytes.length - 1]);
            List<Object> got = feedByteByByte(dec, bytes);
            assertEquals(1, got.size(), "one line per message, a newline in a string escaped");
            assertEquals(m.toJson(), ((ControlMessage) got.get(0)).toJson());
        }
        enc.finishAndReleaseAll();
        dec.finishAndReleaseAll();
    }

    @Test
    void controlLineOverTheCapIsRefusedBeforeItEnds() {
        EmbeddedChannel ch = new EmbeddedChannel(new LineDecoder(ControlMessage.MAX_LINE, "control message", false),
                new ControlMessageDecoder());
        ByteBuf big = Unpooled.buffer();
        big.writeBytes("{\"id\":1,\"op\":\"prepare\",\"copyNodes\":[\"".getBytes(StandardCharsets.US_ASCII));
        while (big.readableBytes() < ControlMessage.MAX_LINE - 1) {
            big.writeByte('x');
        }
        assertTrue(feedByteByByte(ch, copy(big)).isEmpty(), "64 KiB less one byte: waiting");
        big.release();
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {'x'})));
        assertEquals("control message longer than 65536 bytes (the cap, newline included)", e.getCause().getMessage());
        ch.finishAndReleaseAll();
    }

    @Test
    void anOutgoingMessageOverTheCapFailsItsWrite() {
        EmbeddedChannel enc = new EmbeddedChannel(new ControlMessageEncoder());
        var body = ControlMessage.JSON.createObjectNode();
        body.put("pad", "y".repeat(ControlMessage.MAX_LINE));
        var f = enc.writeOneOutbound(new ControlMessage.Request(1, "prepare", body));
        enc.flushOutbound();
        assertFalse(f.isSuccess());
        assertInstanceOf(ProxyProtocolException.class, f.cause().getCause() != null ? f.cause().getCause() : f.cause());
        enc.finishAndReleaseAll();
    }

    @Test
    void notJsonOrNoKnownShapeIsAProtocolError() {
        assertTrue(assertThrows(ProxyProtocolException.class, () -> ControlMessage.parse("hello"))
                .getMessage().startsWith("control message is not JSON"));
        assertEquals("control message is not a JSON object",
                assertThrows(ProxyProtocolException.class, () -> ControlMessage.parse("[1]")).getMessage());
        assertTrue(assertThrows(ProxyProtocolException.class, () -> ControlMessage.parse("{\"id\":\"x\",\"op\":\"cont\"}"))
                .getMessage().contains("id must be an integer"));
        assertTrue(assertThrows(ProxyProtocolException.class, () -> ControlMessage.parse("{\"id\":3}"))
                .getMessage().contains("neither a request"));
    }

    private static byte[] copy(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), out);
        return out;
    }
}
