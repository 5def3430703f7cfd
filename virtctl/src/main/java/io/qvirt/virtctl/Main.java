package io.qvirt.virtctl;

import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The entry point of {@code bin/virtctl}. {@code version --client} is answered here, before picocli loads: picocli
 * 4.7 is compiled for Java 5, JDK 17's class-data sharing cannot archive classes that old, and loading it and
 * reading the commands' annotations costs ~150 ms of CPU on this machine. Everything else goes to
 * {@link VirtctlCommand}.
 *
 * <p>{@code bin/_java-app} dumps an AppCDS archive on the first short-lived run after a build, whichever verb that
 * is. When this JVM is that run, the classes every verb needs (all commands, the kubeconfig reader, fabric8's HTTP
 * client, Jackson's JSON and YAML) are loaded before exit, without any request, so the archive serves them all.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int code;
        if (args.length == 2 && args[0].equals("version") && (args[1].equals("--client") || args[1].equals("-c"))) {
            System.out.println(VersionCommand.clientLine());
            System.out.flush();
            code = ExitCodes.OK;
        } else {
            code = VirtctlCommand.run(args);
        }
        if (dumpingArchive()) {
            warmUp();
        }
        System.exit(code);
    }

    /** True when this JVM writes a dynamic CDS archive at exit ({@code -XX:ArchiveClassesAtExit}). */
    static boolean dumpingArchive() {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), StandardCharsets.UTF_8)
                    .contains("-XX:ArchiveClassesAtExit=");
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** Loads what the verbs use, sending nothing anywhere and writing nothing visible. */
    static void warmUp() {
        PrintWriter sink = new PrintWriter(Writer.nullWriter());
        try {
            Path dir = Files.createTempDirectory("virtctl-cds");
            try {
                Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
                        apiVersion: v1
                        kind: Config
                        clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
                        users: [{name: u, user: {token: t}}]
                        contexts: [{name: c, context: {cluster: c, user: u, namespace: n}}]
                        current-context: c
                        """);
                Map<String, String> env = Map.of("HOME", dir.toString());
                VirtctlCommand.create(Io.of(sink, sink, env)).execute("--help");
                VirtctlCommand.create(Io.of(sink, sink, env)).execute("create", "vm", "--name", "a",
                        "--volume-containerdisk", "src:r/i:1", "--cloud-init-user-data", "SGk=");
                try (Cluster c = Cluster.connect(kubeconfig.toString(), null, null, Duration.ofSeconds(1), env)) {
                    Cluster.refusal(new Cluster.Response(404, "{\"kind\":\"Status\",\"message\":\"m\"}"), "r", "n");
                    c.subresourcePath(Resources.VMS, "a", "start");
                }
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(dir);
            }
        } catch (Exception | LinkageError e) {
            // a warm-up only: the archive is smaller, nothing else changes
        }
    }
}
