package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The session on top of the correlator: waits for the greeting, negotiates capabilities (asking for
 * {@code oob} when offered and wanted), then completes the connect future; routes events to the
 * client; reports the end of the connection. Event-loop confined. Not sharable.
 */
final class QmpSession extends ChannelInboundHandlerAdapter {
    private final QmpClient client;
    private final QmpCorrelator correlator;
    private final QmpOptions options;
    private final CompletableFuture<QmpClient> ready;
    private ScheduledFuture<?> connectTimer;
    private boolean greeted;

    QmpSession(QmpClient client, QmpCorrelator correlator, QmpOptions options, CompletableFuture<QmpClient> ready) {
        this.client = client;
        this.correlator = correlator;
        this.options = options;
        this.ready = ready;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        connectTimer = ctx.executor().schedule(() -> {
            if (!ready.isDone()) {
                QmpTimeoutException e = new QmpTimeoutException((greeted
                        ? "QMP server sent its greeting but did not answer qmp_capabilities"
                        : "no QMP greeting") + " within " + options.connectTimeout());
                correlator.setCauseIfAbsent(e);
                ready.completeExceptionally(e);
                ctx.close();
            }
        }, options.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof QmpGreeting g) {
            if (greeted) {
                correlator.setCauseIfAbsent(new QmpProtocolException("QMP server sent a second greeting"));
                ctx.close();
                return;
            }
            greeted = true;
            negotiate(ctx, g);
        } else if (msg instanceof QmpEvent e) {
            client.dispatch(e);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void negotiate(ChannelHandlerContext ctx, QmpGreeting g) {
        boolean oob = options.enableOob() && g.offers("oob");
        ObjectNode args = null;
        if (oob) {
            args = JsonNodeFactory.instance.objectNode();
            args.putArray("enable").add("oob");
        }
        CompletableFuture<JsonNode> caps = new CompletableFuture<>();
        // Completes on the event loop (plain future), so the session state below stays confined.
        caps.whenComplete((v, err) -> {
            connectTimer.cancel(false);
            if (err != null) {
                QmpException e = err instanceof QmpException q ? q : new QmpException("qmp_capabilities failed", err);
                correlator.setCauseIfAbsent(e);
                ready.completeExceptionally(e);
                ctx.close();
            } else {
                client.negotiated(g, oob);
                if (!ready.complete(client)) {
                    ctx.close();
                }
            }
        });
        correlator.submit(client.request("qmp_capabilities", args, false, -1), caps, options.connectTimeout());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // The correlator handles exceptions; nothing should reach here, but never let one escape.
        correlator.setCauseIfAbsent(cause);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (connectTimer != null) {
            connectTimer.cancel(false);
        }
        Throwable cause = correlator.terminalCause();
        if (cause == null) {
            cause = new QmpDisconnectedException("QMP connection closed");
        }
        if (!ready.isDone()) {
            ready.completeExceptionally(cause instanceof QmpProtocolException || cause instanceof QmpTimeoutException
                    ? cause
                    : new QmpDisconnectedException("QMP connection ended before the session was established: "
                            + cause.getMessage(), cause));
        }
        client.closed(cause);
        ctx.fireChannelInactive();
    }
}
