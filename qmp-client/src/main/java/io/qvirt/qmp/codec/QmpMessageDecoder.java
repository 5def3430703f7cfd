package io.qvirt.qmp.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.qvirt.qmp.QmpError;
import io.qvirt.qmp.QmpEvent;
import io.qvirt.qmp.QmpGreeting;
import io.qvirt.qmp.QmpMessage;
import io.qvirt.qmp.QmpProtocolException;
import io.qvirt.qmp.QmpReturn;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Turns one framed JSON object (from {@link QmpFrameDecoder}) into a {@link QmpMessage}. Input buffers
 * are always released. Anything that is not valid JSON or not one of QMP's four message shapes fires a
 * {@link QmpProtocolException}, closes the channel and drops later frames. Not sharable.
 */
public final class QmpMessageDecoder extends MessageToMessageDecoder<ByteBuf> {
    /** Jackson's mapper is thread-safe once configured; one for the whole process. */
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private boolean failed;

    public QmpMessageDecoder() {
        super(ByteBuf.class);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        if (failed || Violations.failed(ctx)) {
            return;
        }
        try {
            out.add(parse(frame));
        } catch (QmpProtocolException e) {
            failed = true;
            Violations.report(ctx, e);
        } catch (RuntimeException e) {
            // A shape this decoder did not anticipate is still the peer's fault, and still typed.
            failed = true;
            Violations.report(ctx, new QmpProtocolException("malformed QMP message: " + e, e));
        }
    }

    /**
     * Parses one complete JSON object. Does not release {@code frame}.
     *
     * @throws QmpProtocolException if it is not JSON or not a QMP message
     */
    public static QmpMessage parse(ByteBuf frame) {
        JsonNode node;
        int length = frame.readableBytes();
        try {
            node = MAPPER.readTree(new ByteBufInputStream(frame.duplicate()));
        } catch (JsonProcessingException e) {
            throw new QmpProtocolException("invalid JSON from QMP peer (" + length + " bytes): "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new QmpProtocolException("unreadable QMP message: " + e.getMessage(), e);
        }
        return classify(node);
    }

    /** Maps a parsed JSON value to a QMP message, or throws {@link QmpProtocolException}. */
    public static QmpMessage classify(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new QmpProtocolException("QMP message is not a JSON object");
        }
        JsonNode qmp = node.get("QMP");
        if (qmp != null) {
            return greeting(qmp);
        }
        JsonNode event = node.get("event");
        if (event != null) {
            if (!event.isTextual()) {
                throw new QmpProtocolException("QMP event name is not a string: " + event);
            }
            JsonNode data = node.get("data");
            if (data == null || data.isNull()) {
                data = JsonNodeFactory.instance.objectNode();
            }
            return new QmpEvent(event.textValue(), data, timestamp(node.get("timestamp")));
        }
        JsonNode id = node.get("id");
        JsonNode ret = node.get("return");
        if (ret != null) {
            return new QmpReturn(id, ret);
        }
        JsonNode error = node.get("error");
        if (error != null) {
            if (!error.isObject()) {
                throw new QmpProtocolException("QMP error member is not an object: " + abbreviate(error));
            }
            return new QmpError(id, error.path("class").asText("GenericError"), error.path("desc").asText(""));
        }
        throw new QmpProtocolException("unrecognised QMP message with members " + names(node));
    }

    private static QmpGreeting greeting(JsonNode qmp) {
        if (!qmp.isObject()) {
            throw new QmpProtocolException("QMP greeting member is not an object: " + abbreviate(qmp));
        }
        JsonNode version = qmp.path("version");
        JsonNode qemu = version.path("qemu");
        List<String> caps = new ArrayList<>();
        JsonNode c = qmp.path("capabilities");
        if (c.isArray()) {
            for (JsonNode n : c) {
                caps.add(n.asText());
            }
        } else if (!c.isMissingNode()) {
            throw new QmpProtocolException("QMP greeting capabilities is not an array: " + abbreviate(c));
        }
        return new QmpGreeting(qemu.path("major").asInt(0), qemu.path("minor").asInt(0),
                qemu.path("micro").asInt(0), version.path("package").asText(""), caps);
    }

    private static Instant timestamp(JsonNode ts) {
        if (ts == null || !ts.isObject()) {
            return Instant.EPOCH;
        }
        JsonNode sec = ts.path("seconds");
        JsonNode usec = ts.path("microseconds");
        if (!sec.canConvertToLong() || !usec.canConvertToLong()) {
            return Instant.EPOCH;
        }
        long s = sec.asLong();
        long us = usec.asLong();
        // QEMU uses -1/-1 when it could not read the clock; 1e12 s is far beyond any real clock.
        if (us < 0 || us >= 1_000_000 || s < 0 || s > 1_000_000_000_000L) {
            return Instant.EPOCH;
        }
        return Instant.ofEpochSecond(s, us * 1000);
    }

    private static String names(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext() && names.size() < 8; ) {
            names.add(it.next());
        }
        return names.toString();
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    /** An empty object, for callers building requests. */
    public static ObjectNode emptyObject() {
        return JsonNodeFactory.instance.objectNode();
    }
}
