package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * virt-api's HTTPS server (Netty): HTTP/1.1 with keep-alive, one request at a time per connection (the next is read
 * once the answer is written), request bodies capped ({@code 413} beyond), WebSocket for the console and port-forward. Work that
 * calls the API server or a handler runs on a bounded worker pool, never on the event loop. Keeps no state between
 * requests: any number of replicas can serve.
 *
 * <p>Routes: {@code /healthz}, {@code /metrics}; the admission webhooks ({@link Admission#PATHS}, POST); under
 * {@code /apis/subresources.kubevirt.io/{v1,v1alpha3}}: discovery, {@code version}, {@code healthz} (no
 * authentication, as KubeVirt's) and the subresources, each behind {@link FrontProxyAuth} and a
 * SubjectAccessReview ({@link AccessReviewer}).
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ApiServer.class.getName());
    static final String PREFIX = "/apis/subresources.kubevirt.io/";
    private static final Pattern SUB = Pattern.compile(
            "/apis/subresources\\.kubevirt\\.io/(v1|v1alpha3)/namespaces/([a-z0-9]([-a-z0-9]*[a-z0-9])?)/"
                    + "(virtualmachines|virtualmachineinstances)/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)/([a-z-]+)");
    /** {@code portforward/{port}[/{protocol}]}: the one subresource with path parameters after its name. */
    private static final Pattern PORT_FORWARD = Pattern.compile(
            "/apis/subresources\\.kubevirt\\.io/(v1|v1alpha3)/namespaces/([a-z0-9]([-a-z0-9]*[a-z0-9])?)/"
                    + "(virtualmachines|virtualmachineinstances)/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)/portforward/([^/]+)(?:/([^/]+))?");
    private static final Pattern EXPAND = Pattern.compile(
            "/apis/subresources\\.kubevirt\\.io/(v1|v1alpha3)/namespaces/([a-z0-9]([-a-z0-9]*[a-z0-9])?)/expand-vm-spec");

    /** What the server needs. */
    public record Config(InetSocketAddress listen, ApiServerTls tls, FrontProxyAuth auth, AccessReviewer reviewer,
                         VmSubresources vms, VmiSubresources vmis, Admission admission, int maxBody,
                         BooleanSupplier apiServerReachable) {
    }

    private final Config cfg;
    private final PortForwardSubresource portForward;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ExecutorService workers = new ThreadPoolExecutor(4, 32, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(1024),
            r -> {
                Thread t = new Thread(r, "virt-api-worker");
                t.setDaemon(true);
                return t;
            });
    private final ScheduledExecutorService reload = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "virt-api-tls-reload");
        t.setDaemon(true);
        return t;
    });
    private final Metrics metrics = new Metrics();
    private final Channel server;

    public ApiServer(Config cfg) throws InterruptedException {
        this.cfg = cfg;
        this.portForward = new PortForwardSubresource(cfg.vmis());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("tls", cfg.tls().current().newHandler(ch.alloc()))
                                .addLast("idle", new IdleStateHandler(0, 0, 300))
                                .addLast("http", new HttpServerCodec(8192, 16384, 8192))
                                .addLast("aggregator", new HttpObjectAggregator(cfg.maxBody()))
                                .addLast("api", new Requests());
                    }
                })
                .bind(cfg.listen()).sync().channel();
        reload.scheduleWithFixedDelay(() -> {
            try {
                cfg.tls().refresh();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "TLS reload", e);
            }
        }, 5, 5, TimeUnit.SECONDS);
        LOG.info("virt-api serving HTTPS on " + address());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    Metrics metrics() {
        return metrics;
    }

    /** An answer: code, content type, body. */
    record Reply(int code, String type, byte[] body) {
        static Reply json(int code, JsonNode n) {
            return new Reply(code, "application/json", n.toString().getBytes(StandardCharsets.UTF_8));
        }

        static Reply error(ApiError e) {
            return json(e.code(), e.toStatus());
        }

        static Reply text(int code, String s) {
            return new Reply(code, "text/plain; charset=utf-8", s.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final class Requests extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            long t0 = System.nanoTime();
            if (!req.decoderResult().isSuccess()) {
                write(ctx, req, Reply.error(ApiError.badRequest("malformed HTTP request")), "bad", t0, false);
                return;
            }
            ctx.channel().config().setAutoRead(false);
            String path = new QueryStringDecoder(req.uri()).path();
            byte[] body = ByteBufUtil.getBytes(req.content());
            X509Certificate[] peer = peer(ctx);
            Map<String, List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (Map.Entry<String, String> h : req.headers()) {
                headers.computeIfAbsent(h.getKey(), k -> new ArrayList<>()).add(h.getValue());
            }
            HttpMethod method = req.method();
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            boolean upgrade = "websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.UPGRADE));
            FullHttpRequest retained = upgrade ? req.retainedDuplicate() : null;
            try {
                workers.execute(() -> {
                    String[] route = {"other"};
                    try {
                        Reply r = serve(ctx, method, path, headers, body, peer, route, retained);
                        if (r != null) {
                            write(ctx, null, r, route[0], t0, keepAlive);
                        }
                    } catch (ApiError e) {
                        write(ctx, null, Reply.error(e), route[0], t0, keepAlive);
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, method + " " + path + " failed", e);
                        write(ctx, null, Reply.error(ApiError.internal(String.valueOf(e.getMessage()))), route[0], t0, keepAlive);
                    } finally {
                        if (retained != null && retained.refCnt() > 0) {
                            retained.release();
                        }
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                if (retained != null) {
                    retained.release();
                }
                write(ctx, null, Reply.error(ApiError.of(429, "TooManyRequests", "virt-api is busy, try again")), "busy", t0, false);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(Level.FINE, "connection from " + ctx.channel().remoteAddress() + " failed", cause);
            ctx.close();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
                ctx.close();
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    private void write(ChannelHandlerContext ctx, FullHttpRequest unused, Reply r, String route, long t0, boolean keepAlive) {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.code()),
                Unpooled.wrappedBuffer(r.body()));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.type());
        resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        if (keepAlive) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        metrics.record(route, r.code(), System.nanoTime() - t0);
        ctx.writeAndFlush(resp).addListener((ChannelFutureListener) f -> {
            if (!keepAlive || !f.isSuccess()) {
                f.channel().close();
            } else {
                f.channel().config().setAutoRead(true);
            }
        });
    }

    private static X509Certificate[] peer(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            Certificate[] c = ssl.engine().getSession().getPeerCertificates();
            X509Certificate[] x = new X509Certificate[c.length];
            for (int i = 0; i < c.length; i++) {
                x[i] = (X509Certificate) c[i];
            }
            return x;
        } catch (SSLPeerUnverifiedException | ClassCastException e) {
            return null;
        }
    }

    /** Serves one request on a worker; null when the answer is written elsewhere (the console's upgrade). */
    Reply serve(ChannelHandlerContext ctx, HttpMethod method, String path, Map<String, List<String>> headers, byte[] body,
                X509Certificate[] peer, String[] route, FullHttpRequest upgrade) {
        if (path.equals("/healthz")) {
            route[0] = "healthz";
            return Reply.text(200, "ok");
        }
        if (path.equals("/metrics")) {
            route[0] = "metrics";
            return new Reply(200, "text/plain; version=0.0.4", metrics.render().getBytes(StandardCharsets.UTF_8));
        }
        if (Admission.PATHS.contains(path)) {
            route[0] = path.substring(1);
            if (!HttpMethod.POST.equals(method)) {
                throw ApiError.of(405, "MethodNotAllowed", "the webhook " + path + " takes POST");
            }
            return Reply.json(200, cfg.admission().handle(path, body));
        }
        if (path.equals("/apis")) {
            route[0] = "discovery";
            return Reply.json(200, Discovery.groupList());
        }
        if (path.equals("/apis/subresources.kubevirt.io") || path.equals(PREFIX)) {
            route[0] = "discovery";
            return Reply.json(200, Discovery.group());
        }
        for (String v : Discovery.VERSIONS) {
            String base = PREFIX + v;
            if (path.equals(base) || path.equals(base + "/")) {
                route[0] = "discovery";
                return Reply.json(200, Discovery.resourceList(v));
            }
            if (path.equals(base + "/version")) {
                route[0] = "version";
                return Reply.json(200, Discovery.version());
            }
            if (path.equals(base + "/healthz")) {
                route[0] = "healthz";
                boolean ok = cfg.apiServerReachable().getAsBoolean();
                com.fasterxml.jackson.databind.node.ObjectNode o = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
                o.putObject("apiserver").put("connectivity", ok ? "ok" : "failed");
                return Reply.json(ok ? 200 : 500, o);
            }
        }
        Matcher pf = PORT_FORWARD.matcher(path);
        if (pf.matches()) {
            String resource = pf.group(4);
            String name = pf.group(5);
            route[0] = resource + "/portforward";
            // KubeVirt's authorizer: the subresource is "portforward" whatever port and protocol follow it.
            authorize(method, headers, peer, pf.group(2), pf.group(1), resource, name, "portforward");
            if (!HttpMethod.GET.equals(method)) {
                throw ApiError.of(405, "MethodNotAllowed", route[0] + " takes GET");
            }
            PortForwardSubresource.Target target = PortForwardSubresource.parse(pf.group(7), pf.group(8));
            portForward(ctx, pf.group(2), name, resource.equals("virtualmachines"), target, upgrade, route[0]);
            return null;
        }
        Matcher m = SUB.matcher(path);
        Matcher e = EXPAND.matcher(path);
        if (!m.matches() && !e.matches()) {
            route[0] = "notfound";
            throw ApiError.of(404, "NotFound", "the server could not find the requested resource");
        }
        String version = m.matches() ? m.group(1) : e.group(1);
        String ns = m.matches() ? m.group(2) : e.group(2);
        String resource = m.matches() ? m.group(4) : "expand-vm-spec";
        String name = m.matches() ? m.group(5) : "";
        String sub = m.matches() ? m.group(7) : "";
        route[0] = m.matches() ? resource + "/" + sub : "expand-vm-spec";
        HttpMethod want = want(resource, sub);
        if (want == null) {
            throw ApiError.of(404, "NotFound", "the server could not find the requested resource");
        }
        authorize(method, headers, peer, ns, version, resource, name, sub);
        if (!want.equals(method)) {
            throw ApiError.of(405, "MethodNotAllowed", route[0] + " takes " + want);
        }
        switch (route[0]) {
            case "virtualmachines/start" -> cfg.vms().start(ns, name, body);
            case "virtualmachines/stop" -> cfg.vms().stop(ns, name, body);
            case "virtualmachines/restart" -> cfg.vms().restart(ns, name, body);
            case "virtualmachines/migrate" -> cfg.vms().migrate(ns, name, body);
            case "virtualmachines/expand-spec" -> {
                return Reply.json(200, cfg.vms().expandSpec(ns, name));
            }
            case "expand-vm-spec" -> {
                return Reply.json(200, cfg.vms().expandVmSpec(ns, body));
            }
            case "virtualmachineinstances/pause" -> {
                return forwarded(cfg.vmis().pause(ns, name, body));
            }
            case "virtualmachineinstances/unpause" -> {
                return forwarded(cfg.vmis().unpause(ns, name, body));
            }
            case "virtualmachineinstances/reset" -> {
                return forwarded(cfg.vmis().reset(ns, name));
            }
            case "virtualmachineinstances/console" -> {
                console(ctx, ns, name, upgrade, route[0]);
                return null;
            }
            default -> throw ApiError.of(404, "NotFound", "the server could not find the requested resource");
        }
        // KubeVirt answers the VM state changes with 202 and no body.
        return new Reply(202, "application/json", new byte[0]);
    }

    private static Reply forwarded(VmiSubresources.Forwarded f) {
        return f.body() == null ? new Reply(200, "application/json", new byte[0])
                : new Reply(f.code(), "application/json", f.body().getBytes(StandardCharsets.UTF_8));
    }

    private static HttpMethod want(String resource, String sub) {
        if (resource.equals("expand-vm-spec")) {
            return HttpMethod.PUT;
        }
        if (resource.equals("virtualmachines")) {
            return switch (sub) {
                case "start", "stop", "restart", "migrate" -> HttpMethod.PUT;
                case "expand-spec" -> HttpMethod.GET;
                default -> null;
            };
        }
        return switch (sub) {
            case "pause", "unpause", "reset" -> HttpMethod.PUT;
            case "console" -> HttpMethod.GET;
            default -> null;
        };
    }

    /**
     * KubeVirt's authorizer: a verified front-proxy certificate, then the user and group headers, then a
     * SubjectAccessReview for the subresource. 401 (KubeVirt's "request is not authenticated", or what is missing)
     * or 403 (the review's reason); nothing is done for a refused request.
     */
    private void authorize(HttpMethod method, Map<String, List<String>> headers, X509Certificate[] peer, String ns,
                           String version, String resource, String name, String sub) {
        String proxy = cfg.auth().authenticate(peer);
        if (proxy == null) {
            throw ApiError.of(401, "Unauthorized", "request is not authenticated");
        }
        List<String> users = headers.get("X-Remote-User");
        if (users == null || users.isEmpty() || users.get(0).isEmpty()) {
            throw ApiError.of(401, "Unauthorized", "a valid user header is required for authorization");
        }
        List<String> groups = headers.get("X-Remote-Group");
        if (groups == null) {
            throw ApiError.of(401, "Unauthorized", "a valid group header is required for authorization");
        }
        Map<String, List<String>> extra = new java.util.TreeMap<>();
        for (Map.Entry<String, List<String>> h : headers.entrySet()) {
            if (h.getKey().regionMatches(true, 0, "X-Remote-Extra-", 0, 15)) {
                extra.put(java.net.URLDecoder.decode(h.getKey().substring(15).toLowerCase(), StandardCharsets.UTF_8), h.getValue());
            }
        }
        String verb = HttpMethod.PUT.equals(method) ? "update" : HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)
                ? (name.isEmpty() ? "list" : "get") : HttpMethod.POST.equals(method) ? "create"
                : HttpMethod.PATCH.equals(method) ? "patch" : HttpMethod.DELETE.equals(method) ? "delete" : null;
        if (verb == null) {
            throw ApiError.of(401, "Unauthorized", "unknown http verb in request: " + method);
        }
        String user = users.get(0);
        AccessReviewer.Decision d;
        try {
            d = cfg.reviewer().review(new AccessReviewer.Request(user, groups, extra, ns, verb, Discovery.GROUP, version,
                    resource, sub.isEmpty() ? null : sub, name.isEmpty() ? null : name));
        } catch (RuntimeException x) {
            LOG.log(Level.WARNING, "SubjectAccessReview failed", x);
            throw ApiError.internal("internal server error");
        }
        if (!d.allowed()) {
            String what = resource + (sub.isEmpty() ? "" : "/" + sub);
            String why = d.reason() == null || d.reason().isEmpty() ? "" : ": " + d.reason();
            LOG.info("refused " + user + " (via " + proxy + "): " + verb + " " + what + " " + ns + "/" + name + why);
            throw ApiError.of(403, "Forbidden", resource + ".subresources.kubevirt.io \"" + name + "\" is forbidden: User \""
                    + user + "\" cannot " + verb + " resource \"" + what + "\" in API group \"" + Discovery.GROUP
                    + "\" in the namespace \"" + ns + "\"" + why);
        }
    }

    /** Checks, connects to the handler's console, then upgrades the client and relays. */
    private void console(ChannelHandlerContext ctx, String ns, String name, FullHttpRequest req, String route) {
        long t0 = System.nanoTime();
        if (req == null) {
            throw ApiError.badRequest("the console is a WebSocket: send Upgrade: websocket");
        }
        String node = cfg.vmis().consoleNode(ns, name);
        ConsoleProxy proxy = new ConsoleProxy("console " + ns + "/" + name + " via " + node);
        WebSocket ws = openHandlerSocket(node, ns, name, "console", proxy, route, t0, false);
        relay(ctx, req, proxy, ws, route, t0, metrics::consoleOpened);
    }

    /**
     * Checks, has the handler connect to the guest's port (its answer comes only once it is connected, so a port
     * that is not forwarded or refuses is a refusal here, before the client's upgrade), then upgrades and relays.
     */
    private void portForward(ChannelHandlerContext ctx, String ns, String name, boolean vm, PortForwardSubresource.Target target,
                             FullHttpRequest req, String route) {
        long t0 = System.nanoTime();
        if (req == null) {
            throw ApiError.badRequest("port-forward is a WebSocket: send Upgrade: websocket");
        }
        String node = portForward.node(ns, name, vm);
        ConsoleProxy proxy = new ConsoleProxy("port-forward " + ns + "/" + name + ":" + target.port() + "/"
                + target.protocol() + " via " + node);
        WebSocket ws = openHandlerSocket(node, ns, name, target.handlerAction(), proxy, route, t0, true);
        relay(ctx, req, proxy, ws, route, t0, () -> { });
    }

    /**
     * The handler's WebSocket for {@code action}; its refusal (a Status) as this request's answer: 4xx always, and
     * for port-forward 5xx too (the handler's "dialing VM: ..." says why the guest's port could not be reached).
     */
    private WebSocket openHandlerSocket(String node, String ns, String name, String action, ConsoleProxy proxy, String route,
                                        long t0, boolean passServerErrors) {
        try {
            return cfg.vmis().handlers().webSocket(node, ns, name, action, proxy.handlerListener()).join();
        } catch (CompletionException x) {
            Throwable c = x.getCause();
            if (c instanceof WebSocketHandshakeException h && h.getResponse() != null) {
                Object b = h.getResponse().body();
                String text = b == null ? "" : b.toString();
                int code = h.getResponse().statusCode();
                if ((code / 100 == 4 || (passServerErrors && code / 100 == 5)) && text.contains("\"Status\"")) {
                    metrics.record(route, code, System.nanoTime() - t0);
                    String reason = code == 409 ? "Conflict" : code == 404 ? "NotFound" : code / 100 == 5 ? "InternalError" : "BadRequest";
                    String message = messageOf(text);
                    throw ApiError.of(code, reason, code / 100 == 5 ? "Internal error occurred: " + message : message);
                }
            }
            throw ApiError.internal("cannot connect to " + action.replaceFirst("/.*", "") + " of " + ns + "/" + name
                    + " on " + node + ": " + c);
        }
    }

    /** Upgrades the client's connection (on its event loop) and starts relaying to the handler's WebSocket. */
    private void relay(ChannelHandlerContext ctx, FullHttpRequest req, ConsoleProxy proxy, WebSocket ws, String route, long t0,
                       Runnable opened) {
        req.retain();
        ctx.executor().execute(() -> {
            try {
                String url = "wss://" + req.headers().get(HttpHeaderNames.HOST, "virt-api") + req.uri();
                WebSocketServerHandshaker hs = new WebSocketServerHandshakerFactory(url, null, true, 1 << 20).newHandshaker(req);
                if (hs == null) {
                    WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                    proxy.close("unsupported WebSocket version");
                    return;
                }
                ctx.pipeline().remove("idle");
                hs.handshake(ctx.channel(), req).addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        proxy.close("the client's upgrade failed: " + f.cause());
                        f.channel().close();
                        return;
                    }
                    metrics.record(route, 101, System.nanoTime() - t0);
                    opened.run();
                    f.channel().pipeline().replace("api", "relay", proxy.clientHandler());
                    proxy.attach(f.channel(), ws);
                });
            } finally {
                req.release();
            }
        });
    }

    private static String messageOf(String statusJson) {
        try {
            return Admission.JSON.readTree(statusJson).path("message").asText(statusJson);
        } catch (java.io.IOException e) {
            return statusJson;
        }
    }

    @Override
    public void close() {
        reload.shutdownNow();
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownNow();
    }
}
