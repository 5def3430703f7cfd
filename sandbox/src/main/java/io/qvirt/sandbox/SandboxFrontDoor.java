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
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
 * JSON Patch applied), then its validating one (VirtualMachineInstanceMigrations and the cluster-scoped
 * {@code migrations.kubevirt.io} MigrationPolicies: the validating one only, as KubeVirt registers them); a denial is answered as kube-apiserver answers it (a Status whose
 * message names the webhook and the field) and nothing reaches the store. A PATCH of such an object is admitted as
 * kube-apiserver admits it, as the update it makes: the door reads the object, applies the patch (JSON merge, JSON
 * Patch, or a strategic merge without lists), runs the webhooks on the result with the stored object as the old one,
 * and writes the admitted object back guarded by the read's resourceVersion (again on a conflict). Status
 * subresource writes are not admitted (KubeVirt's webhooks do not ask for them).</li>
 * <li><b>Eviction</b> ({@code POST .../pods/NAME/eviction}, which the mock lacks): virt-api's
 *     {@value #EVICTION_WEBHOOK} decides (a launcher pod whose VMI live-migrates instead is refused with its 429), else
 *     the pod is deleted and the answer is 201, as kube-apiserver without PodDisruptionBudgets.</li>
 * <li><b>SubjectAccessReviews (FAKE)</b>: the mock has no authorizer, so {@code POST
 * /apis/authorization.k8s.io/v1/subjectaccessreviews} is answered here by {@link FakePolicy}.</li>
 * <li><b>kubectl's view</b> (what kube-apiserver serves itself and the mock does not, derived from the CRDs the mock
 * holds): discovery ({@code /api}, {@code /api/v1}, {@code /apis}, {@code /apis/G[/V]}: {@link ApiDiscovery}),
 * {@code /version}, OpenAPI ({@link OpenApiDocs}), {@code Table} answers to {@code Accept: ...;as=Table} GETs and
 * watches ({@link PrinterTable}), {@code fieldValidation=Strict} for custom resources ({@link StrictFields}), and
 * client-go's chunked-HTTP watches bridged to the mock's WebSocket watches, filtered by metadata.name/namespace
 * ({@link WatchBridge}); the mock's bodiless 404 of a named object answered as kube-apiserver's NotFound Status; a
 * strategic merge patch without lists or directives passed on as the JSON merge patch it equals (the mock takes
 * none); a merge patch with a null applied here (the mock would store the null).</li>
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
            "/apis/kubevirt\\.io/v1(?:alpha3)?/namespaces/([^/]+)/(virtualmachines|virtualmachineinstances|virtualmachineinstancemigrations)"
                    + "(?:/([^/]+))?");
    /** KubeVirt's cluster-scoped MigrationPolicies, admitted by virt-api's migration-policy-validator. */
    private static final Pattern POLICY_WRITE = Pattern.compile(
            "/apis/migrations\\.kubevirt\\.io/v1alpha1/(migrationpolicies)(?:/([^/]+))?");
    private static final Pattern EVICTION = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/]+)/eviction");
    /** virt-api's validating webhook on pods/eviction, as KubeVirt registers it (failurePolicy Fail). */
    static final String EVICTION_WEBHOOK = "virt-launcher-eviction-interceptor.kubevirt.io";
    static final String EVICTION_WEBHOOK_PATH = "/pod-eviction-validate";
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
    /** The front door's own reads of the mock (old objects for admission, CRDs, tables); used on the admission pool. */
    private final HttpClient mockClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
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
        private WatchBridge watch;
        /** The Status for a 404 of the request at the mock, when it names an object (one request at a time). */
        private byte[] notFound;

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
            if (req.method().equals(HttpMethod.GET) && servedHere(path)) {
                blocking.execute(() -> {
                    Answer a = kubectlDocument(path);
                    req.release();
                    ctx.executor().execute(() -> done(ctx, a.code(), a.body(), a.contentType(), true));
                });
                return;
            }
            QueryStringDecoder query = new QueryStringDecoder(req.uri());
            Matcher rp = RESOURCE_PATH.matcher(path);
            // fabric8's watches are WebSockets (relayed as they are); client-go's are chunked HTTP, which the mock lacks.
            if (req.method().equals(HttpMethod.GET) && rp.matches() && isWatch(query)
                    && !"websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.UPGRADE))) {
                watch(ctx, req, query, rp);
                return;
            }
            String accept = req.headers().get(HttpHeaderNames.ACCEPT, "");
            if (req.method().equals(HttpMethod.GET) && rp.matches() && accept.contains("as=Table") && rp.group(7) == null) {
                blocking.execute(() -> {
                    Answer a = table(req.uri(), rp);
                    req.release();
                    ctx.executor().execute(() -> done(ctx, a.code(), a.body(), a.contentType(), true));
                });
                return;
            }
            if (rp.matches() && req.method().equals(HttpMethod.PATCH) && req.headers().get(HttpHeaderNames.CONTENT_TYPE, "")
                    .startsWith(STRATEGIC_MERGE_PATCH)) {
                // kubectl apply patches built-in kinds so; the mock refuses it (415). Without lists or $directives a
                // strategic merge patch means what a JSON merge patch means, so it goes on as one.
                String refusal = strategicAsMerge(req);
                if (refusal != null) {
                    req.release();
                    done(ctx, 415, status(415, "UnsupportedMediaType", refusal), true);
                    return;
                }
            }
            boolean strict = rp.matches() && "Strict".equals(first(query, "fieldValidation")) && (req.method().equals(HttpMethod.POST)
                    || req.method().equals(HttpMethod.PUT) || req.method().equals(HttpMethod.PATCH));
            // The mock stores a merge patch's null instead of removing the field: such a patch is applied here.
            boolean nullMerge = rp.matches() && rp.group(6) != null && req.method().equals(HttpMethod.PATCH)
                    && req.headers().get(HttpHeaderNames.CONTENT_TYPE, "").startsWith(MERGE_PATCH) && hasNull(req);
            // A kubevirt.io VM or VMI patched once virt-api is known: admitted as the update it makes, applied here.
            WriteTarget kw = writeTarget(path);
            boolean admitPatch = api != null && req.method().equals(HttpMethod.PATCH) && kw != null && kw.name() != null;
            if (strict || nullMerge || admitPatch) {
                blocking.execute(() -> {
                    Answer answer = strict ? strictFields(req, rp) : null;
                    if (answer == null && (nullMerge || admitPatch)) {
                        answer = applyPatch(req, admitPatch ? new PatchAdmission(api, who, kw.namespace(), kw.resource(), kw.name()) : null);
                    }
                    Answer fa = answer;
                    ctx.executor().execute(() -> {
                        if (fa != null) {
                            req.release();
                            done(ctx, fa.code(), fa.body(), fa.contentType(), true);
                        } else {
                            admitOrRelay(ctx, req, who, path, api);
                        }
                    });
                });
                return;
            }
            admitOrRelay(ctx, req, who, path, api);
        }

        /** kubevirt.io creates and updates through virt-api's webhooks (once it is known), everything else to the mock. */
        private void admitOrRelay(ChannelHandlerContext ctx, FullHttpRequest req, Identity who, String path, VirtApi api) {
            Matcher ev = EVICTION.matcher(path);
            if (api != null && req.method().equals(HttpMethod.POST) && ev.matches()) {
                FullHttpRequest r = req;
                blocking.execute(() -> {
                    Outcome o;
                    try {
                        o = evict(api, r, who, ev.group(1), ev.group(2));
                    } catch (RuntimeException e) {
                        log.warn("eviction " + r.uri() + " failed: " + e.getMessage());
                        o = new Outcome(500, status(500, "InternalError", "Internal error occurred: " + e.getMessage()));
                    } finally {
                        r.release();
                    }
                    Outcome fo = o;
                    ctx.executor().execute(() -> done(ctx, fo.code(), fo.body(), true));
                });
                return;
            }
            WriteTarget m = writeTarget(path);
            boolean create = req.method().equals(HttpMethod.POST) && m != null && m.name() == null;
            boolean update = req.method().equals(HttpMethod.PUT) && m != null && m.name() != null;
            if (api != null && (create || update)) {
                FullHttpRequest r = req;
                String ns = m.namespace();
                String resource = m.resource();
                String name = update ? m.name() : null;
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

        /**
         * A client-go watch (chunked HTTP) on a resource, bridged to the mock's WebSocket watch: events filtered by the
         * request's metadata.name/metadata.namespace field selector (the mock's WebSocket watch may not filter), as
         * Table rows when the client asks for Tables; a single-object watch from a resourceVersion is caught up once
         * (the mock does not replay from a resourceVersion), so an object deleted between kubectl's list and its watch
         * is seen deleted.
         */
        private void watch(ChannelHandlerContext ctx, FullHttpRequest req, QueryStringDecoder query, Matcher rp) {
            String uri = req.uri();
            boolean asTable = req.headers().get(HttpHeaderNames.ACCEPT, "").contains("as=Table");
            req.release();
            String group = rp.group(1) != null ? "" : rp.group(2);
            String version = rp.group(1) != null ? "v1" : rp.group(3);
            String ns = rp.group(4);
            String plural = rp.group(5);
            String name = rp.group(6);
            String nsTerm = ns;
            for (String term : first(query, "fieldSelector") == null ? new String[0] : first(query, "fieldSelector").split(",")) {
                String[] kv = term.split("==?", 2);
                if (kv.length == 2 && kv[0].trim().equals("metadata.name")) {
                    name = kv[1].trim();
                } else if (kv.length == 2 && kv[0].trim().equals("metadata.namespace")) {
                    nsTerm = kv[1].trim();
                }
            }
            String objectName = name;
            String objectNs = nsTerm;
            String sinceVersion = first(query, "resourceVersion");
            blocking.execute(() -> {
                List<PrinterTable.Column> columns;
                ApiDiscovery.ApiResource resource;
                try {
                    JsonNode crds = crds();
                    columns = asTable ? PrinterTable.columns(crdFor(crds, group, plural), version, plural) : null;
                    resource = ApiDiscovery.find(ApiDiscovery.all(crds), group, version, plural);
                } catch (RuntimeException e) {
                    ctx.executor().execute(() -> done(ctx, 503, status(503, "ServiceUnavailable", e.getMessage()), true));
                    return;
                }
                ctx.executor().execute(() -> openWatch(ctx, uri, new WatchBridge.Request(objectName, objectNs,
                        columns == null ? o -> o : o -> PrinterTable.table(columns, List.of(o), null, java.time.Instant.now())),
                        resource, group, version, objectNs, plural, sinceVersion, first(query, "timeoutSeconds")));
            });
        }

        private void openWatch(ChannelHandlerContext ctx, String uri, WatchBridge.Request request, ApiDiscovery.ApiResource resource,
                String group, String version, String ns, String plural, String sinceVersion, String timeoutSeconds) {
            if (!inbound.isActive()) {
                finished(ctx);
                return;
            }
            WatchBridge bridge = new WatchBridge(inbound, request, b -> {
                if (request.fieldName() != null && sinceVersion != null && !sinceVersion.isEmpty() && resource != null
                        && (ns != null || !resource.namespaced())) {
                    String objectUri = (group.isEmpty() ? "/api/v1" : "/apis/" + group + "/" + version)
                            + (resource.namespaced() ? "/namespaces/" + ns : "") + "/" + plural + "/" + request.fieldName();
                    blocking.execute(() -> {
                        ObjectNode event = catchUpEvent(objectUri, resource, request.fieldName(), ns, sinceVersion);
                        if (event != null) {
                            ctx.executor().execute(() -> b.catchUp(event));
                        }
                    });
                }
            }, complete -> {
                watch = null;
                if (complete) {
                    finished(ctx);
                } else {
                    done(ctx, 503, status(503, "ServiceUnavailable", "the rig's API server did not open the watch"), false);
                }
            });
            watch = bridge;
            new Bootstrap().group(ctx.channel().eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(8192, 65536, 8192), new HttpObjectAggregator(1 << 20),
                                    new WebSocketClientProtocolHandler(WatchBridge.handshaker(backend, uri)),
                                    new WebSocketFrameAggregator(16 << 20), bridge);
                        }
                    })
                    .connect(backend).addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            bridge.end();
                        }
                    });
            if (timeoutSeconds != null && timeoutSeconds.matches("\\d{1,9}") && Long.parseLong(timeoutSeconds) > 0) {
                ctx.executor().schedule(bridge::end, Long.parseLong(timeoutSeconds), TimeUnit.SECONDS);
            }
        }

        /** One answer is complete: the next request may go. */
        private void finished(ChannelHandlerContext ctx) {
            busy = false;
            ctx.executor().execute(() -> next(ctx));
        }

        private void done(ChannelHandlerContext ctx, int code, byte[] body, boolean keepAlive) {
            done(ctx, code, body, "application/json", keepAlive);
        }

        private void done(ChannelHandlerContext ctx, int code, byte[] body, String contentType, boolean keepAlive) {
            respond(ctx.channel(), code, body, contentType, keepAlive);
            finished(ctx);
        }

        // ---- to the mock ----

        private void toMock(ChannelHandlerContext ctx, FullHttpRequest req) {
            notFound = notFoundStatus(new QueryStringDecoder(req.uri()).path());
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
            private boolean replacing;

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
                    // The mock's 404 of a named object has no body; kubectl prints kube-apiserver's Status instead.
                    replacing = r.status().code() == 404 && notFound != null && HttpUtil.getContentLength(r, -1L) == 0;
                }
                boolean last = msg instanceof LastHttpContent;
                if (replacing) {
                    ReferenceCountUtil.release(msg);
                    if (last) {
                        replacing = false;
                        respond(inbound, 404, notFound, !close);
                        if (close) {
                            ctx.close();
                        } else {
                            finished(front);
                        }
                    }
                    return;
                }
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
            if (watch != null) {
                watch.end();
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

    // ---- kubectl's surface: discovery, OpenAPI, Tables, strict field validation ----

    /** A resource request: 1 core version, or 2 group and 3 version; 4 namespace, 5 plural, 6 name, 7 subresource. */
    static final Pattern RESOURCE_PATH = Pattern.compile(
            "/(?:api/(v1)|apis/([^/]+)/([^/]+))(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?(?:/([^/]+))?");
    private static final Pattern DISCOVERY_GROUP = Pattern.compile("/apis/([^/]+)(?:/([^/]+))?/?");
    private static final Duration CRD_CACHE = Duration.ofSeconds(1);

    /** What the front door answers itself: a status, a body, its content type. */
    record Answer(int code, byte[] body, String contentType) {
        static Answer json(int code, JsonNode body) {
            return new Answer(code, body.toString().getBytes(StandardCharsets.UTF_8), "application/json");
        }

        static Answer notFound() {
            return new Answer(404, status(404, "NotFound", "the server could not find the requested resource"), "application/json");
        }
    }

    private volatile JsonNode crdCache;
    private volatile long crdCacheAt;

    /** The documents answered here rather than by the mock (which answers these paths with a list of everything). */
    static boolean servedHere(String path) {
        return path.equals("/version") || path.equals("/api") || path.equals("/api/v1") || path.equals("/apis")
                || path.equals("/openapi/v2") || path.equals("/openapi/v3") || path.startsWith("/openapi/v3/")
                || DISCOVERY_GROUP.matcher(path).matches();
    }

    static final String STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
    static final String MERGE_PATCH = "application/merge-patch+json";
    private static final int MERGE_ATTEMPTS = 5;

    private static boolean hasNull(FullHttpRequest req) {
        try {
            JsonNode patch = JSON.readTree(ByteBufUtil.getBytes(req.content()));
            return patch != null && patch.isObject() && containsNull(patch);
        } catch (java.io.IOException e) {
            return false; // not JSON: the mock refuses it
        }
    }

    private static boolean containsNull(JsonNode n) {
        for (JsonNode c : n) {
            if (c.isNull() || (c.isObject() && containsNull(c))) {
                return true;
            }
        }
        return false;
    }

    /** RFC 7386: {@code patch} merged into (a copy of) {@code target}; a null removes the field. */
    static JsonNode mergePatch(JsonNode target, JsonNode patch) {
        if (!patch.isObject()) {
            return patch;
        }
        ObjectNode out = target != null && target.isObject() ? ((ObjectNode) target).deepCopy() : JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getValue().isNull()) {
                out.remove(f.getKey());
            } else {
                out.set(f.getKey(), mergePatch(out.get(f.getKey()), f.getValue()));
            }
        }
        return out;
    }

    static final String JSON_PATCH = "application/json-patch+json";

    /** Who patches which kubevirt.io object, for the webhooks. */
    private record PatchAdmission(VirtApi api, Identity who, String namespace, String resource, String name) {
    }

    /** An object write virt-api admits: namespace ("" for cluster-scoped), resource, name (null for a create). */
    private record WriteTarget(String namespace, String resource, String name) {
    }

    private static WriteTarget writeTarget(String path) {
        Matcher k = KUBEVIRT_WRITE.matcher(path);
        if (k.matches()) {
            return new WriteTarget(k.group(1), k.group(2), k.group(3));
        }
        Matcher p = POLICY_WRITE.matcher(path);
        return p.matches() ? new WriteTarget("", p.group(1), p.group(2)) : null;
    }

    /**
     * A PATCH applied as kube-apiserver applies it: read, patch (a JSON Patch, else a JSON merge patch, RFC 7386, where a
     * null removes the field), admitted as an update when {@code admission} is given, and written back guarded by the
     * read's resourceVersion, again on a conflict (at most {@value #MERGE_ATTEMPTS} times). A resourceVersion the patch
     * itself sets is a precondition, as kube-apiserver's: a stale one is answered 409. Blocking.
     */
    private Answer applyPatch(FullHttpRequest req, PatchAdmission admission) {
        String path = new QueryStringDecoder(req.uri()).path();
        String base = "http://" + backend.getHostString() + ":" + backend.getPort();
        boolean jsonPatch = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "").startsWith(JSON_PATCH);
        try {
            JsonNode patch = JSON.readTree(ByteBufUtil.getBytes(req.content()));
            if (patch == null || (jsonPatch ? !patch.isArray() : !patch.isObject())) {
                return new Answer(400, status(400, "BadRequest", "the patch is not a JSON " + (jsonPatch ? "array" : "object")),
                        "application/json");
            }
            for (int attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
                var cur = mockClient.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                        .header("Accept", "application/json").GET().build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                if (cur.statusCode() == 404 && cur.body().length == 0 && notFoundStatus(path) != null) {
                    return new Answer(404, notFoundStatus(path), "application/json");
                }
                if (cur.statusCode() != 200) {
                    return new Answer(cur.statusCode(), cur.body(), "application/json");
                }
                JsonNode current = JSON.readTree(cur.body());
                JsonNode patched;
                if (jsonPatch) {
                    try {
                        patched = io.fabric8.zjsonpatch.JsonPatch.apply(patch, current);
                    } catch (RuntimeException e) {
                        return new Answer(422, status(422, "Invalid", "the JSON patch does not apply: " + e.getMessage()), "application/json");
                    }
                } else {
                    patched = mergePatch(current, patch);
                }
                if (!patched.isObject()) {
                    return new Answer(422, status(422, "Invalid", "the patch does not leave an object"), "application/json");
                }
                // kube-apiserver takes a resourceVersion the patch sets as a precondition: a stale one is a conflict (the
                // writer re-reads and recomputes), never overwritten by the stored one, which would lose the other write.
                String wanted = patched.path("metadata").path("resourceVersion").asText("");
                String stored = current.path("metadata").path("resourceVersion").asText("");
                if (!wanted.isEmpty() && !wanted.equals(stored)) {
                    return new Answer(409, status(409, "Conflict", "Operation cannot be fulfilled on "
                            + path.replaceFirst(".*/([^/]+)/([^/]+)$", "$1 \"$2\"") + ": the object has been modified; "
                            + "please apply your changes to the latest version and try again"), "application/json");
                }
                ((ObjectNode) patched).withObject("/metadata").set("resourceVersion", current.path("metadata").path("resourceVersion"));
                byte[] body = patched.toString().getBytes(StandardCharsets.UTF_8);
                if (admission != null) {
                    Outcome o;
                    try {
                        o = admitObject(admission.api(), req.method() + " " + req.uri(), admission.who(), admission.namespace(),
                                admission.resource(), "UPDATE", patched, current);
                    } catch (RuntimeException e) {
                        // failurePolicy: Fail, as qvirt's manifests register the webhooks.
                        log.warn("admission of " + req.method() + " " + req.uri() + " failed: " + e.getMessage());
                        return new Answer(500, status(500, "InternalError", "Internal error occurred: " + e.getMessage()), "application/json");
                    }
                    if (o.code() != 0) {
                        return new Answer(o.code(), o.body(), "application/json");
                    }
                    body = o.body();
                }
                var put = mockClient.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                if (put.statusCode() != 409) {
                    return new Answer(put.statusCode(), put.body(), "application/json");
                }
            }
            return new Answer(409, status(409, "Conflict", "the object changed under each of " + MERGE_ATTEMPTS
                    + " attempts to apply the patch; try again"), "application/json");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return new Answer(400, status(400, "BadRequest", "the patch is not JSON: " + e.getOriginalMessage()), "application/json");
        } catch (java.io.IOException | RuntimeException e) {
            return new Answer(503, status(503, "ServiceUnavailable", "cannot apply the patch: " + e.getMessage()), "application/json");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(503, status(503, "ServiceUnavailable", "interrupted"), "application/json");
        }
    }

    /**
     * Turns a strategic merge patch without lists or {@code $} directives into the JSON merge patch it equals (content
     * type changed, body kept): null if done, else why it cannot go to the mock.
     */
    static String strategicAsMerge(FullHttpRequest req) {
        JsonNode patch;
        try {
            patch = JSON.readTree(ByteBufUtil.getBytes(req.content()));
        } catch (java.io.IOException e) {
            return "the strategic merge patch is not JSON: " + e.getMessage();
        }
        String why = patch != null && patch.isObject() ? listOrDirective(patch, "") : "the strategic merge patch is not a JSON object";
        if (why != null) {
            return "the rig's API server (fabric8's mock, NOT a kube-apiserver) applies no strategic merge patch, and this one "
                    + why + ", which only a strategic merge can apply; use kubectl replace, or kubectl patch --type merge";
        }
        req.headers().set(HttpHeaderNames.CONTENT_TYPE, MERGE_PATCH);
        return null;
    }

    private static String listOrDirective(JsonNode node, String path) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            String p = path.isEmpty() ? f.getKey() : path + "." + f.getKey();
            if (f.getKey().startsWith("$")) {
                return "has the directive " + p;
            }
            if (f.getValue().isArray()) {
                return "changes the list " + p;
            }
            if (f.getValue().isObject()) {
                String why = listOrDirective(f.getValue(), p);
                if (why != null) {
                    return why;
                }
            }
        }
        return null;
    }

    /** kube-apiserver's 404 for a path naming an object ({@code virtualmachines.kubevirt.io "x" not found}), else null. */
    static byte[] notFoundStatus(String path) {
        Matcher rp = RESOURCE_PATH.matcher(path);
        if (!rp.matches() || rp.group(6) == null) {
            return null;
        }
        String group = rp.group(1) != null ? "" : rp.group(2);
        String resource = group.isEmpty() ? rp.group(5) : rp.group(5) + "." + group;
        ObjectNode st = (ObjectNode) JSON.createObjectNode();
        st.put("kind", "Status");
        st.put("apiVersion", "v1");
        st.putObject("metadata");
        st.put("status", "Failure");
        st.put("message", resource + " \"" + rp.group(6) + "\" not found");
        st.put("reason", "NotFound");
        st.putObject("details").put("name", rp.group(6)).put("group", group).put("kind", rp.group(5));
        st.put("code", 404);
        return st.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static boolean isWatch(QueryStringDecoder q) {
        String w = first(q, "watch");
        return "true".equals(w) || "1".equals(w);
    }

    private static String first(QueryStringDecoder q, String name) {
        List<String> v = q.parameters().get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** The mock's CRDs, at most a second old. Blocking: call on the admission pool. */
    private JsonNode crds() {
        JsonNode c = crdCache;
        long now = System.nanoTime();
        if (c != null && now - crdCacheAt < CRD_CACHE.toNanos()) {
            return c;
        }
        JsonNode fresh = getFromMock("/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
        if (fresh == null) {
            throw new IllegalStateException("the rig's API server did not list its CustomResourceDefinitions");
        }
        crdCache = fresh;
        crdCacheAt = now;
        return fresh;
    }

    static JsonNode crdFor(JsonNode crds, String group, String plural) {
        for (JsonNode crd : crds.path("items")) {
            if (crd.path("spec").path("group").asText().equals(group) && crd.path("spec").path("names").path("plural").asText().equals(plural)) {
                return crd;
            }
        }
        return null;
    }

    /** Discovery, version and OpenAPI documents ({@link #servedHere}). Blocking (reads the CRDs). */
    private Answer kubectlDocument(String path) {
        try {
            if (path.equals("/version")) {
                return Answer.json(200, ApiDiscovery.version());
            }
            if (path.equals("/openapi/v2")) {
                // kube-openapi labels it so too: Go's mime parser refuses the "@" of the protobuf media type kubectl asks for.
                return new Answer(200, OpenApiDocs.v2EmptyProtobuf(), "application/octet-stream");
            }
            JsonNode crds = crds();
            List<ApiDiscovery.ApiResource> all = ApiDiscovery.all(crds);
            boolean aggregated = virtApi != null;
            JsonNode doc;
            if (path.equals("/api")) {
                doc = ApiDiscovery.apiVersions(address().getHostString() + ":" + address().getPort());
            } else if (path.equals("/api/v1")) {
                doc = ApiDiscovery.resourceList(all, "", "v1");
            } else if (path.equals("/apis")) {
                doc = ApiDiscovery.apiGroupList(all, aggregated);
            } else if (path.equals("/openapi/v3")) {
                doc = OpenApiDocs.v3Root(crds);
            } else if (path.startsWith("/openapi/v3/")) {
                doc = OpenApiDocs.v3Document(crds, path.substring("/openapi/v3/".length()));
            } else {
                Matcher g = DISCOVERY_GROUP.matcher(path);
                g.matches();
                doc = g.group(2) == null ? ApiDiscovery.apiGroup(all, aggregated, g.group(1))
                        : ApiDiscovery.resourceList(all, g.group(1), g.group(2));
            }
            return doc == null ? Answer.notFound() : Answer.json(200, doc);
        } catch (RuntimeException e) {
            log.warn("kubectl document " + path + ": " + e.getMessage());
            return new Answer(503, status(503, "ServiceUnavailable", e.getMessage()), "application/json");
        }
    }

    /** A GET answered as a Table: the mock's answer, its items as rows. Blocking. */
    private Answer table(String uri, Matcher rp) {
        try {
            var r = mockClient.send(HttpRequest.newBuilder(URI.create("http://" + backend.getHostString() + ":" + backend.getPort() + uri))
                    .timeout(Duration.ofSeconds(10)).header("Accept", "application/json").GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            byte[] notFound = notFoundStatus(new QueryStringDecoder(uri).path());
            if (r.statusCode() == 404 && r.body().length == 0 && notFound != null) {
                return new Answer(404, notFound, "application/json");
            }
            if (r.statusCode() != 200) {
                return new Answer(r.statusCode(), r.body(), "application/json");
            }
            JsonNode body = JSON.readTree(r.body());
            String group = rp.group(1) != null ? "" : rp.group(2);
            String version = rp.group(1) != null ? "v1" : rp.group(3);
            List<PrinterTable.Column> columns = PrinterTable.columns(crdFor(crds(), group, rp.group(5)), version, rp.group(5));
            List<JsonNode> items = new ArrayList<>();
            if (rp.group(6) == null && body.path("items").isArray()) {
                body.path("items").forEach(items::add);
            } else {
                items.add(body);
            }
            JsonNode rv = body.path("metadata").path("resourceVersion");
            return Answer.json(200, PrinterTable.table(columns, items, rv.isTextual() ? rv.asText() : null, java.time.Instant.now()));
        } catch (java.io.IOException | RuntimeException e) {
            log.warn("table for " + uri + ": " + e);
            return new Answer(503, status(503, "ServiceUnavailable", "cannot build the table: " + e.getMessage()), "application/json");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(503, status(503, "ServiceUnavailable", "interrupted"), "application/json");
        }
    }

    /**
     * {@code fieldValidation=Strict} on a create, update or merge patch of a custom resource: null when the body has
     * no field its CRD's schema leaves undeclared (or the kind is built-in, or the patch is not a merge patch), else
     * kube-apiserver's 400. Blocking.
     */
    private Answer strictFields(FullHttpRequest req, Matcher rp) {
        try {
            String group = rp.group(1) != null ? "" : rp.group(2);
            String version = rp.group(1) != null ? "v1" : rp.group(3);
            JsonNode crd = crdFor(crds(), group, rp.group(5));
            if (crd == null) {
                return null;
            }
            if (req.method().equals(HttpMethod.PATCH)
                    && !req.headers().get(HttpHeaderNames.CONTENT_TYPE, "").startsWith("application/merge-patch+json")) {
                return null;
            }
            JsonNode schema = null;
            for (JsonNode v : crd.path("spec").path("versions")) {
                if (v.path("name").asText().equals(version)) {
                    schema = v.path("schema").path("openAPIV3Schema");
                }
            }
            JsonNode body;
            try {
                body = JSON.readTree(ByteBufUtil.getBytes(req.content()));
            } catch (java.io.IOException e) {
                return null; // not JSON: the store refuses it
            }
            if (schema == null || body == null || !body.isObject()) {
                return null;
            }
            List<String> unknown = StrictFields.unknown(body, schema);
            if (unknown.isEmpty()) {
                return null;
            }
            String kind = crd.path("spec").path("names").path("kind").asText();
            log.info("strict field validation: " + req.method() + " " + req.uri() + " refused: unknown " + unknown);
            return new Answer(400, status(400, "BadRequest", StrictFields.message(kind, version, unknown)), "application/json");
        } catch (RuntimeException e) {
            return new Answer(503, status(503, "ServiceUnavailable", e.getMessage()), "application/json");
        }
    }

    /** The event that catches a single-object watch up from {@code since}: DELETED if gone, MODIFIED if newer, else null. */
    private ObjectNode catchUpEvent(String objectUri, ApiDiscovery.ApiResource resource, String name, String ns, String since) {
        try {
            JsonNode now = getFromMock(objectUri);
            ObjectNode event = JsonNodeFactory.instance.objectNode();
            if (now == null) {
                ObjectNode gone = JsonNodeFactory.instance.objectNode();
                gone.put("apiVersion", resource.groupVersion()).put("kind", resource.kind());
                ObjectNode meta = gone.putObject("metadata").put("name", name).put("resourceVersion", since);
                if (ns != null && resource.namespaced()) {
                    meta.put("namespace", ns);
                }
                event.put("type", "DELETED");
                event.set("object", gone);
                return event;
            }
            if (!since.equals(now.path("metadata").path("resourceVersion").asText())) {
                event.put("type", "MODIFIED");
                event.set("object", now);
                return event;
            }
            return null;
        } catch (RuntimeException e) {
            log.warn("watch catch-up of " + objectUri + ": " + e.getMessage());
            return null;
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
        return admitObject(api, req.method() + " " + req.uri(), who, ns, resource, name == null ? "CREATE" : "UPDATE", object, old);
    }

    /** The webhooks on {@code object} ({@code old}: the stored object of an UPDATE). Blocking; a failed call throws. */
    private Outcome admitObject(VirtApi api, String request, Identity who, String ns, String resource, String op, JsonNode object,
            JsonNode old) {
        boolean vm = resource.equals("virtualmachines");
        String name = op.equals("CREATE") ? null : old.path("metadata").path("name").asText();
        if (resource.equals("migrationpolicies")) {
            String validatorName = "migration-policy-validator.kubevirt.io";
            ObjectNode r = review("MigrationPolicy", resource, op, ns, who, object, old);
            ObjectNode q = (ObjectNode) r.path("request");
            q.putObject("kind").put("group", "migrations.kubevirt.io").put("version", "v1alpha1").put("kind", "MigrationPolicy");
            q.putObject("resource").put("group", "migrations.kubevirt.io").put("version", "v1alpha1").put("resource", resource);
            q.remove("namespace");
            JsonNode v = callWebhook(api, "/migration-policy-validate-create", validatorName, r);
            if (!v.path("allowed").asBoolean()) {
                return deny(request, validatorName, v);
            }
            admitted.incrementAndGet();
            return Outcome.store(object.toString().getBytes(StandardCharsets.UTF_8));
        }
        if (resource.equals("virtualmachineinstancemigrations")) {
            // KubeVirt registers no mutator for migrations; one validator per operation.
            String path = name == null ? "/migration-validate-create" : "/migration-validate-update";
            String validatorName = name == null ? "migration-create-validator.kubevirt.io" : "migration-update-validator.kubevirt.io";
            JsonNode v = callWebhook(api, path, validatorName,
                    review("VirtualMachineInstanceMigration", resource, op, ns, who, object, old));
            if (!v.path("allowed").asBoolean()) {
                return deny(request, validatorName, v);
            }
            admitted.incrementAndGet();
            return Outcome.store(object.toString().getBytes(StandardCharsets.UTF_8));
        }
        String kind = vm ? "VirtualMachine" : "VirtualMachineInstance";
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
                return deny(request, mutatorName, resp);
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
            return deny(request, validatorName, v);
        }
        admitted.incrementAndGet();
        return Outcome.store(object.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * kube-apiserver's eviction subresource, as far as the rig needs it: virt-api's eviction webhook first (a launcher pod
     * whose VMI should live-migrate is refused with its 429 and marked for evacuation), then the pod deleted (the
     * mock has no eviction API; no PodDisruptionBudgets on the rig), answered 201 with a Success Status.
     */
    private Outcome evict(VirtApi api, FullHttpRequest req, Identity who, String ns, String pod) {
        JsonNode eviction;
        try {
            eviction = JSON.readTree(ByteBufUtil.getBytes(req.content()));
        } catch (java.io.IOException e) {
            return new Outcome(400, status(400, "BadRequest", "the eviction is not JSON: " + e.getMessage()));
        }
        if (eviction == null || !eviction.isObject()) {
            return new Outcome(400, status(400, "BadRequest", "the eviction is not a JSON object"));
        }
        String podUri = "/api/v1/namespaces/" + ns + "/pods/" + pod;
        if (getFromMock(podUri) == null) {
            return new Outcome(404, status(404, "NotFound", "pods \"" + pod + "\" not found"));
        }
        ObjectNode review = review("Eviction", "pods", "CREATE", ns, who, eviction, null);
        ObjectNode q = (ObjectNode) review.path("request");
        q.putObject("kind").put("group", "policy").put("version", "v1").put("kind", "Eviction");
        q.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
        q.put("subResource", "eviction");
        q.put("name", pod);
        JsonNode v = callWebhook(api, EVICTION_WEBHOOK_PATH, EVICTION_WEBHOOK, review);
        if (!v.path("allowed").asBoolean()) {
            return deny("POST " + req.uri(), EVICTION_WEBHOOK, v);
        }
        try {
            JsonNode opts = eviction.path("deleteOptions");
            String body = opts.isObject() ? opts.toString() : "{}";
            var r = mockClient.send(HttpRequest.newBuilder(URI.create("http://" + backend.getHostString() + ":" + backend.getPort()
                    + podUri)).timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                    .method("DELETE", HttpRequest.BodyPublishers.ofString(body)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() / 100 != 2) {
                return new Outcome(r.statusCode(), r.body());
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot delete the evicted pod: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        admitted.incrementAndGet();
        log.info("eviction of pod " + ns + "/" + pod + ": admitted, pod deleted");
        return new Outcome(201, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"code\":201}"
                .getBytes(StandardCharsets.UTF_8));
    }

    private JsonNode getFromMock(String uri) {
        try {
            var r = mockClient.send(
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
    private Outcome deny(String request, String webhook, JsonNode resp) {
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
        log.info("admission: " + request + " denied by " + webhook + ": " + s.path("message").asText());
        return new Outcome(code, st.toString().getBytes(StandardCharsets.UTF_8));
    }

    // ---- helpers ----

    private static void respond(Channel ch, int code, byte[] body, boolean keepAlive) {
        respond(ch, code, body, "application/json", keepAlive);
    }

    private static void respond(Channel ch, int code, byte[] body, String contentType, boolean keepAlive) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code), Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType).setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
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
