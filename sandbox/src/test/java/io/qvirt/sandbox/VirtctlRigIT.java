package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's walk-through with {@code bin/virtctl} as a real process on the rig (fabric8's CRUD mock API behind the
 * front door, NOT a kube-apiserver; virt-api, controller and handler real; FAKE node agent): start -> Running, the
 * console runs a typed command, pause/unpause, restart -> a new VMI, stop -> Stopped; a missing VM's error, virt-api's
 * 409 and the namespace user refused in another namespace, each in one line with exit 1.
 */
class VirtctlRigIT {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Path VIRTCTL = SandboxIT.ROOT.resolve("bin/virtctl");

    @TempDir
    static Path tmp;
    static Path dir;
    static KubernetesClient client;

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    static void up() throws Exception {
        // The virtctl module comes after this one in the reactor: without a test-scoped dependency on qvirt-virtctl
        // in this module's pom, a fresh `mvn verify` gets here before bin/virtctl's jar is built.
        assertTrue(Files.isRegularFile(SandboxIT.ROOT.resolve("virtctl/target/qvirt-virtctl.jar")),
                "bin/virtctl is not built (mvn -pl virtctl package): the sandbox module needs qvirt-virtctl as a test dependency");
        SandboxIT.registry();
        dir = tmp.resolve("rig");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir",
                dir.toString(), "--nodes", "1");
        assertEquals(0, up.code(), up.out());
        client = SandboxIT.client(dir);
    }

    @AfterAll
    static void down() throws Exception {
        if (client != null) {
            client.close();
        }
        if (dir != null) {
            SandboxIT.Result down = SandboxIT.run(Duration.ofSeconds(120), SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
            assertEquals(0, down.code(), down.out());
            assertEquals(List.of(), SandboxIT.processesMentioning(dir), "down leaves no process");
        }
    }

    static ProcessBuilder virtctlProcess(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(VIRTCTL.toString(), "--kubeconfig", dir.resolve("kubeconfig").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", tmp.toString());
        pb.environment().remove("KUBECONFIG");
        return pb;
    }

    static Result virtctl(String... args) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = virtctlProcess(args).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("virtctl " + String.join(" ", args) + " did not end within 60 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Result ok(String... args) throws Exception {
        Result r = virtctl(args);
        assertEquals(0, r.code(), "virtctl " + String.join(" ", args) + ": " + r.err());
        return r;
    }

    static VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    static String phase(VirtualMachineInstance v) {
        return v == null || v.getStatus() == null ? null : v.getStatus().getPhase();
    }

    static boolean paused(VirtualMachineInstance v) {
        List<Condition> cs = v == null || v.getStatus() == null ? null : v.getStatus().getConditions();
        return cs != null && cs.stream().anyMatch(c -> "Paused".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    static String printable() {
        VirtualMachine v = client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").get();
        return v == null || v.getStatus() == null ? null : v.getStatus().getPrintableStatus();
    }

    static Path vmDir(VirtualMachineInstance v) {
        return dir.resolve("nodes").resolve(v.getStatus().getNodeName()).resolve("run/default").resolve(v.getMetadata().getName());
    }

    @Test
    void theSeedWalkThroughWithVirtctl() throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm(); // running: false
        vm.getMetadata().setNamespace("default");
        client.resources(VirtualMachine.class).resource(vm).create();

        Result missing = virtctl("start", "nope");
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("error: Error starting VirtualMachine ") && missing.err().contains("\"nope\" not found"),
                missing.err());

        Result elsewhere = virtctl("--context", "qvirt-sandbox-user", "-n", "kubevirt", "start", "testvm");
        assertEquals(1, elsewhere.code());
        assertTrue(elsewhere.err().startsWith("error: Error starting VirtualMachine ") && elsewhere.err().contains("forbidden")
                && elsewhere.err().contains("sandbox-user"), elsewhere.err());
        assertEquals(1, elsewhere.err().lines().count(), elsewhere.err());

        assertEquals("VM testvm was scheduled to start\n", ok("start", "testvm").out());
        VirtualMachineInstance v = SandboxIT.awaitValue(BOOT, "VMI testvm Running", () -> {
            VirtualMachineInstance x = vmi("testvm");
            return "Running".equals(phase(x)) ? x : null;
        });
        SandboxIT.await(SHORT, "VM printableStatus Running", () -> "Running".equals(printable()));
        String firstUid = v.getMetadata().getUid();
        Path log = vmDir(v).resolve("console.log");
        SandboxIT.await(BOOT, "the guest's shell prompt in console.log", () -> {
            try {
                return Files.readString(log).contains(GuestMarkers.PROMPT);
            } catch (java.io.IOException e) {
                return false;
            }
        });

        // virtctl console, not a terminal: stdin and stdout streamed; Ctrl-] leaves
        Process console = virtctlProcess("console", "testvm", "--timeout", "1")
                .redirectError(tmp.resolve("console.err").toFile()).start();
        try (ConsoleWatcher out = new ConsoleWatcher(console.getInputStream(), "virtctl console testvm")) {
            OutputStream in = console.getOutputStream();
            SandboxIT.await(SHORT, "virtctl console connected", () -> {
                try {
                    return Files.readString(tmp.resolve("console.err")).contains("Successfully connected to testvm console");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            in.write("echo qvirt-$((6*7))\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            out.await(Pattern.compile("qvirt-42\\r?\\n"), SHORT);
            in.write(29); // Ctrl-]
            in.flush();
            assertTrue(console.waitFor(30, TimeUnit.SECONDS), "Ctrl-] leaves the console");
            assertEquals(0, console.exitValue(), Files.readString(tmp.resolve("console.err")));
        } finally {
            console.destroyForcibly();
        }

        assertEquals("VMI testvm was scheduled to pause\n", ok("pause", "vm", "testvm").out());
        SandboxIT.await(SHORT, "VMI Paused", () -> paused(vmi("testvm")));
        SandboxIT.await(SHORT, "VM printableStatus Paused", () -> "Paused".equals(printable()));
        Result again = virtctl("pause", "vmi", "testvm");
        assertEquals(1, again.code());
        assertTrue(again.err().startsWith("error: Error pausing VirtualMachineInstance testvm: "), again.err());
        assertEquals(1, again.err().lines().count(), again.err());
        assertEquals("VMI testvm was scheduled to unpause\n", ok("unpause", "vm", "testvm").out());
        SandboxIT.await(SHORT, "VMI unpaused", () -> !paused(vmi("testvm")) && "Running".equals(phase(vmi("testvm"))));

        assertEquals("VM testvm was scheduled to restart\n", ok("restart", "testvm").out());
        VirtualMachineInstance second = SandboxIT.awaitValue(BOOT, "a new VMI Running", () -> {
            VirtualMachineInstance x = vmi("testvm");
            return x != null && !firstUid.equals(x.getMetadata().getUid()) && "Running".equals(phase(x)) ? x : null;
        });
        assertNotEquals(firstUid, second.getMetadata().getUid());

        assertEquals("VM testvm was scheduled to stop\n", ok("stop", "testvm").out());
        SandboxIT.await(Duration.ofSeconds(90), "VMI gone", () -> vmi("testvm") == null);
        SandboxIT.await(SHORT, "VM printableStatus Stopped", () -> "Stopped".equals(printable()));
        Result stopped = virtctl("stop", "testvm");
        assertEquals(1, stopped.code(), "stopping a stopped VM is virt-api's 409: " + stopped.err());
        assertTrue(stopped.err().startsWith("error: error stopping VirtualMachine ") && stopped.err().contains("VM is not running"),
                stopped.err());

        assertTrue(ok("version").out().contains("\nServer Version: version.Info{GitVersion:\"v"), "virt-api's version");
        client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").delete();
    }
}
