package io.qvirt.launcher.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;

/**
 * A client of the OCI distribution API (Docker Registry HTTP API v2), pull only: manifests by tag or digest
 * (indexes and manifest lists resolved to linux/amd64) and blobs streamed to a file while their sha256 is
 * checked. Authentication as registries ask for it: anonymous, HTTP Basic, or a Bearer token from the
 * realm of a {@code WWW-Authenticate} challenge (with Basic credentials when qvirt has some). Mirrors and
 * plain-HTTP registries as {@link RegistryOptions} say.
 *
 * <p>Written on {@link java.net.http.HttpClient} rather than a library: Jib's registry client lives in
 * Jib's internal packages and drags Guava, google-http-client and its own Jackson line into the build.
 */
public final class RegistryClient {
    /** Receives download progress; called from the downloading thread. */
    public interface Progress {
        void bytes(Descriptor blob, long done);
    }

    private static final long MAX_MANIFEST = 4 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "registry-stall-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final RegistryOptions options;
    private final HttpClient http;
    /** Authorization header values by endpoint + repository, so a token is fetched once per pull. */
    private final Map<String, String> authorizations = new ConcurrentHashMap<>();

    public RegistryClient(RegistryOptions options) {
        this(options, null);
    }

    /** With {@code tls} trusted instead of the JDK's default trust store (tests' own certificate authority). */
    RegistryClient(RegistryOptions options, javax.net.ssl.SSLContext tls) {
        this.options = options;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(options.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1);
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
    }

    /** The host[:port] that serves {@code ref} (its mirror if one is set). */
    public String endpoint(ImageReference ref) {
        return options.endpoint(ref.registry());
    }

    /**
     * The linux/amd64 image manifest of {@code ref}; an index or manifest list is resolved.
     *
     * @throws ImageException.NotFound no such repository, tag or digest, or no linux/amd64 image
     * @throws ImageException.DigestMismatch the manifest's bytes do not have the digest asked for or announced
     */
    public Manifest manifest(ImageReference ref) {
        Fetched top = fetchManifest(ref, ref.reference());
        try {
            JsonNode json = Manifest.json(top.raw);
            if (Manifest.isIndex(top.contentType, json)) {
                List<String> seen = new ArrayList<>();
                Descriptor d = Manifest.pickPlatform(json, seen);
                if (d == null) {
                    throw new ImageException.NotFound(ref.toString(), endpoint(ref),
                            "no linux/amd64 image in its index (it has: " + String.join(", ", seen) + ")");
                }
                Fetched child = fetchManifest(ref, d.digest());
                return Manifest.parse(child.digest, child.raw, Manifest.json(child.raw));
            }
            return Manifest.parse(top.digest, top.raw, json);
        } catch (IOException e) {
            throw new ImageException.Protocol(ref.toString(), endpoint(ref), "bad manifest: " + e.getMessage(), e);
        }
    }

    private record Fetched(String digest, byte[] raw, String contentType) {
    }

    private Fetched fetchManifest(ImageReference ref, String reference) {
        String ep = endpoint(ref);
        URI uri = uri(ep, "/v2/" + ref.repository() + "/manifests/" + reference);
        HttpResponse<InputStream> r = send(ref, uri, Manifest.ACCEPT);
        try (InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                throw statusError(ref, r, "manifest " + reference);
            }
            byte[] raw = in.readNBytes((int) MAX_MANIFEST + 1);
            if (raw.length > MAX_MANIFEST) {
                throw new ImageException.Protocol(ref.toString(), ep, "manifest " + reference + " is larger than 4 MiB", null);
            }
            String digest = "sha256:" + sha256(raw);
            String expected = reference.startsWith("sha256:") ? reference
                    : r.headers().firstValue("Docker-Content-Digest").orElse(null);
            if (expected != null && !expected.equals(digest)) {
                throw new ImageException.DigestMismatch(ref.toString(), ep, expected, "manifest " + reference
                        + " has digest " + digest + " but " + expected + " was expected; nothing kept");
            }
            return new Fetched(digest, raw, r.headers().firstValue("Content-Type").orElse(null));
        } catch (IOException e) {
            throw unreachable(ref, ep, e);
        }
    }

    /**
     * Streams blob {@code d} of {@code ref} into {@code dest} (which must not exist), checking its size and sha256
     * as it goes. On any failure {@code dest} is deleted.
     *
     * @throws ImageException.DigestMismatch the bytes are not the blob's (dest deleted)
     */
    public void blob(ImageReference ref, Descriptor d, Path dest, Progress progress) {
        String ep = endpoint(ref);
        URI uri = uri(ep, "/v2/" + ref.repository() + "/blobs/" + d.digest());
        HttpResponse<InputStream> r = send(ref, uri, "*/*");
        AtomicLong lastProgress = new AtomicLong(System.nanoTime());
        AtomicBoolean stalled = new AtomicBoolean();
        InputStream body = r.body();
        ScheduledFuture<?> guard = WATCHDOG.scheduleAtFixedRate(() -> {
            if (System.nanoTime() - lastProgress.get() > options.stallTimeout().toNanos()) {
                stalled.set(true);
                try {
                    body.close();
                } catch (IOException e) {
                    // Closing is how the blocked read is ended; its own error does not matter.
                }
            }
        }, 1, 1, TimeUnit.SECONDS);
        boolean ok = false;
        try (InputStream in = body) {
            if (r.statusCode() != 200) {
                throw statusError(ref, r, "blob " + d.digest());
            }
            MessageDigest sha = sha256();
            long n = 0;
            byte[] buf = new byte[1 << 16];
            try (OutputStream out = Files.newOutputStream(dest, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                int k;
                while ((k = in.read(buf)) >= 0) {
                    lastProgress.set(System.nanoTime());
                    n += k;
                    if (n > d.size()) {
                        break;
                    }
                    sha.update(buf, 0, k);
                    out.write(buf, 0, k);
                    if (progress != null) {
                        progress.bytes(d, n);
                    }
                }
            }
            String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
            if (n != d.size() || !got.equals(d.digest())) {
                throw new ImageException.DigestMismatch(ref.toString(), ep, d.digest(), "blob " + d.digest()
                        + (n > d.size() ? " sent more than the " + d.size() + " bytes its manifest declares (stopped after "
                        + n + ")" : n != d.size() ? " sent " + n + " bytes instead of " + d.size()
                        : " has content " + got) + " (digest mismatch); nothing kept");
            }
            ok = true;
        } catch (IOException e) {
            if (stalled.get()) {
                throw new ImageException.Unreachable(ref.toString(), ep, "blob " + d.digest() + ": no data for "
                        + options.stallTimeout().toSeconds() + " s", e);
            }
            throw unreachable(ref, ep, e);
        } finally {
            guard.cancel(false);
            if (!ok) {
                try {
                    Files.deleteIfExists(dest);
                } catch (IOException e) {
                    // The cache's temp directory is swept on the next pull anyway.
                }
            }
        }
    }

    /**
     * Sends a GET, authenticating once on a 401 challenge and following redirects: credentials go only to the
     * registry's own host[:port], never over a redirect to another; a redirect from HTTPS to HTTP is refused.
     */
    private HttpResponse<InputStream> send(ImageReference ref, URI uri, String accept) {
        String ep = endpoint(ref);
        String key = ep + "/" + ref.repository();
        boolean authenticated = false;
        URI target = uri;
        for (int hops = 0; ; hops++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(options.requestTimeout()).header("Accept", accept).GET();
            String authz = authorizations.get(key);
            boolean sameHost = authority(target).equals(authority(uri));
            if (authz != null && sameHost) {
                b.header("Authorization", authz);
            }
            HttpResponse<InputStream> r = exchange(ref, ep, b.build());
            int sc = r.statusCode();
            if (sc == 401 && sameHost && !authenticated) {
                String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
                drain(r);
                authorizations.put(key, authenticate(ref, ep, challenge));
                authenticated = true;
                continue;
            }
            if (sc == 401 || sc == 403) {
                String detail = errorDetail(r);
                throw new ImageException.AuthRefused(ref.toString(), ep, "access refused (HTTP " + sc + ")"
                        + (authz != null ? " with the credentials given" : "") + detail);
            }
            if ((sc == 301 || sc == 302 || sc == 303 || sc == 307 || sc == 308) && r.headers().firstValue("Location").isPresent()) {
                drain(r);
                if (hops >= 5) {
                    throw new ImageException.Protocol(ref.toString(), ep, "more than 5 redirects for " + uri.getPath(), null);
                }
                URI next;
                try {
                    next = target.resolve(r.headers().firstValue("Location").get());
                } catch (IllegalArgumentException e) {
                    throw new ImageException.Protocol(ref.toString(), ep, "a redirect to a malformed location", e);
                }
                if (!"http".equals(next.getScheme()) && !"https".equals(next.getScheme()) || next.getAuthority() == null) {
                    throw new ImageException.Protocol(ref.toString(), ep, "a redirect to '" + next
                            + "' (not an http(s) URL) refused", null);
                }
                if ("https".equals(uri.getScheme()) && !"https".equals(next.getScheme())) {
                    throw new ImageException.Protocol(ref.toString(), ep, "a redirect from HTTPS to " + next.getScheme()
                            + "://" + next.getAuthority() + " refused: HTTPS is never downgraded", null);
                }
                target = next;
                continue;
            }
            return r;
        }
    }

    private HttpResponse<InputStream> exchange(ImageReference ref, String ep, HttpRequest req) {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw unreachable(ref, ep, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException.Unreachable(ref.toString(), ep, "interrupted", e);
        }
    }

    /** The Authorization header value answering a challenge. */
    private String authenticate(ImageReference ref, String ep, String header) {
        List<AuthChallenge> cs;
        try {
            cs = AuthChallenge.parse(header);
        } catch (IllegalArgumentException e) {
            throw new ImageException.Protocol(ref.toString(), ep, e.getMessage(), e);
        }
        DockerConfig.Credentials creds = options.credentials().lookup(ep);
        if (creds == null) {
            creds = options.credentials().lookup(ref.registry());
        }
        for (AuthChallenge c : cs) {
            if (c.scheme().equals("bearer") && c.param("realm") != null) {
                return "Bearer " + token(ref, ep, c, creds);
            }
        }
        for (AuthChallenge c : cs) {
            if (c.scheme().equals("basic")) {
                if (creds == null) {
                    throw new ImageException.AuthRefused(ref.toString(), ep, "the registry asks for credentials (Basic) "
                            + "and there are none for " + ep + " (--registry-config FILE: a Docker config.json)");
                }
                return basic(creds);
            }
        }
        throw new ImageException.AuthRefused(ref.toString(), ep, "unsupported authentication challenge '" + header
                + "' (qvirt speaks Basic and Bearer)");
    }

    private String token(ImageReference ref, String ep, AuthChallenge c, DockerConfig.Credentials creds) {
        StringBuilder q = new StringBuilder(c.param("realm"));
        q.append(c.param("realm").contains("?") ? '&' : '?');
        if (c.param("service") != null) {
            q.append("service=").append(URLEncoder.encode(c.param("service"), StandardCharsets.UTF_8)).append('&');
        }
        String scope = c.param("scope") != null ? c.param("scope") : "repository:" + ref.repository() + ":pull";
        q.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        URI realm;
        try {
            realm = URI.create(q.toString());
            if (realm.getScheme() == null || !(realm.getScheme().equals("https") || realm.getScheme().equals("http"))) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
        } catch (IllegalArgumentException e) {
            throw new ImageException.Protocol(ref.toString(), ep, "bad token realm '" + c.param("realm") + "': " + e.getMessage(), e);
        }
        boolean registryTls = !options.isInsecure(ep);
        if (registryTls && !"https".equals(realm.getScheme())) {
            throw new ImageException.Protocol(ref.toString(), ep, "token realm " + realm.getScheme() + "://"
                    + realm.getAuthority() + " refused: the registry speaks HTTPS and HTTPS is never downgraded", null);
        }
        DockerConfig.Credentials sent = realmCredentials(ep, realm, creds);
        HttpRequest.Builder b = HttpRequest.newBuilder(realm).timeout(options.requestTimeout()).GET();
        if (sent != null) {
            b.header("Authorization", basic(sent));
        }
        HttpResponse<InputStream> r = exchange(ref, realm.getAuthority(), b.build());
        try (InputStream in = r.body()) {
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                throw new ImageException.AuthRefused(ref.toString(), ep, "token service " + realm.getAuthority()
                        + " refused " + (sent != null ? "the credentials given" : "anonymous access")
                        + " (HTTP " + r.statusCode() + ")" + (creds != null && sent == null ? "; the credentials for " + ep
                        + " were not sent to it: it is another host (give it its own entry in the registry config "
                        + "to trust it)" : ""));
            }
            byte[] raw = in.readNBytes(1 << 20);
            if (r.statusCode() != 200) {
                throw new ImageException.Protocol(ref.toString(), ep, "token service " + realm.getAuthority()
                        + " answered HTTP " + r.statusCode(), null);
            }
            JsonNode n = JSON.readTree(raw);
            String t = n == null ? "" : n.path("token").asText(n.path("access_token").asText(""));
            if (t.isEmpty()) {
                throw new ImageException.Protocol(ref.toString(), ep, "token service " + realm.getAuthority()
                        + " sent no token", null);
            }
            return t;
        } catch (IOException e) {
            throw new ImageException.Protocol(ref.toString(), ep, "token service " + realm.getAuthority() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The Basic credentials a token realm may receive: the registry's own when the realm is on the registry's
     * host[:port] (or is Docker Hub's auth.docker.io for Docker Hub), the realm's own entry of the registry
     * config when there is one (the user named that host), else none: a registry cannot send the user's
     * credentials to a host of its choosing.
     */
    private DockerConfig.Credentials realmCredentials(String ep, URI realm, DockerConfig.Credentials creds) {
        String realmHost = authority(realm);
        DockerConfig.Credentials own = realm.getAuthority() == null ? null
                : options.credentials().lookup(realm.getAuthority());
        if (own != null) {
            return own;
        }
        if (creds == null) {
            return null;
        }
        if (realmHost.equalsIgnoreCase(authority(URI.create((options.isInsecure(ep) ? "http://" : "https://") + ep)))) {
            return creds;
        }
        if (ep.equals("registry-1.docker.io") && realmHost.equals("auth.docker.io:443")) {
            return creds;
        }
        return null;
    }

    /** host:port with the scheme's default port made explicit, so "h" and "h:443" compare equal. */
    static String authority(URI u) {
        int port = u.getPort() >= 0 ? u.getPort() : "http".equals(u.getScheme()) ? 80 : 443;
        return (u.getHost() == null ? String.valueOf(u.getAuthority()) : u.getHost().toLowerCase()) + ":" + port;
    }

    private static String basic(DockerConfig.Credentials c) {
        return "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + c.password()).getBytes(StandardCharsets.UTF_8));
    }

    private ImageException statusError(ImageReference ref, HttpResponse<InputStream> r, String what) {
        String detail = errorDetail(r);
        if (r.statusCode() == 404) {
            return new ImageException.NotFound(ref.toString(), endpoint(ref), what + " not found (HTTP 404)" + detail);
        }
        return new ImageException.Protocol(ref.toString(), endpoint(ref), what + ": HTTP " + r.statusCode() + detail, null);
    }

    /** The registry's error codes and messages ({@code {"errors":[{"code","message"}]}}), as ": CODE message". */
    private static String errorDetail(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            byte[] raw = in.readNBytes(64 << 10);
            JsonNode n = JSON.readTree(raw);
            List<String> parts = new ArrayList<>();
            if (n != null) {
                for (JsonNode e : n.path("errors")) {
                    parts.add(e.path("code").asText("") + " " + e.path("message").asText(""));
                }
            }
            return parts.isEmpty() ? "" : ": " + String.join("; ", parts).strip();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static void drain(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            in.readNBytes(64 << 10);
        } catch (IOException e) {
            // The connection is dropped instead of reused; nothing else depends on it.
        }
    }

    private ImageException unreachable(ImageReference ref, String ep, IOException e) {
        String why;
        if (e instanceof HttpConnectTimeoutException) {
            why = "no connection within " + options.connectTimeout().toSeconds() + " s";
        } else if (e instanceof HttpTimeoutException) {
            why = "no response within " + options.requestTimeout().toSeconds() + " s";
        } else if (e instanceof ConnectException || e.getCause() instanceof ConnectException) {
            why = "connection refused";
        } else if (e instanceof UnknownHostException || e.getCause() instanceof UnresolvedAddressException) {
            why = "unknown host";
        } else if (e instanceof SSLException || e.getCause() instanceof SSLException) {
            why = "TLS failed (" + e.getMessage() + "); if it serves plain HTTP, name it with --insecure-registry " + ep;
        } else {
            why = e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : "");
        }
        return new ImageException.Unreachable(ref.toString(), ep, "unreachable: " + why, e);
    }

    private URI uri(String ep, String path) {
        return URI.create((options.isInsecure(ep) ? "http://" : "https://") + ep + path);
    }

    static String sha256(byte[] b) {
        return HexFormat.of().formatHex(sha256().digest(b));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
