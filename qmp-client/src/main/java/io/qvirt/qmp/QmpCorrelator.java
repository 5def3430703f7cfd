package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Matches replies to commands by id, limits commands in flight, queues the rest in order, times
 * commands out, and fails everything pending when the connection ends.
 *
 * <p>All state is confined to the channel's event loop; {@link #submit} may be called from any thread.
 * A command that timed out keeps its slot until its late reply arrives (QEMU still holds it in its
 * queue); that reply is counted and dropped. A reply with an unknown or missing id is a protocol
 * violation and closes the connection, so no reply can reach the wrong caller.
 */
final class QmpCorrelator extends ChannelDuplexHandler {
    private static final class Pending {
        final QmpRequest request;
        final CompletableFuture<JsonNode> future;
        final long timeoutNanos;
        ScheduledFuture<?> timer;
        boolean timedOut;

        Pending(QmpRequest request, CompletableFuture<JsonNode> future, long timeoutNanos) {
            this.request = request;
            this.future = future;
            this.timeoutNanos = timeoutNanos;
        }
    }

    private final int maxInFlight;
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private final Map<Long, Pending> inFlight = new HashMap<>();
    /** In-band commands QEMU holds (including timed-out ones); exec-oob ones are not counted. */
    private int inBand;
    /**
     * Whether a command carrying a descriptor awaits its reply. QEMU keeps only the descriptors of the
     * latest read and closes older unclaimed ones, so a second fd arriving before the first command
     * ran would make the first fail ("No file descriptor supplied via SCM_RIGHTS"): fd commands are
     * therefore sent one at a time, and commands queued behind one wait with it, keeping order.
     */
    private boolean fdInFlight;
    private volatile long lateReplies;
    private ChannelHandlerContext ctx;
    /** Why the connection ended or is ending; set once. */
    private volatile Throwable terminal;
    private volatile boolean closed;

    QmpCorrelator(int maxInFlight) {
        this.maxInFlight = maxInFlight;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    long lateReplies() {
        return lateReplies;
    }

    /** The reason the connection ended, or null while open. */
    Throwable terminalCause() {
        return closed ? terminal : null;
    }

    /** Records why the connection is about to be closed, unless a reason is already known. */
    void setCauseIfAbsent(Throwable cause) {
        if (terminal == null) {
            terminal = cause;
        }
    }

    /**
     * Queues {@code request}; {@code future} completes with the reply's return value or a
     * {@link QmpException}. Callable from any thread.
     */
    void submit(QmpRequest request, CompletableFuture<JsonNode> future, Duration timeout) {
        Pending p = new Pending(request, future, timeout.toNanos());
        if (ctx.executor().inEventLoop()) {
            enqueue(p);
        } else {
            try {
                ctx.executor().execute(() -> enqueue(p));
            } catch (RuntimeException e) {
                future.completeExceptionally(new QmpDisconnectedException("QMP client is shut down", e));
            }
        }
    }

    private void enqueue(Pending p) {
        if (closed) {
            Throwable t = terminal;
            p.future.completeExceptionally(new QmpDisconnectedException("QMP command '" + p.request.command()
                    + "' not sent: the connection has ended" + (t == null ? "" : " (" + t.getMessage() + ")"), t));
            return;
        }
        p.timer = ctx.executor().schedule(() -> timeout(p), p.timeoutNanos, TimeUnit.NANOSECONDS);
        if (p.request.oob()) {
            // Out-of-band commands overtake QEMU's queue, so they must not wait in ours either.
            send(p);
            ctx.flush();
        } else {
            waiting.add(p);
            pump();
        }
    }

    private void pump() {
        boolean wrote = false;
        while (inBand < maxInFlight && !waiting.isEmpty()) {
            if (fdInFlight && waiting.peek().request.fd() >= 0) {
                break;
            }
            send(waiting.poll());
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    private void send(Pending p) {
        inFlight.put(p.request.id(), p);
        if (!p.request.oob()) {
            inBand++;
        }
        if (p.request.fd() >= 0) {
            fdInFlight = true;
            // Only fd sends fail on their own (bad descriptor); others fail with the connection.
            ctx.write(p.request).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess() && inFlight.remove(p.request.id()) == p) {
                    release(p);
                    p.timer.cancel(false);
                    p.future.completeExceptionally(f.cause() instanceof QmpException q ? q
                            : new QmpDisconnectedException("cannot send '" + p.request.command() + "': "
                                    + f.cause(), f.cause()));
                    pump();
                }
            });
        } else {
            ctx.write(p.request, ctx.voidPromise());
        }
    }

    private void release(Pending p) {
        if (!p.request.oob()) {
            inBand--;
        }
        if (p.request.fd() >= 0) {
            fdInFlight = false;
        }
    }

    private void timeout(Pending p) {
        if (p.future.isDone()) {
            return;
        }
        if (waiting.remove(p)) {
            // Never sent: nothing will come back for it.
        } else {
            p.timedOut = true;
        }
        p.future.completeExceptionally(new QmpTimeoutException("QMP command '" + p.request.command() + "' (id "
                + p.request.id() + ") got no reply within " + Duration.ofNanos(p.timeoutNanos)
                + (p.timedOut ? "; a late reply will be dropped" : " (it was still queued in the client)")));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof QmpReturn r) {
            reply(r.id(), r.value(), null, null);
        } else if (msg instanceof QmpError e) {
            reply(e.id(), null, e.errorClass(), e.description());
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void reply(JsonNode id, JsonNode value, String errorClass, String desc) {
        if (closed) {
            return;
        }
        Pending p = id != null && id.canConvertToLong() && id.isIntegralNumber() ? inFlight.remove(id.longValue()) : null;
        if (p == null) {
            String what = errorClass != null ? "error " + errorClass + ": " + desc : "return";
            violation(new QmpProtocolException(id == null
                    ? "QMP reply without an id (" + what + ")"
                    : "QMP reply with id " + id + " matching no pending command (" + what + ")"));
            return;
        }
        release(p);
        if (p.timedOut) {
            lateReplies++;
        } else {
            p.timer.cancel(false);
            if (errorClass == null) {
                p.future.complete(value);
            } else {
                p.future.completeExceptionally(new QmpRemoteException(p.request.command(), errorClass, desc));
            }
        }
        pump();
    }

    private void violation(QmpProtocolException e) {
        setCauseIfAbsent(e);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Decoders fire typed exceptions; anything else is an I/O failure of the socket.
        setCauseIfAbsent(cause instanceof QmpException ? cause
                : new QmpDisconnectedException("QMP connection failed: " + cause, cause));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        setCauseIfAbsent(new QmpDisconnectedException("QMP connection closed by the peer"));
        closed = true;
        List<Pending> all = new ArrayList<>(inFlight.values());
        all.addAll(waiting);
        inFlight.clear();
        waiting.clear();
        inBand = 0;
        fdInFlight = false;
        for (Pending p : all) {
            if (p.timer != null) {
                p.timer.cancel(false);
            }
            p.future.completeExceptionally(afterClose(p.request));
        }
        ctx.fireChannelInactive();
    }

    private QmpException afterClose(QmpRequest r) {
        Throwable t = terminal;
        if (t instanceof QmpProtocolException pe) {
            return pe;
        }
        String reason = t == null ? "connection closed" : t.getMessage();
        return new QmpDisconnectedException("QMP command '" + r.command() + "' failed: " + reason, t);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
        if (closed) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new QmpDisconnectedException("QMP connection closed"));
            return;
        }
        ctx.write(msg, promise);
    }
}
