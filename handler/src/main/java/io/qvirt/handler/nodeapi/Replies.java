package io.qvirt.handler.nodeapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** The node API's HTTP answers: empty successes, Kubernetes Status failures, plain text. */
final class Replies {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A message longer than this is cut: a refusal is a line for a human, not a dump. */
    private static final int MAX_MESSAGE = 1024;

    private Replies() {
    }

    /** {@code code} with no body. */
    static FullHttpResponse empty(int code) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code), Unpooled.EMPTY_BUFFER);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        return r;
    }

    /** {@code code} with a plain-text body. */
    static FullHttpResponse text(int code, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code), Unpooled.wrappedBuffer(b));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
        return r;
    }

    /**
     * A failure: {@code code} with a {@code Status} body, as Kubernetes and KubeVirt answer.
     *
     * @param code 400..599; anything else is answered as 500 (a refusal must not read as a success)
     */
    static FullHttpResponse failure(int code, String message) {
        int c = code >= 400 && code <= 599 ? code : 500;
        String m = message == null || message.isBlank() ? HttpResponseStatus.valueOf(c).reasonPhrase() : message;
        if (m.length() > MAX_MESSAGE) {
            m = m.substring(0, MAX_MESSAGE) + "...";
        }
        byte[] b;
        try {
            b = JSON.writeValueAsBytes(KubeStatus.failure(c, m));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a Status record always serializes", e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(c), Unpooled.wrappedBuffer(b));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
        return r;
    }

    /** An unexpected exception as one line: its type and first message line, never a stack trace. */
    static String oneLine(Throwable t) {
        String msg = t.getMessage();
        String first = msg == null ? "" : msg.strip().lines().findFirst().orElse("");
        return t.getClass().getSimpleName() + (first.isEmpty() ? "" : ": " + first);
    }
}
