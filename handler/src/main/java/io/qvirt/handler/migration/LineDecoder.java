package io.qvirt.handler.migration;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits bytes into UTF-8 lines ({@code \n}, not included), each at most {@code maxBytes} with its newline; a
 * longer one is refused as soon as the cap is passed (never buffered whole). With {@code once} it decodes the
 * first line only and then leaves the pipeline: the bytes after that line go on, as they came, to the next
 * handler (the header of a relay connection is followed by raw bytes).
 */
final class LineDecoder extends ByteToMessageDecoder {
    private final int maxBytes;
    private final String what;
    private final boolean once;

    /**
     * @param maxBytes the cap, newline included
     * @param what     the line's name in the error ("header line", "control message")
     * @param once     decode one line, then remove this decoder
     */
    LineDecoder(int maxBytes, String what, boolean once) {
        this.maxBytes = maxBytes;
        this.what = what;
        this.once = once;
    }

    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            // The connection is being closed for the over-long line: what follows is not read.
            in.skipBytes(in.readableBytes());
            return;
        }
        int start = in.readerIndex();
        int limit = Math.min(in.writerIndex(), start + maxBytes);
        int eol = in.indexOf(start, limit, (byte) '\n');
        if (eol < 0) {
            if (in.readableBytes() >= maxBytes) {
                failed = true;
                in.skipBytes(in.readableBytes());
                throw new ProxyProtocolException(what + " longer than " + maxBytes + " bytes (the cap, newline "
                        + "included)");
            }
            return;
        }
        String line = in.toString(start, eol - start, StandardCharsets.UTF_8);
        in.readerIndex(eol + 1);
        out.add(line);
        if (once) {
            // The rest of the cumulation is passed on raw when this decoder is removed (after the line).
            ctx.pipeline().remove(this);
        }
    }
}
