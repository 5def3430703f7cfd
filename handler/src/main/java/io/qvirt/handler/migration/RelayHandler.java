package io.qvirt.handler.migration;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One direction of a byte relay: what its channel reads is written to the peer channel. Bytes read before the
 * peer is {@linkplain #link linked} are held (the few after a header line). Backpressure by writability: while
 * the peer cannot take more, this channel stops reading. When either side closes, the other is flushed and
 * closed. Both channels of a pair run on one event loop; {@link #link} is called on it.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(RelayHandler.class.getName());

    private final AtomicLong bytes;
    private final Queue<Object> held = new ArrayDeque<>();
    private Channel channel;
    private Channel peer;

    /** @param bytes counts every byte this side forwards */
    RelayHandler(AtomicLong bytes) {
        this.bytes = bytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    /** Starts forwarding to {@code peer} (what was held first); call on the event loop of both channels. */
    void link(Channel peer) {
        this.peer = peer;
        boolean any = false;
        Object m;
        while ((m = held.poll()) != null) {
            forward(m);
            any = true;
        }
        if (any) {
            peer.flush();
        }
        if (!channel.isActive()) {
            closeAfterFlush(peer);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (peer == null) {
            held.add(msg);
        } else {
            forward(msg);
        }
    }

    private void forward(Object msg) {
        if (msg instanceof ByteBuf b) {
            bytes.addAndGet(b.readableBytes());
        }
        if (peer.isActive()) {
            peer.write(msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (peer != null) {
            peer.flush();
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // This channel drained: its peer, which writes into it, may read again.
        if (ctx.channel().isWritable() && peer != null && peer.isActive()) {
            peer.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Object m;
        while ((m = held.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
        if (peer != null) {
            closeAfterFlush(peer);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.FINE, "migration relay " + ctx.channel() + " failed", cause);
        ctx.close();
    }

    static void closeAfterFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }
}
