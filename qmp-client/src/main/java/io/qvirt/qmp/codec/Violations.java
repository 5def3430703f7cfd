package io.qvirt.qmp.codec;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AttributeKey;
import io.qvirt.qmp.QmpProtocolException;

/**
 * One protocol violation per connection: the first handler to find one reports it and closes; the
 * others then stay quiet (e.g. the frame decoder must not add "truncated" when the close it sees was
 * caused by a decoding error downstream).
 */
final class Violations {
    private static final AttributeKey<Boolean> FAILED = AttributeKey.valueOf(Violations.class, "failed");

    private Violations() {
    }

    static boolean failed(ChannelHandlerContext ctx) {
        return Boolean.TRUE.equals(ctx.channel().attr(FAILED).get());
    }

    static void report(ChannelHandlerContext ctx, QmpProtocolException e) {
        if (ctx.channel().attr(FAILED).setIfAbsent(Boolean.TRUE) == null) {
            ctx.fireExceptionCaught(e);
        }
        ctx.close();
    }
}
