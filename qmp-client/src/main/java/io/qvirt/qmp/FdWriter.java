package io.qvirt.qmp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Sends {@link FdFrame}s with sendmsg(SCM_RIGHTS) directly on the channel's socket, keeping them in
 * order with Netty's own writes: an fd frame goes out only once everything written before it has left
 * Netty's outbound buffer, and writes that come after it wait here until it has gone. Netty's
 * FileDescriptor write is not used because it sends a stray data byte QEMU would read as QMP input.
 *
 * <p>Sits nearest the socket (first in the pipeline). Not sharable. Event-loop confined.
 */
final class FdWriter extends ChannelOutboundHandlerAdapter {
    private record Held(Object msg, ChannelPromise promise) {
    }

    /** Non-empty while an fd frame waits for the socket; holds it and everything written after it. */
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private boolean retryScheduled;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!held.isEmpty()) {
            held.add(new Held(msg, promise));
        } else if (msg instanceof FdFrame f) {
            if (!trySend(ctx, f, promise)) {
                held.add(new Held(msg, promise));
                scheduleRetry(ctx);
            }
        } else {
            ctx.write(msg, promise);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        // Flush what went through; held writes are flushed when they are released.
        ctx.flush();
    }

    /** @return false if the frame must wait (earlier bytes still queued, or the socket is full) */
    private boolean trySend(ChannelHandlerContext ctx, FdFrame f, ChannelPromise promise) {
        ctx.flush();
        ChannelOutboundBuffer ob = ctx.channel().unsafe().outboundBuffer();
        if (ob == null || !ctx.channel().isActive()) {
            f.release();
            promise.tryFailure(new ClosedChannelException());
            return true;
        }
        if (!ob.isEmpty()) {
            return false;
        }
        int socket = ((UnixChannel) ctx.channel()).fd().intValue();
        ByteBuf data = f.data;
        byte[] bytes = ByteBufUtil.getBytes(data);
        int n;
        try {
            n = Native.sendWithFd(socket, bytes, f.fd);
        } catch (QmpException e) {
            f.release();
            promise.tryFailure(e);
            return true;
        }
        if (n < 0) {
            return false;
        }
        if (n == bytes.length) {
            f.release();
            promise.trySuccess();
        } else {
            // The descriptor went with the first byte; the rest is ordinary data.
            data.skipBytes(n);
            ctx.writeAndFlush(data.retain(), promise);
            f.release();
        }
        return true;
    }

    private void scheduleRetry(ChannelHandlerContext ctx) {
        if (retryScheduled) {
            return;
        }
        retryScheduled = true;
        // Rare path (socket buffer full); a short poll is simpler than tracking writability edges.
        ctx.executor().schedule(() -> {
            retryScheduled = false;
            drain(ctx);
        }, 1, TimeUnit.MILLISECONDS);
    }

    private void drain(ChannelHandlerContext ctx) {
        while (!held.isEmpty()) {
            Held h = held.peek();
            if (h.msg instanceof FdFrame f) {
                if (!trySend(ctx, f, h.promise)) {
                    scheduleRetry(ctx);
                    return;
                }
            } else {
                ctx.write(h.msg, h.promise);
            }
            held.poll();
        }
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        failHeld();
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        failHeld();
    }

    private void failHeld() {
        Held h;
        while ((h = held.poll()) != null) {
            ReferenceCountUtil.release(h.msg);
            h.promise.tryFailure(new ClosedChannelException());
        }
    }
}
