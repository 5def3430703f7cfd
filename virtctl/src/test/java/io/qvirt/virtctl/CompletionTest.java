package io.qvirt.virtctl;

import static io.qvirt.virtctl.MockApiServer.virtctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.qvirt.virtctl.MockApiServer.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shell completion completes VM and VMI names from the API server (fabric8's CRUD mock standing in for it): the
 * hidden {@code __complete} verb read directly, and the bash script run by a real bash against virtctl as a real
 * process (a shim starting this test's classpath).
 */
class CompletionTest {
    @TempDir
    Path tmp;
    MockApiServer api;
    Map<String, String> env;

    @BeforeEach
    void up() throws Exception {
        api = new MockApiServer();
        env = Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString());
        api.createSeedVm("ns1"); // testvm
        object("VirtualMachine", "ns1", "tiny");
        object("VirtualMachine", "other", "elsewhere");
        object("VirtualMachineInstance", "ns1", "testvm");
        object("VirtualMachineInstance", "ns1", "orphan");
        api.requests();
    }

    @AfterEach
    void down() {
        api.close();
    }

    private void object(String kind, String ns, String name) {
        GenericKubernetesResource o = new GenericKubernetesResourceBuilder().withApiVersion("kubevirt.io/v1").withKind(kind)
                .withNewMetadata().withName(name).withNamespace(ns).endMetadata().build();
        o.setAdditionalProperty("spec", Map.of());
        api.client.resource(o).inNamespace(ns).create();
    }

    private List<String> complete(String... words) {
        List<String> args = new ArrayList<>(List.of(CompleteCommand.NAME, "--"));
        args.addAll(List.of(words));
        Run r = virtctl(env, args.toArray(String[]::new));
        assertEquals(0, r.code(), String.join(" ", words) + ": " + r.err());
        return r.out().lines().toList();
    }

    @Test
    void namesComeFromTheApiServerForTheWordsThatAreNames() {
        assertEquals(List.of("testvm", "tiny"), complete("start", ""));
        assertEquals(List.of("tiny"), complete("stop", "ti"));
        assertEquals(List.of("orphan", "testvm"), complete("console", ""), "console takes a VMI");
        assertEquals(List.of("elsewhere"), complete("-n", "other", "restart", ""));
        assertEquals(List.of("elsewhere"), complete("migrate", "--namespace", "=", "other", ""), "bash's split of --namespace=other");
        assertEquals(List.of("elsewhere"), complete("start", "--namespace=other", "--dry-run", "e"));
        assertEquals(List.of("vm", "vmi"), complete("pause", ""));
        assertEquals(List.of("orphan", "testvm"), complete("unpause", "vmi", ""));
        assertEquals(List.of("testvm", "tiny"), complete("expose", "vm", ""));
        assertEquals(List.of("vm/testvm", "vm/tiny", "vmi/orphan", "vmi/testvm"), complete("port-forward", ""));
        assertEquals(List.of("vmi/orphan"), complete("port-forward", "vmi/o"));
        assertEquals(List.of("root@vm/testvm", "root@vm/tiny"), complete("ssh", "-l", "x", "root@vm/"));

        // not a name: a verb, a flag, a flag's value, a second name, create's words
        assertEquals(List.of(), complete("st"));
        assertEquals(List.of(), complete("start", "--"));
        assertEquals(List.of(), complete("expose", "vm", "testvm", "--name", ""));
        assertEquals(List.of(), complete("-n", ""));
        assertEquals(List.of(), complete("start", "testvm", ""));
        assertEquals(List.of(), complete("create", ""));
        assertEquals(List.of(), complete("pause", "pod", ""));
        assertEquals(List.of(), api.requests().stream().filter(q -> !q.method().equals("GET")).toList(), "only lists");
    }

    @Test
    void anUnreachableServerGivesNothingQuickly() throws Exception {
        Map<String, String> gone = Map.of("HOME", tmp.toString(),
                "KUBECONFIG", MockApiServer.kubeconfig(tmp, "http://127.0.0.1:9").toString());
        Run r = virtctl(gone, CompleteCommand.NAME, "--", "start", "");
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("error: The connection to the server 127.0.0.1:9 was refused"), r.err());
    }

    @Test
    void theBashScriptOffersTheNamesAndElsePicoclisCompletion() throws Exception {
        Path shim = shim();
        Run script = virtctl(env, "completion", "bash");
        assertEquals(0, script.code(), script.err());
        Path file = Files.writeString(tmp.resolve("virtctl.bash"), script.out());

        assertEquals(List.of("testvm", "tiny"), bash(file, shim, "start", "t"));
        assertEquals(List.of("vm/testvm", "vm/tiny", "vmi/orphan", "vmi/testvm"), bash(file, shim, "port-forward", ""));
        assertEquals(List.of("elsewhere"), bash(file, shim, "-n", "other", "stop", ""));
        // no names here: picocli's verbs and flags
        assertEquals(List.of("start", "stop"), bash(file, shim, "st"));
        assertEquals(List.of("--paused"), bash(file, shim, "start", "--pa"));
    }

    /** zsh runs the same script through bashcompinit (zsh's arrays and modifiers differ from bash's); skipped without zsh. */
    @Test
    void theZshScriptOffersTheNames() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/zsh")) || Files.isExecutable(Path.of("/bin/zsh")),
                "zsh is not installed");
        Path shim = shim();
        Run script = virtctl(env, "completion", "zsh");
        assertEquals(0, script.code(), script.err());
        Path file = Files.writeString(tmp.resolve("virtctl.zsh"), script.out());
        assertEquals(List.of("elsewhere"), shell("zsh", file, shim, "-n", "other", "stop", ""));
        assertEquals(List.of("vmi/orphan", "vmi/testvm"), shell("zsh", file, shim, "port-forward", "vmi/"));
    }

    private Path shim() throws Exception {
        Path shim = tmp.resolve("virtctl");
        Files.writeString(shim, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "' -Xshare:auto -XX:TieredStopAtLevel=1 -cp '" + System.getProperty("java.class.path") + "' io.qvirt.virtctl.Main \"$@\"\n");
        Files.setPosixFilePermissions(shim, PosixFilePermissions.fromString("rwxr-xr-x"));
        return shim;
    }

    /** COMPREPLY of the script's function for a command line whose last word is being completed. */
    private List<String> bash(Path script, Path shim, String... words) throws Exception {
        return shell("bash", script, shim, words);
    }

    private List<String> shell(String shell, Path script, Path shim, String... words) throws Exception {
        StringBuilder line = new StringBuilder(shim.toString());
        StringBuilder array = new StringBuilder("'" + shim + "'");
        for (String w : words) {
            line.append(' ').append(w);
            array.append(" '").append(w).append("'");
        }
        String cmd = "source '" + script + "'" + (shell.equals("zsh") ? " 2>/dev/null" : "") + "\n"
                + "COMP_WORDS=(" + array + "); COMP_CWORD=" + words.length + "; COMP_LINE='" + line + "'; COMP_POINT=${#COMP_LINE}\n"
                + "_complete_virtctl_names\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
        ProcessBuilder pb = new ProcessBuilder(shell, "-c", cmd).redirectErrorStream(false);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash ended");
        assertEquals(0, p.exitValue(), err);
        return out.lines().filter(l -> !l.isEmpty()).sorted().toList();
    }
}
