package io.qvirt.handler.nodeapi;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Routes one connection's requests (after TLS and the client-certificate gate): health, the lifecycle
 * calls, and the WebSocket upgrades of the console and port-forward, which {@link ConsoleBridge} and
 * {@link PortForwardBridge} take over.
 *
 * <p>{@link VmiOperations} calls talk to QEMU over QMP and may take a while: they run on the server's
 * blocking executor, never on this event loop, and the answer is written back from the loop. One request
 * is served at a time per connection, in order (HTTP/1.1 answers in request order): a pipelined request
 * waits in a short queue while reading pauses; a client pipelining past it is cut off.
 */
final class NodeApiRouter extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(NodeApiRouter.class.getName());
    /** Requests a client may pipeline behind the one being served. */
    private static final int MAX_WAITING = 4;

    private final NodeApiServices services;
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean busy;

    NodeApiRouter(NodeApiServices services) {
        this.services = services;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (busy) {
            if (waiting.size() >= MAX_WAITING) {
                req.release();
                ctx.close();
                return;
            }
            waiting.add(req);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        serve(ctx, req);
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest req) {
        busy = true;
        if (!req.decoderResult().isSuccess()) {
            HttpUtil.setKeepAlive(req, false);
            reply(ctx, req, Replies.failure(400, "malformed HTTP request"));
            return;
        }
        Route.Match match = Route.match(req.method(), req.uri());
        if (match instanceof Route.Found f) {
            serve(ctx, req, f.route());
        } else if (match instanceof Route.MethodNotAllowed m) {
            FullHttpResponse r = Replies.failure(405, "method " + req.method() + " is not allowed here; allowed: " + m.allow());
            r.headers().set(HttpHeaderNames.ALLOW, m.allow());
            reply(ctx, req, r);
        } else if (match instanceof Route.BadName b) {
            reply(ctx, req, Replies.failure(400, b.message()));
        } else {
            reply(ctx, req, Replies.failure(404, "the server could not find the requested resource"));
        }
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest req, Route route) {
        switch (route.action()) {
            case HEALTHZ -> reply(ctx, req, Replies.text(200, "ok"));
            case PAUSE, UNPAUSE, RESET -> lifecycle(ctx, req, route);
            case CONSOLE -> services.console().attach(ctx, req, route.namespace(), route.name(),
                    refusal -> reply(ctx, req, refusal), () -> upgraded(ctx));
            case PORTFORWARD -> services.portForward().attach(ctx, req, route.namespace(), route.name(), route.port(),
                    route.protocol(), refusal -> reply(ctx, req, refusal), () -> upgraded(ctx));
        }
    }

    private void lifecycle(ChannelHandlerContext ctx, FullHttpRequest req, Route route) {
        VmiOperations ops = services.operations();
        Runnable call = switch (route.action()) {
            case PAUSE -> () -> ops.pause(route.namespace(), route.name());
            case UNPAUSE -> () -> ops.unpause(route.namespace(), route.name());
            case RESET -> () -> ops.reset(route.namespace(), route.name());
            default -> throw new IllegalArgumentException(route.action().toString());
        };
        String what = route.action().name().toLowerCase() + " " + route.namespace() + "/" + route.name();
        try {
            services.blocking().execute(() -> {
                FullHttpResponse answer = answer(what, call);
                try {
                    ctx.executor().execute(() -> reply(ctx, req, answer));
                } catch (RejectedExecutionException e) {
                    // The server is shutting down: the connection goes with it.
                    answer.release();
                    req.release();
                }
            });
        } catch (RejectedExecutionException e) {
            reply(ctx, req, Replies.failure(503, "the node API is busy or stopping; retry"));
        }
    }

    /** Runs a VMI operation (on the blocking executor) and says how it went as an HTTP answer. */
    static FullHttpResponse answer(String what, Runnable call) {
        try {
            call.run();
            // KubeVirt's handler answers 202 here; virt-api takes any 2xx. qvirt's operations are done when they return.
            return Replies.empty(200);
        } catch (NodeApiException e) {
            return Replies.failure(e.status(), e.getMessage());
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "node API " + what + " failed", t);
            return Replies.failure(500, Replies.oneLine(t));
        }
    }

    /** Writes the answer to {@code req} (on the event loop), then serves the next waiting request. */
    private void reply(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse res) {
        boolean keepAlive = HttpUtil.isKeepAlive(req) && ctx.channel().isActive();
        req.release();
        if (!keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.writeAndFlush(res).addListener((ChannelFutureListener) f -> {
            if (!keepAlive || !f.isSuccess()) {
                f.channel().close();
                return;
            }
            busy = false;
            FullHttpRequest next = waiting.poll();
            if (next != null) {
                serve(ctx, next);
            } else {
                ctx.channel().config().setAutoRead(true);
            }
        });
    }

    /** A WebSocket (console, port-forward) is up: the relay owns the connection now. */
    private void upgraded(ChannelHandlerContext ctx) {
        // Anything pipelined behind an upgrade request is not HTTP any more.
        waiting.forEach(ReferenceCountUtil::release);
        waiting.clear();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && !busy) {
            // An idle keep-alive connection (KubeVirt's handler drops them after 60 s as well).
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        waiting.forEach(ReferenceCountUtil::release);
        waiting.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // TLS errors after the handshake, resets, oversized lines: nothing to answer on a broken connection.
        LOG.log(Level.FINE, "node API connection from " + ctx.channel().remoteAddress() + " failed", cause);
        ctx.close();
    }
}
