package io.qvirt.testdata;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OCI registry for tests: Debian's {@code docker-registry} (the CNCF distribution registry) on a free
 * 127.0.0.1 port with filesystem storage in a directory of the caller's, configured as
 * {@code testdata/registry.sh} does (access log on, optional htpasswd basic auth). Images are pushed with
 * {@code skopeo}. {@link #close()} stops the registry.
 */
public final class LocalRegistry implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final Process process;

    private LocalRegistry(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Starts a registry storing under {@code dir} and waits (at most 20 s) until {@code /v2/} answers.
     *
     * @param htpasswd a bcrypt htpasswd file, or null for anonymous access
     * @throws IOException if it does not come up (its log is in the message)
     */
    public static LocalRegistry start(Path dir, Path htpasswd) throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("storage"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        StringBuilder cfg = new StringBuilder()
                .append("version: 0.1\n")
                .append("log: {level: info, accesslog: {disabled: false}}\n")
                .append("storage: {filesystem: {rootdirectory: ").append(dir.resolve("storage")).append("}, delete: {enabled: true}}\n")
                .append("http: {addr: 127.0.0.1:").append(port).append(", secret: qvirt-local-test-registry}\n");
        if (htpasswd != null) {
            cfg.append("auth: {htpasswd: {realm: qvirt, path: ").append(htpasswd).append("}}\n");
        }
        Path config = dir.resolve("config.yml");
        Files.writeString(config, cfg.toString());
        Path log = dir.resolve("registry.log");
        Process p = new ProcessBuilder("docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        LocalRegistry r = new LocalRegistry(dir, port, p);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                break;
            }
            try {
                int code = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (code == 200 || code == 401) {
                    return r;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            Thread.sleep(100);
        }
        r.close();
        throw new IOException("docker-registry did not come up on 127.0.0.1:" + port + "; its log: " + Files.readString(log));
    }

    /** {@code 127.0.0.1:PORT}. */
    public String hostPort() {
        return "127.0.0.1:" + port;
    }

    /**
     * Copies image {@code name} of an OCI layout to {@code repoTag} (e.g. {@code qvirt/guest:latest}) with skopeo
     * (at most 120 s).
     *
     * @param creds {@code user:password}, or null
     */
    public void push(Path ociLayout, String name, String repoTag, String creds) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "--quiet", "--dest-tls-verify=false"));
        if (creds != null) {
            cmd.add("--dest-creds");
            cmd.add(creds);
        }
        cmd.add("oci:" + ociLayout + ":" + name);
        cmd.add("docker://" + hostPort() + "/" + repoTag);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("skopeo copy to " + repoTag + " did not finish within 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("skopeo copy to " + hostPort() + "/" + repoTag + " failed: " + out);
        }
    }

    /** Where the registry keeps a blob's bytes (the filesystem driver's layout). */
    public Path blobData(String digest) {
        String hex = digest.substring("sha256:".length());
        return dir.resolve("storage/docker/registry/v2/blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex).resolve("data");
    }

    /** The registry's log so far (access log lines included). */
    public String log() throws IOException {
        return Files.readString(dir.resolve("registry.log"));
    }

    /** Access log request lines ({@code "GET /v2/... HTTP/1.1"}) so far, in order. */
    public List<String> requests() throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : log().split("\n")) {
            int q = l.indexOf("\"GET /v2/");
            if (q < 0) {
                q = l.indexOf("\"HEAD /v2/");
            }
            if (q >= 0 && !l.contains("level=")) {
                out.add(l.substring(q + 1, l.indexOf('"', q + 1)));
            }
        }
        return out;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
