package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.WebSocket;
import io.fabric8.kubernetes.client.http.WebSocketHandshakeException;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.io.File;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The API server of one kubeconfig context, over fabric8's HTTP client (its kubeconfig parsing, TLS and auth) on the
 * JDK's HTTP stack. Requests are plain REST, as client-go's: objects under {@code /api} and {@code /apis}, virt-api's
 * verbs under {@code /apis/subresources.kubevirt.io/v1}. Nothing here talks to a node.
 */
final class Cluster implements AutoCloseable {
    static final String SUBRESOURCES = "/apis/subresources.kubevirt.io/v1";
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final String SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    static final ObjectMapper JSON = new ObjectMapper();

    /** One answer of the API server. */
    record Response(int code, String body) {
        boolean ok() {
            return code >= 200 && code < 300;
        }
    }

    private final Config config;
    private final HttpClient http;
    private final String namespace;
    private final Duration requestTimeout;
    private final String server;

    private Cluster(Config config, String namespace, Duration requestTimeout) {
        this.config = config;
        this.namespace = namespace;
        this.requestTimeout = requestTimeout;
        String master = config.getMasterUrl();
        this.server = master.endsWith("/") ? master.substring(0, master.length() - 1) : master;
        this.http = new JdkHttpClientFactory().newBuilder(config).build();
    }

    /**
     * kubectl's order: {@code --kubeconfig}, else {@code $KUBECONFIG} (its first existing file), else
     * {@code ~/.kube/config}, else the in-cluster service account; {@code --context} else the current context;
     * {@code -n} else the context's namespace else {@code default}.
     */
    static Cluster connect(String kubeconfig, String context, String namespace, Duration requestTimeout,
            Map<String, String> env) throws VirtctlException {
        File file = kubeconfigFile(kubeconfig, env);
        Config config;
        if (file != null) {
            config = fromKubeconfig(file, context);
        } else if (env.get("KUBERNETES_SERVICE_HOST") != null && Files.isReadable(Path.of(SERVICE_ACCOUNT_TOKEN))) {
            System.setProperty(Config.KUBERNETES_AUTH_TRYKUBECONFIG_SYSTEM_PROPERTY, "false");
            config = Config.autoConfigure(null);
        } else {
            throw new VirtctlException.Config("invalid configuration: no configuration has been provided "
                    + "(no --kubeconfig, no $KUBECONFIG file, no ~/.kube/config, not in a cluster)", null);
        }
        config.setConnectionTimeout((int) CONNECT_TIMEOUT.toMillis());
        config.setRequestTimeout((int) requestTimeout.toMillis());
        config.setRequestRetryBackoffLimit(0);
        String ns = namespace != null && !namespace.isBlank() ? namespace
                : config.getNamespace() != null && !config.getNamespace().isBlank() ? config.getNamespace() : "default";
        return new Cluster(config, ns, requestTimeout);
    }

    private static File kubeconfigFile(String flag, Map<String, String> env) throws VirtctlException {
        if (flag != null) {
            File f = new File(flag);
            if (!f.isFile()) {
                throw new VirtctlException.Config("stat " + flag + ": no such file (--kubeconfig)", null);
            }
            return f;
        }
        String list = env.get("KUBECONFIG");
        if (list != null && !list.isBlank()) {
            for (String p : list.split(File.pathSeparator)) {
                if (!p.isBlank() && new File(p).isFile()) {
                    return new File(p);
                }
            }
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        File dflt = new File(home, ".kube/config");
        return dflt.isFile() ? dflt : null;
    }

    private static Config fromKubeconfig(File file, String context) throws VirtctlException {
        io.fabric8.kubernetes.api.model.Config parsed;
        try {
            parsed = KubeConfigUtils.parseConfig(file);
        } catch (RuntimeException e) {
            throw new VirtctlException.Config("error loading config file \"" + file + "\": " + oneLine(e), e);
        }
        if (parsed == null) {
            throw new VirtctlException.Config("error loading config file \"" + file + "\": empty", null);
        }
        List<String> names = new ArrayList<>();
        if (parsed.getContexts() != null) {
            for (NamedContext c : parsed.getContexts()) {
                names.add(c.getName());
            }
        }
        String use = context != null ? context : parsed.getCurrentContext();
        if (use == null || use.isBlank()) {
            throw new VirtctlException.Config("invalid configuration: " + file + " has no current-context (use --context)", null);
        }
        if (!names.contains(use)) {
            throw new VirtctlException.Config("context \"" + use + "\" does not exist in " + file, null);
        }
        Config config;
        try {
            config = Config.fromKubeconfig(use, file);
        } catch (RuntimeException e) {
            throw new VirtctlException.Config("error loading config file \"" + file + "\": " + oneLine(e), e);
        }
        if (config.getMasterUrl() == null || config.getMasterUrl().isBlank()) {
            throw new VirtctlException.Config("invalid configuration: context \"" + use + "\" in " + file + " names no server", null);
        }
        return config;
    }

    String namespace() {
        return namespace;
    }

    String server() {
        return server;
    }

    /** One request; {@code json} null for none. Unreachable or silent servers fail within the timeouts. */
    Response request(String method, String path, String json) throws VirtctlException {
        HttpRequest.Builder b = http.newHttpRequestBuilder().uri(server + path)
                .timeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        if (json != null) {
            b.method(method, "application/json", json);
        } else if (!"GET".equals(method)) {
            b.method(method, "application/json", "");
        }
        b.header("Accept", "application/json");
        CompletableFuture<HttpResponse<String>> f = http.sendAsync(b.build(), String.class);
        try {
            HttpResponse<String> r = f.get(CONNECT_TIMEOUT.plus(requestTimeout).toMillis() + 1000, TimeUnit.MILLISECONDS);
            return new Response(r.code(), r.body() == null ? "" : r.body());
        } catch (ExecutionException e) {
            throw unreachable(e.getCause() == null ? e : e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new VirtctlException.Unreachable("Unable to connect to the server " + authority()
                    + ": no answer within " + requestTimeout.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VirtctlException.Failure("interrupted", e);
        }
    }

    VirtctlException.Unreachable unreachable(Throwable cause) {
        Throwable c = cause;
        while (c.getCause() != null && !(c instanceof ConnectException) && !(c instanceof HttpTimeoutException)) {
            c = c.getCause();
        }
        if (c instanceof HttpConnectTimeoutException) {
            return new VirtctlException.Unreachable("Unable to connect to the server " + authority()
                    + ": no connection within " + CONNECT_TIMEOUT.toSeconds() + " s", cause);
        }
        if (c instanceof HttpTimeoutException) {
            return new VirtctlException.Unreachable("Unable to connect to the server " + authority()
                    + ": no answer within " + requestTimeout.toSeconds() + " s", cause);
        }
        if (c instanceof ConnectException) {
            return new VirtctlException.Unreachable("The connection to the server " + authority()
                    + " was refused - did you specify the right host or port?", cause);
        }
        return new VirtctlException.Unreachable("Unable to connect to the server " + authority() + ": " + oneLine(c), cause);
    }

    private String authority() {
        try {
            return URI.create(server).getAuthority();
        } catch (IllegalArgumentException e) {
            return server;
        }
    }

    /** GET an object; 404 says {@code <resource>.<group> "name" not found} unless the server said more. */
    JsonNode get(String path, String qualifiedResource, String name) throws VirtctlException {
        Response r = request("GET", path, null);
        if (!r.ok()) {
            throw refusal(r, qualifiedResource, name);
        }
        return parse(r.body());
    }

    /** POST an object to a collection; the created object back. */
    JsonNode create(String path, ObjectNode object, String qualifiedResource) throws VirtctlException {
        Response r = request("POST", path, object.toString());
        if (!r.ok()) {
            throw refusal(r, qualifiedResource, object.path("metadata").path("name").asText());
        }
        return parse(r.body());
    }

    /** PUT a virt-api verb ({@code virtualmachines/NAME/start}); its options as the body, or none. */
    void subresource(String resource, String name, String verb, ObjectNode options, String qualifiedResource)
            throws VirtctlException {
        Response r = request("PUT", subresourcePath(resource, name, verb), options == null ? null : options.toString());
        if (!r.ok()) {
            throw refusal(r, qualifiedResource, name);
        }
    }

    /** GET a virt-api read ({@code version}, {@code virtualmachines/NAME/expand-spec}). */
    JsonNode subresourceGet(String path) throws VirtctlException {
        Response r = request("GET", SUBRESOURCES + path, null);
        if (!r.ok()) {
            throw refusal(r, null, null);
        }
        return parse(r.body());
    }

    String subresourcePath(String resource, String name, String verb) {
        return SUBRESOURCES + "/namespaces/" + namespace + "/" + resource + "/" + name + "/" + verb;
    }

    /** Opens a WebSocket on {@code path} (subprotocol {@code plain.kubevirt.io}, as KubeVirt's client). */
    CompletableFuture<WebSocket> websocket(String path, WebSocket.Listener listener) {
        URI uri = URI.create(server + path);
        return http.newWebSocketBuilder().uri(uri).subprotocol("plain.kubevirt.io")
                .connectTimeout(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).buildAsync(listener);
    }

    /**
     * The refusal of a failed WebSocket upgrade, as {@link #refusal}: its status code, and its Status message from
     * the body the JDK's handshake exception keeps (fabric8's keeps only the code); anything else as unreachable.
     */
    VirtctlException websocketFailure(Throwable e, String qualifiedResource, String name) {
        int code = -1;
        String body = "";
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof WebSocketHandshakeException h && h.getResponse() != null && code < 0) {
                code = h.getResponse().code();
            }
            if (c instanceof java.net.http.WebSocketHandshakeException j && j.getResponse() != null) {
                code = j.getResponse().statusCode();
                Object b = j.getResponse().body();
                body = b instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                        : b == null ? "" : b.toString();
                break;
            }
        }
        return code < 0 ? unreachable(e) : refusal(new Response(code, body), qualifiedResource, name);
    }

    /** The API server's own message (a {@code Status}), else client-go's words for the code. */
    static VirtctlException.Api refusal(Response r, String qualifiedResource, String name) {
        String message = statusMessage(r.body());
        if (message == null) {
            message = switch (r.code()) {
                case 401 -> "Unauthorized";
                case 403 -> "forbidden" + (name == null ? "" : ": " + qualifiedResource + " \"" + name + "\"");
                case 404 -> qualifiedResource != null && name != null
                        ? qualifiedResource + " \"" + name + "\" not found"
                        : "the server could not find the requested resource";
                case 409 -> "conflict" + (name == null ? "" : ": " + qualifiedResource + " \"" + name + "\"");
                default -> "the server responded with status " + r.code()
                        + (r.body().isBlank() ? "" : ": " + oneLine(r.body()));
            };
        }
        return new VirtctlException.Api(r.code(), message);
    }

    static String statusMessage(String body) {
        if (body == null || body.isBlank() || body.charAt(0) != '{') {
            return body == null || body.isBlank() || body.length() > 300 ? null : oneLine(body);
        }
        try {
            JsonNode n = JSON.readTree(body);
            JsonNode m = n.path("message");
            return m.isTextual() && !m.asText().isBlank() ? oneLine(m.asText()) : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    static JsonNode parse(String body) throws VirtctlException {
        try {
            return JSON.readTree(body.isEmpty() ? "{}" : body);
        } catch (java.io.IOException e) {
            throw new VirtctlException.Failure("the server's answer is not JSON: " + oneLine(e), e);
        }
    }

    static String oneLine(Throwable e) {
        return oneLine(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }

    static String oneLine(String s) {
        String t = s.strip().replaceAll("\\s*\\R\\s*", " ");
        return t.length() > 500 ? t.substring(0, 500) + "..." : t;
    }

    @Override
    public void close() {
        http.close();
    }
}
