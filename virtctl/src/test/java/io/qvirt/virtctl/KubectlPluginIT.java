package io.qvirt.virtctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/kubectl-virt} as KubeVirt's krew plugin: the real {@code kubectl} (the one on PATH, or
 * {@code $QVIRT_KUBECTL}) finds it on PATH and runs the packaged virtctl through it, with kubectl's environment.
 * The server side is fabric8's CRUD mock (NOT a kube-apiserver), whose kubeconfig is passed by {@code KUBECONFIG}.
 */
class KubectlPluginIT {
    static final Path BIN = Path.of(System.getProperty("qvirt.root", ".."), "bin").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static String kubectl() {
        String env = System.getenv("QVIRT_KUBECTL");
        if (env != null && !env.isBlank()) {
            return env;
        }
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, "kubectl"))) {
                return Path.of(d, "kubectl").toString();
            }
        }
        throw new AssertionError("no kubectl on PATH: run scripts/install-deps.sh (installs Debian's kubernetes-client) "
                + "or set QVIRT_KUBECTL");
    }

    Result run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(kubectl()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PATH", BIN + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("HOME", tmp.toString());
        pb.environment().putAll(env);
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not end within 60 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void kubectlVirtRunsVirtctlWithKubectlsEnvironment() throws Exception {
        Result list = run(Map.of(), "plugin", "list");
        assertTrue(list.out().contains(BIN.resolve("kubectl-virt").toString()), list.out() + list.err());

        Result version = run(Map.of(), "virt", "version", "--client");
        assertEquals(0, version.code(), version.err());
        assertEquals(VersionCommand.clientLine() + "\n", version.out());

        Result help = run(Map.of(), "virt", "start", "--help");
        assertTrue(help.out().startsWith("Usage: kubectl virt start "), help.out());

        try (MockApiServer api = new MockApiServer()) {
            Map<String, String> env = Map.of("KUBECONFIG", api.kubeconfig(tmp).toString());
            Result start = run(env, "virt", "start", "testvm");
            assertEquals(0, start.code(), start.err());
            assertEquals("VM testvm was scheduled to start\n", start.out());
            assertEquals(List.of(new MockApiServer.Request("PUT",
                    "/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/testvm/start", "{}")), api.requests());

            Result missing = run(env, "virt", "-n", "other", "pause", "vm", "nope");
            assertEquals(1, missing.code(), missing.out());
            assertTrue(missing.err().startsWith("error: ") && missing.err().contains("\"nope\" not found"), missing.err());
            assertEquals(1, missing.err().lines().count(), missing.err());
            assertEquals(List.of(new MockApiServer.Request("GET",
                    "/apis/kubevirt.io/v1/namespaces/other/virtualmachines/nope", "")), api.requests());
        }
    }
}
