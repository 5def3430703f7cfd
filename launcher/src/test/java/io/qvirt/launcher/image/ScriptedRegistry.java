package io.qvirt.launcher.image;

import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A REAL registry (Debian's docker-registry) started and stopped by {@code testdata/registry.sh} on its own
 * free 127.0.0.1 port and directory, so a test never touches the shared registry on :5000; images are pushed
 * into it with skopeo.
 */
final class ScriptedRegistry implements AutoCloseable {
    private final Path dir;
    private final int port;

    private ScriptedRegistry(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /**
     * Starts it ({@code registry.sh start --port P --dir DIR} plus {@code options}, e.g. {@code --htpasswd FILE});
     * registry.sh waits for {@code /v2/} itself (10 s), this waits at most 30 s for registry.sh.
     */
    static ScriptedRegistry start(Path dir, String... options) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> args = new ArrayList<>(List.of("start", "--port", Integer.toString(port), "--dir", dir.toString()));
        args.addAll(List.of(options));
        script(args);
        return new ScriptedRegistry(dir, port);
    }

    private static String script(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(TestGuest.projectRoot().resolve("testdata/registry.sh").toString());
        cmd.addAll(args);
        return run(cmd, 30);
    }

    /** Runs a command to its end (at most {@code seconds}); its output, or an IOException with it. */
    static String run(List<String> cmd, int seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        // The output is read on its own thread so a command that never ends cannot hold this one past the bound.
        java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output unreadable: " + e + ")";
            }
        });
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": did not finish within " + seconds + " s");
        }
        String text;
        try {
            text = out.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            text = "(output not read: " + e + ")";
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + text);
        }
        return text;
    }

    String hostPort() {
        return "127.0.0.1:" + port;
    }

    /** Its filesystem storage root (what distribution's redirect middleware names paths under). */
    Path storage() {
        return dir.resolve("storage");
    }

    /**
     * {@code skopeo copy} of the layout's image to {@code repoTag} on this registry (at most 60 s).
     *
     * @param creds user:password, or null
     * @return skopeo's output
     */
    String push(OciLayoutWriter.Written image, String repoTag, String creds) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "--quiet", "--dest-tls-verify=false"));
        if (creds != null) {
            cmd.addAll(List.of("--dest-creds", creds));
        }
        cmd.add("oci:" + image.dir() + ":" + image.tag());
        cmd.add("docker://" + hostPort() + "/" + repoTag);
        return run(cmd, 60);
    }

    /** Access log request lines ({@code "GET /v2/... HTTP/1.1"}) so far. */
    List<String> requests() throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : Files.readAllLines(dir.resolve("registry.log"))) {
            int q = l.indexOf("\"GET /v2/");
            if (q >= 0 && !l.contains("level=")) {
                out.add(l.substring(q + 1, l.indexOf('"', q + 1)));
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            script(List.of("stop", "--dir", dir.toString()));
        } catch (IOException e) {
            throw new IllegalStateException("stopping the registry in " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
