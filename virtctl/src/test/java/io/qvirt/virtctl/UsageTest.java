package io.qvirt.virtctl;

import static io.qvirt.virtctl.MockApiServer.virtctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.virtctl.MockApiServer.Run;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Arguments and flags: usage errors exit 2 before anything is sent; help lists every verb; completion. */
class UsageTest {
    @TempDir
    Path tmp;

    @Test
    void helpListsEveryVerb() {
        Run r = virtctl(Map.of(), "--help");
        assertEquals(0, r.code());
        for (String verb : List.of("start", "stop", "restart", "pause", "unpause", "reset", "console", "port-forward", "ssh",
                "migrate", "migrate-cancel", "expose", "create", "version", "guestosinfo", "completion")) {
            assertTrue(r.out().contains("\n  " + verb + " "), verb + " in:\n" + r.out());
        }
        r = virtctl(Map.of(), "migrate", "--help");
        assertTrue(r.out().replaceAll("\\s+", " ").contains("`virtctl migrate-cancel` stops it"), r.out());
        r = virtctl(Map.of("QVIRT_VIRTCTL_NAME", "kubectl virt"), "start", "--help");
        assertTrue(r.out().startsWith("Usage: kubectl virt start "), r.out());
    }

    @Test
    void usageErrorsExit2AndSendNothing() throws Exception {
        try (MockApiServer api = new MockApiServer()) {
            Map<String, String> env = Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString());
            String[][] bad = {
                {},
                {"frobnicate"},
                {"start"},
                {"start", "a", "b"},
                {"start", "a", "--bogus"},
                {"stop", "a", "--grace-period", "soon"},
                {"pause", "testvm"},
                {"pause", "pod", "testvm"},
                {"unpause", "vmx", "testvm"},
                {"expose", "vm", "testvm", "--port", "80"},
                {"expose", "vm", "testvm", "--name", "s", "--type", "ExternalName"},
                {"expose", "vm", "testvm", "--name", "s", "--protocol", "SCTP2"},
                {"console"},
                {"console", "a", "--timeout", "-1"},
                {"port-forward", "vm/testvm"},
                {"port-forward", "testvm", "80"},
                {"port-forward", "pod/testvm", "80"},
                {"port-forward", "vm/testvm", "http"},
                {"port-forward", "vm/testvm", "udp/53"},
                {"port-forward", "--stdio", "vm/testvm", "22", "80"},
                {"ssh"},
                {"ssh", "@vm/testvm"},
                {"ssh", "vm/a/b/c"},
                {"ssh", "-p", "0", "vm/testvm"},
                {"create"},
                {"create", "vm", "--run-strategy", "Sometimes"},
                {"create", "vm", "--memory", "lots"},
                {"create", "vm", "--volume-containerdisk", "image:x"},
                {"create", "vm", "--cloud-init-user-data", "!!notbase64"},
                {"completion", "fish"},
                {"version", "extra"},
            };
            for (String[] args : bad) {
                Run r = virtctl(env, args);
                assertEquals(2, r.code(), () -> String.join(" ", args) + " -> " + r.err());
                assertTrue(r.err().startsWith("error: "), r.err());
                assertTrue(r.err().lines().count() <= 2, r.err());
                assertEquals(List.of(), api.requests(), String.join(" ", args) + " sent a request");
            }
            Run r = virtctl(env, "pause", "pod", "testvm");
            assertEquals("error: unsupported resource type \"pod\" for pause: vm (virtualmachine) or vmi (virtualmachineinstance)\n", r.err());
            r = virtctl(env, "start");
            assertEquals("error: Missing required parameter: 'VM'\nsee: virtctl start --help\n", r.err());
        }
    }

    @Test
    void aCommandLineForOneVerbHoldsOnlyThatVerb() {
        Io io = Io.of(new java.io.PrintWriter(java.io.Writer.nullWriter()), new java.io.PrintWriter(java.io.Writer.nullWriter()), Map.of());
        assertEquals(java.util.Set.of("start"), VirtctlCommand.createFor(io, "-n", "start", "--kubeconfig", "stop",
                "--request-timeout", "3", "--debug", "start", "vm").getSubcommands().keySet());
        assertEquals(java.util.Set.of("pause"), VirtctlCommand.createFor(io, "pause", "vm", "x").getSubcommands().keySet());
        for (String[] args : new String[][] {{}, {"--help"}, {"completion", "bash"}, {"frobnicate"}, {"--", "start"}}) {
            assertEquals(VirtctlCommand.Verbs.ALL.keySet(), VirtctlCommand.createFor(io, args).getSubcommands().keySet(),
                    String.join(" ", args));
        }
        // Main answers `version --client` without picocli: the same line
        assertEquals(VersionCommand.clientLine() + "\n", virtctl(Map.of(), "version", "--client").out());
    }

    @Test
    void bashCompletionScript() {
        Run r = virtctl(Map.of(), "completion", "bash");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\ncomplete -F _complete_virtctl -o default virtctl"), r.out());
        assertTrue(r.out().contains("guestosinfo") && r.out().contains("--grace-period"), "verbs and flags are completed");
        assertTrue(r.out().contains("port-forward") && r.out().contains("--local-ssh-opts") && r.out().contains("--stdio"),
                "port-forward and ssh with their flags");
        r = virtctl(Map.of(), "completion", "zsh");
        assertTrue(r.out().startsWith("#compdef virtctl\n") && r.out().contains("bashcompinit"), r.out());
    }
}
