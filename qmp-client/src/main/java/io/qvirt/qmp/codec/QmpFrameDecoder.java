package io.qvirt.qmp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.qvirt.qmp.QmpFrameTooLargeException;
import io.qvirt.qmp.QmpProtocolException;
import java.util.List;

/**
 * Splits a QMP byte stream into top-level JSON objects, emitting each as a retained slice.
 *
 * <p>QEMU ends each message with CRLF, but nothing in the protocol requires line breaks, so this
 * tracks brace depth and string/escape state instead of looking for newlines. Whitespace between
 * objects is skipped. Scanning resumes where the previous read stopped, so a large message arriving in
 * many reads costs linear time.
 *
 * <p>On a protocol violation (a byte other than whitespace or '{' between objects, a frame over the
 * limit, bytes left when the stream ends) the decoder fires a typed {@link QmpProtocolException}
 * ({@link QmpFrameTooLargeException} for size) down the pipeline, closes the channel, and discards all
 * further input. Not sharable: it holds per-connection state.
 */
public final class QmpFrameDecoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;
    /** Bytes of the current object already scanned, counted from the reader index. */
    private int scanned;
    private int depth;
    private boolean inString;
    private boolean escape;
    private boolean failed;

    /** @param maxFrameBytes largest object accepted, in bytes; must be positive */
    public QmpFrameDecoder(int maxFrameBytes) {
        if (maxFrameBytes <= 0) {
            throw new IllegalArgumentException("maxFrameBytes must be positive: " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed || Violations.failed(ctx)) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.isReadable()) {
            if (depth == 0) {
                int r = in.readerIndex();
                int w = in.writerIndex();
                while (r < w && isWhitespace(in.getByte(r))) {
                    r++;
                }
                in.readerIndex(r);
                if (r == w) {
                    return;
                }
                byte b = in.getByte(r);
                if (b != '{') {
                    fail(ctx, in, new QmpProtocolException(String.format(
                            "expected a JSON object, got byte 0x%02x ('%s') outside any object",
                            b & 0xff, printable(b))));
                    return;
                }
                scanned = 0;
            }
            int start = in.readerIndex();
            int end = in.writerIndex();
            int limit = Math.min(end, start + maxFrameBytes);
            int i = start + scanned;
            boolean complete = false;
            for (; i < limit; i++) {
                byte b = in.getByte(i);
                if (inString) {
                    if (escape) {
                        escape = false;
                    } else if (b == '\\') {
                        escape = true;
                    } else if (b == '"') {
                        inString = false;
                    }
                } else if (b == '"') {
                    inString = true;
                } else if (b == '{') {
                    depth++;
                } else if (b == '}') {
                    if (--depth == 0) {
                        complete = true;
                        i++;
                        break;
                    }
                }
            }
            scanned = i - start;
            if (complete) {
                out.add(in.readRetainedSlice(scanned));
                scanned = 0;
                continue;
            }
            if (scanned >= maxFrameBytes) {
                fail(ctx, in, new QmpFrameTooLargeException(maxFrameBytes, scanned));
            }
            return;
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        decode(ctx, in, out);
        if (!failed && !Violations.failed(ctx) && in.isReadable()) {
            // Only part of an object arrived before the stream ended.
            fail(ctx, in, new QmpProtocolException("connection closed mid-message: truncated JSON ("
                    + in.readableBytes() + " bytes of an unfinished object)"));
        }
    }

    private void fail(ChannelHandlerContext ctx, ByteBuf in, QmpProtocolException e) {
        failed = true;
        in.skipBytes(in.readableBytes());
        Violations.report(ctx, e);
    }

    private static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    private static String printable(byte b) {
        return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : "?";
    }
}
