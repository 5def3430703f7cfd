package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The rig's API front door: the one address every client of the sandbox uses (kubeconfig, controller, handlers,
 * virt-api, FAKE node agents). It speaks HTTP/1.1 and does what kube-apiserver's layers in front of the storage do,
 * and nothing more, each named as such:
 *
 * <ul>
 * <li><b>Authentication (FAKE)</b>: the kubeconfig's bearer tokens name the user ({@link FakePolicy#USERS}); no
 * token is {@code system:anonymous}.</li>
 * <li><b>Aggregation</b> (as kube-apiserver's aggregator): {@code /apis/subresources.kubevirt.io/...} goes to
 * virt-api over TLS (virt-api's serving CA trusted) with the front-proxy client certificate and the caller's
 * identity in {@code X-Remote-User}/{@code X-Remote-Group} (a client's own X-Remote-* headers are dropped); a
 * WebSocket upgrade (the console) becomes a byte relay after virt-api's 101.</li>
 * <li><b>Admission</b> (as kube-apiserver's webhook admission, failurePolicy Fail): creates (POST) and updates (PUT)
 * of {@code kubevirt.io} VirtualMachines and VirtualMachineInstances go through virt-api's mutating webhook (its
 * JSON Patch applied), then its validating one; a denial is answered as kube-apiserver answers it (a Status whose
 * message names the webhook and the field) and nothing reaches the store. PATCHes and status updates are NOT
 * admitted here (kube-apiserver would admit a patch's result).</li>
 * <li><b>SubjectAccessReviews (FAKE)</b>: the mock has no authorizer, so {@code POST
 * /apis/authorization.k8s.io/v1/subjectaccessreviews} is answered here by {@link FakePolicy}.</li>
 * <li>Everything else is relayed to fabric8's mock API server unchanged (watches stream; a WebSocket upgrade, as
 * fabric8's watches use, becomes a byte relay after the mock's 101), except that an HTTP/2 cleartext upgrade offer
 * ({@code Upgrade: h2c}) is dropped so the mock answers in HTTP/1.1.</li>
 * </ul>
 * Until {@link #aggregate} is called the front door is the plain relay (subresources answer 503, writes are not
 * admitted).
 */
public final class SandboxFrontDoor implements AutoCloseable {
    static final String SUBRESOURCES = "/apis/subresources.kubevirt.io";
    private static final Pattern KUBEVIRT_WRITE = Pattern.compile(
            "/apis/kubevirt\\.io/v1(?:alpha3)?/namespaces/([^/]+)/(virtualmachines|virtualmachineinstances)(?:/([^/]+))?");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** virt-api as the aggregator and the admission layer reach it. */
    public record VirtApi(InetSocketAddress address, SslContext aggregatorTls, HttpClient webhooks) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ExecutorService blocking = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "front-door-admission");
        t.setDaemon(true);
        return t;
    });
    private final Channel server;
    private final InetSocketAddress backend;
    private final ComponentLog log;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong admitted = new AtomicLong();
    private final AtomicLong denied = new AtomicLong();
    private volatile VirtApi virtApi;
    private volatile FakePolicy policy = new FakePolicy(null);

    /** Listens on {@code listen} (port 0: a free one) in front of the mock at {@code backend}. */
    public SandboxFrontDoor(InetSocketAddress listen, InetSocketAddress backend, ComponentLog log) throws InterruptedException {
        this.backend = backend;
        this.log = log;
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast("http", new HttpServerCodec(8192, 65536, 8192))
                                .addLast("aggregator", new HttpObjectAggregator(8 << 20))
                                .addLast("front", new Front());
                    }
                });
        server = b.bind(listen).sync().channel();
        log.info("front door on " + address() + " -> fabric8 mock API server " + backend.getHostString() + ":"
                + backend.getPort() + " (HTTP relay; aggregation and admission once virt-api is known)");
    }

    /**
     * From now on: subresources go to virt-api at {@code address} with the front-proxy client certificate
     * ({@code frontProxyCert}/{@code frontProxyKey}), trusting {@code virtApiCa}; kubevirt.io writes are admitted by its
     * webhooks; SubjectAccessReviews are answered by the FAKE policy in {@code policyFile}.
     */
    public void aggregate(InetSocketAddress address, Path frontProxyCert, Path frontProxyKey, Path virtApiCa, Path policyFile)
            throws Exception {
        SslContext tls = SslContextBuilder.forClient().keyManager(frontProxyCert.toFile(), frontProxyKey.toFile())
                .trustManager(virtApiCa.toFile()).sslProvider(SslProvider.JDK).build();
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(virtApiCa)));
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        HttpClient hooks = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        policy = new FakePolicy(policyFile);
        virtApi = new VirtApi(address, tls, hooks);
        log.info("aggregation: " + SUBRESOURCES + " -> virt-api https://" + address.getHostString() + ":" + address.getPort()
                + " with the front-proxy client certificate; admission: kubevirt.io creates/updates through virt-api's webhooks"
                + " (failurePolicy Fail); SubjectAccessReviews answered by the FAKE policy (" + policyFile + ")");
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Connections accepted so far. */
    public long connections() {
        return connections.get();
    }

    /** Writes admitted and denied by the webhooks so far. */
    public long[] admissions() {
        return new long[] {admitted.get(), denied.get()};
    }

    // ---- the inbound side ----

    private final class Front extends ChannelInboundHandlerAdapter {
        private final ArrayDeque<FullHttpRequest> queue = new ArrayDeque<>();
        private boolean busy;
        private Channel mock;
        private Channel inbound;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            inbound = ctx.channel();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FullHttpRequest req)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (!req.decoderResult().isSuccess()) {
                req.release();
                respond(ctx.channel(), 400, status(400, "BadRequest", "malformed HTTP request"), false);
                return;
            }
            queue.add(req);
            next(ctx);
        }

        /** Serves the next queued request once the previous answer is complete (one at a time, in order). */
        private void next(ChannelHandlerContext ctx) {
            if (busy || queue.isEmpty()) {
                return;
            }
            busy = true;
            FullHttpRequest req = queue.poll();
            String path = new QueryStringDecoder(req.uri()).path();
            Identity who = Identity.of(req.headers().get(HttpHeaderNames.AUTHORIZATION));
            for (String h : new ArrayList<>(req.headers().names())) {
                if (h.regionMatches(true, 0, "X-Remote-", 0, 9)) {
                    req.headers().remove(h);
                }
            }
            VirtApi api = virtApi;
            if (path.equals(SUBRESOURCES) || path.startsWith(SUBRESOURCES + "/")) {
                if (api == null) {
                    req.release();
                    done(ctx, 503, status(503, "ServiceUnavailable", "the rig's virt-api is not started yet"), true);
                    return;
                }
                aggregate(ctx, req, who, api);
                return;
            }
            if (req.method().equals(HttpMethod.POST) && path.equals("/apis/authorization.k8s.io/v1/subjectaccessreviews")) {
                byte[] body = ByteBufUtil.getBytes(req.content());
                req.release();
                done(ctx, 201, policy.review(body, log), true);
                return;
            }
            Matcher m = KUBEVIRT_WRITE.matcher(path);
            boolean create = req.method().equals(HttpMethod.POST) && m.matches() && m.group(3) == null;
            boolean update = req.method().equals(HttpMethod.PUT) && m.matches() && m.group(3) != null;
            if (api != null && (create || update)) {
                FullHttpRequest r = req;
                String ns = m.group(1);
                String resource = m.group(2);
                String name = update ? m.group(3) : null;
                blocking.execute(() -> {
                    Outcome o;
                    try {
                        o = admit(api, r, who, ns, resource, name);
                    } catch (RuntimeException e) {
                        // failurePolicy: Fail, as qvirt's manifests register the webhooks.
                        log.warn("admission of " + r.method() + " " + r.uri() + " failed: " + e.getMessage());
                        o = new Outcome(500, status(500, "InternalError", "Internal error occurred: " + e.getMessage()));
                    }
                    Outcome fo = o;
                    ctx.executor().execute(() -> {
                        if (fo.code() != 0) {
                            r.release();
                            done(ctx, fo.code(), fo.body(), true);
                            return;
                        }
                        FullHttpRequest admittedReq = r.replace(Unpooled.wrappedBuffer(fo.body()));
                        r.release();
                        HttpUtil.setContentLength(admittedReq, fo.body().length);
                        toMock(ctx, admittedReq);
                    });
                });
                return;
            }
            toMock(ctx, req);
        }

        /** One answer is complete: the next request may go. */
        private void finished(ChannelHandlerContext ctx) {
            busy = false;
            ctx.executor().execute(() -> next(ctx));
        }

        private void done(ChannelHandlerContext ctx, int code, byte[] body, boolean keepAlive) {
            respond(ctx.channel(), code, body, keepAlive);
            finished(ctx);
        }

        // ---- to the mock ----

        private void toMock(ChannelHandlerContext ctx, FullHttpRequest req) {
            String up = req.headers().get(HttpHeaderNames.UPGRADE);
            if (up != null && up.toLowerCase().contains("h2c")) {
                req.headers().remove(HttpHeaderNames.UPGRADE).remove("HTTP2-Settings").remove(HttpHeaderNames.CONNECTION);
            }
            if (mock != null && mock.isActive()) {
                mock.writeAndFlush(req);
                return;
            }
            new Bootstrap().group(ctx.channel().eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(8192, 65536, 8192), new FromMock(ctx));
                        }
                    })
                    .connect(backend).addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            req.release();
                            log.warn("cannot reach the mock API server: " + f.cause());
                            done(ctx, 503, status(503, "ServiceUnavailable", "the rig's API server is not reachable"), false);
                            return;
                        }
                        mock = f.channel();
                        mock.writeAndFlush(req);
                    });
        }

        /** The mock's answer, streamed back as it comes (watches never end until one side closes). */
        private final class FromMock extends ChannelInboundHandlerAdapter {
            private final ChannelHandlerContext front;
            private boolean close;

            FromMock(ChannelHandlerContext front) {
                this.front = front;
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpResponse r && r.status().code() == 101 && inbound.isActive()) {
                    // A WebSocket (fabric8's watches): from here on both connections carry frames, relayed as bytes.
                    FullHttpResponse switching = new DefaultFullHttpResponse(r.protocolVersion(), r.status());
                    switching.headers().set(r.headers());
                    ReferenceCountUtil.release(msg);
                    inbound.writeAndFlush(switching);
                    inbound.pipeline().remove("aggregator");
                    inbound.pipeline().remove("http");
                    inbound.pipeline().replace("front", "relay", new Relay(ctx.channel()));
                    ctx.pipeline().replace(this, "relay", new Relay(inbound));
                    ctx.pipeline().remove(HttpClientCodec.class);
                    return;
                }
                if (msg instanceof HttpResponse r) {
                    close = !HttpUtil.isKeepAlive(r);
                }
                boolean last = msg instanceof LastHttpContent;
                if (!inbound.isActive()) {
                    ReferenceCountUtil.release(msg);
                    ctx.close();
                    return;
                }
                var w = inbound.writeAndFlush(msg);
                if (last) {
                    if (close) {
                        w.addListener(ChannelFutureListener.CLOSE);
                    } else {
                        finished(front);
                    }
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (busy && inbound.isActive()) {
                    inbound.close();
                }
                mock = null;
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        }

        // ---- to virt-api (aggregation) ----

        private void aggregate(ChannelHandlerContext ctx, FullHttpRequest req, Identity who, VirtApi api) {
            req.headers().set("X-Remote-User", who.user());
            for (String g : who.groups()) {
                req.headers().add("X-Remote-Group", g);
            }
            req.headers().remove(HttpHeaderNames.AUTHORIZATION);
            boolean upgrade = "websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.UPGRADE));
            if (!upgrade) {
                req.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            req.headers().set(HttpHeaderNames.HOST, api.address().getHostString() + ":" + api.address().getPort());
            new Bootstrap().group(ctx.channel().eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast("tls", api.aggregatorTls().newHandler(ch.alloc(),
                                    api.address().getHostString(), api.address().getPort()))
                                    .addLast("http", new HttpClientCodec())
                                    .addLast("aggregator", new HttpObjectAggregator(8 << 20))
                                    .addLast("from-virt-api", new FromVirtApi(ctx));
                        }
                    })
                    .connect(api.address()).addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            req.release();
                            log.warn("aggregation: cannot reach virt-api: " + f.cause());
                            done(ctx, 503, status(503, "ServiceUnavailable", "error trying to reach service: " + f.cause()), true);
                            return;
                        }
                        f.channel().writeAndFlush(req);
                    });
        }

        private final class FromVirtApi extends ChannelInboundHandlerAdapter {
            private final ChannelHandlerContext front;
            private boolean upgraded;

            FromVirtApi(ChannelHandlerContext front) {
                this.front = front;
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (upgraded || msg instanceof ByteBuf) {
                    inbound.writeAndFlush(msg);
                    return;
                }
                if (!(msg instanceof FullHttpResponse r)) {
                    ReferenceCountUtil.release(msg);
                    return;
                }
                if (r.status().code() == 101) {
                    // The console: from here on both connections carry WebSocket frames, relayed as bytes.
                    upgraded = true;
                    inbound.writeAndFlush(r);
                    inbound.pipeline().remove("aggregator");
                    inbound.pipeline().remove("http");
                    inbound.pipeline().replace("front", "relay", new Relay(ctx.channel()));
                    ctx.pipeline().remove("aggregator");
                    ctx.pipeline().remove("http");
                    inbound.config().setAutoRead(true);
                    return;
                }
                r.headers().remove(HttpHeaderNames.CONNECTION);
                inbound.writeAndFlush(r);
                ctx.close();
                finished(front);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (upgraded) {
                    inbound.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                log.warn("aggregation: virt-api connection failed: " + cause);
                if (!upgraded && inbound.isActive()) {
                    respond(inbound, 503, status(503, "ServiceUnavailable", "error trying to reach service: " + cause), false);
                }
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (mock != null) {
                mock.close();
            }
            FullHttpRequest r;
            while ((r = queue.poll()) != null) {
                r.release();
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Bytes one way, after an upgrade. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel to;

        Relay(Channel to) {
            this.to = to;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpObject && !(msg instanceof ByteBuf)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            to.writeAndFlush(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    // ---- admission ----

    /**
     * Runs the mutating then the validating webhook for a kubevirt.io create or update. Blocking (JDK client): runs
     * on the admission pool.
     */
    /** What admission decided: code 0 and the body to store, or the code and Status to answer. */
    record Outcome(int code, byte[] body) {
        static Outcome store(byte[] body) {
            return new Outcome(0, body);
        }
    }

    private Outcome admit(VirtApi api, FullHttpRequest req, Identity who, String ns, String resource, String name) {
        boolean vm = resource.equals("virtualmachines");
        String kind = vm ? "VirtualMachine" : "VirtualMachineInstance";
        JsonNode object;
        try {
            object = JSON.readTree(ByteBufUtil.getBytes(req.content()));
        } catch (java.io.IOException e) {
            return Outcome.store(ByteBufUtil.getBytes(req.content())); // not JSON: the store refuses it
        }
        if (object == null || !object.isObject()) {
            return Outcome.store(ByteBufUtil.getBytes(req.content()));
        }
        JsonNode old = null;
        if (name != null) {
            old = getFromMock(req.uri());
            if (old == null) {
                return Outcome.store(ByteBufUtil.getBytes(req.content())); // the store answers the update of a missing object
            }
        }
        String op = name == null ? "CREATE" : "UPDATE";
        String mutator = vm ? "/virtualmachines-mutate" : "/virtualmachineinstances-mutate";
        String validator = vm ? "/virtualmachines-validate"
                : name == null ? "/virtualmachineinstances-validate-create" : "/virtualmachineinstances-validate-update";
        String mutatorName = vm ? "virtualmachines-mutator.kubevirt.io" : "virtualmachineinstances-mutator.kubevirt.io";
        String validatorName = vm ? "virtualmachine-validator.kubevirt.io"
                : name == null ? "virtualmachineinstances-create-validator.kubevirt.io" : "virtualmachineinstances-update-validator.kubevirt.io";
        // KubeVirt registers the VMI mutator for creates only; the VM mutator for both.
        if (vm || name == null) {
            JsonNode resp = callWebhook(api, mutator, mutatorName, review(kind, resource, op, ns, who, object, old));
            if (!resp.path("allowed").asBoolean()) {
                return deny(req, mutatorName, resp);
            }
            if ("JSONPatch".equals(resp.path("patchType").asText())) {
                try {
                    JsonNode patch = JSON.readTree(Base64.getDecoder().decode(resp.path("patch").asText()));
                    object = io.fabric8.zjsonpatch.JsonPatch.apply(patch, object);
                } catch (Exception e) {
                    throw new IllegalStateException("webhook " + mutatorName + " sent a patch that does not apply: " + e, e);
                }
            }
        }
        JsonNode v = callWebhook(api, validator, validatorName, review(kind, resource, op, ns, who, object, old));
        if (!v.path("allowed").asBoolean()) {
            return deny(req, validatorName, v);
        }
        admitted.incrementAndGet();
        return Outcome.store(object.toString().getBytes(StandardCharsets.UTF_8));
    }

    private JsonNode getFromMock(String uri) {
        try {
            var r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                    HttpRequest.newBuilder(URI.create("http://" + backend.getHostString() + ":" + backend.getPort() + uri))
                            .timeout(Duration.ofSeconds(10)).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read the old object: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static ObjectNode review(String kind, String resource, String op, String ns, Identity who, JsonNode object, JsonNode old) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("apiVersion", "admission.k8s.io/v1");
        r.put("kind", "AdmissionReview");
        ObjectNode q = r.putObject("request");
        q.put("uid", java.util.UUID.randomUUID().toString());
        q.putObject("kind").put("group", "kubevirt.io").put("version", "v1").put("kind", kind);
        q.putObject("resource").put("group", "kubevirt.io").put("version", "v1").put("resource", resource);
        q.put("name", object.path("metadata").path("name").asText(""));
        q.put("namespace", ns);
        q.put("operation", op);
        ObjectNode u = q.putObject("userInfo");
        u.put("username", who.user());
        ArrayNode g = u.putArray("groups");
        who.groups().forEach(g::add);
        q.set("object", object);
        if (old != null) {
            q.set("oldObject", old);
        }
        q.put("dryRun", false);
        return r;
    }

    /** POSTs a review (10 s, as the manifests' timeoutSeconds); the response member. Failure is an exception (Fail). */
    private JsonNode callWebhook(VirtApi api, String path, String name, ObjectNode review) {
        try {
            var r = api.webhooks().send(HttpRequest.newBuilder(URI.create("https://" + api.address().getHostString() + ":"
                            + api.address().getPort() + path)).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(review.toString())).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("webhook " + name + " answered " + r.statusCode() + ": "
                        + new String(r.body(), StandardCharsets.UTF_8));
            }
            return JSON.readTree(r.body()).path("response");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("failed calling webhook \"" + name + "\": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** kube-apiserver's answer to a denial: the webhook's status, its message prefixed with the webhook's name. */
    private Outcome deny(FullHttpRequest req, String webhook, JsonNode resp) {
        denied.incrementAndGet();
        JsonNode s = resp.path("status");
        int code = s.path("code").asInt(400);
        ObjectNode st = JsonNodeFactory.instance.objectNode();
        st.put("kind", "Status");
        st.put("apiVersion", "v1");
        st.putObject("metadata");
        st.put("status", "Failure");
        st.put("message", "admission webhook \"" + webhook + "\" denied the request: " + s.path("message").asText());
        if (s.has("reason")) {
            st.put("reason", s.path("reason").asText());
        }
        if (s.has("details")) {
            st.set("details", s.get("details"));
        }
        st.put("code", code);
        log.info("admission: " + req.method() + " " + req.uri() + " denied by " + webhook + ": " + s.path("message").asText());
        return new Outcome(code, st.toString().getBytes(StandardCharsets.UTF_8));
    }

    // ---- helpers ----

    private static void respond(Channel ch, int code, byte[] body, boolean keepAlive) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code), Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        var f = ch.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    static byte[] status(int code, String reason, String message) {
        ObjectNode st = JsonNodeFactory.instance.objectNode();
        st.put("kind", "Status");
        st.put("apiVersion", "v1");
        st.putObject("metadata");
        st.put("status", "Failure");
        st.put("message", message);
        st.put("reason", reason);
        st.put("code", code);
        return st.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Who the caller is (FAKE authentication: the kubeconfig's tokens). */
    record Identity(String user, List<String> groups) {
        static Identity of(String authorization) {
            if (authorization != null && authorization.startsWith("Bearer ")) {
                Identity i = FakePolicy.USERS.get(authorization.substring(7).trim());
                if (i != null) {
                    return i;
                }
            }
            return new Identity("system:anonymous", List.of("system:unauthenticated"));
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        blocking.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        log.info("front door closed after " + connections.get() + " connections; admission: " + admitted.get() + " admitted, "
                + denied.get() + " denied");
    }
}
