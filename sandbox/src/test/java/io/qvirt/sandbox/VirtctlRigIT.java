package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
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
 * console runs a typed command and shows the boot marker after {@code virtctl reset}, expose, pause/unpause, restart ->
 * a new VMI and QEMU, stop -> the guest powers off, Stopped; the VM applied and deleted with the real kubectl, nothing
 * left; a missing VM's error, virt-api's 409 and the namespace user refused in another namespace, each in one line with
 * exit 1.
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
        // The seed's first step with the real kubectl: testdata/testvm.yaml has running: false.
        Result applied = kubectl("apply", "-f", TestGuest.testVmYaml().toString());
        assertEquals(0, applied.code(), applied.err());
        assertEquals("virtualmachine.kubevirt.io/testvm created\n", applied.out());

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

        // virtctl console, not a terminal: stdin and stdout streamed; a typed command runs; `virtctl reset` reboots
        // the guest under the open console, whose boot marker then comes through it; Ctrl-] leaves.
        Process console = virtctlProcess("console", "testvm", "--timeout", "3")
                .redirectError(tmp.resolve("console.err").toFile()).start();
        try (ConsoleWatcher out = new ConsoleWatcher(console.getInputStream(), "virtctl console testvm")) {
            OutputStream in = console.getOutputStream();
            awaitConnected(tmp.resolve("console.err"));
            in.write("echo qvirt-$((6*7))\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            out.await(Pattern.compile("qvirt-42\\r?\\n"), SHORT);
            assertEquals("VMI testvm was scheduled to reset\n", ok("reset", "testvm").out());
            out.await(GuestMarkers.BOOTED, BOOT);
            out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            in.write(29); // Ctrl-]
            in.flush();
            assertTrue(console.waitFor(30, TimeUnit.SECONDS), "Ctrl-] leaves the console");
            assertEquals(0, console.exitValue(), Files.readString(tmp.resolve("console.err")));
        } finally {
            console.destroyForcibly();
        }
        long firstQemu = qemuPid(v);

        // virtctl expose: a Service whose selector picks the VM's launcher pod.
        assertEquals("Service testvm-http successfully created for vm testvm\n",
                ok("expose", "vm", "testvm", "--name", "testvm-http", "--port", "80").out());
        var svc = client.services().inNamespace("default").withName("testvm-http").get();
        assertEquals(80, svc.getSpec().getPorts().get(0).getPort());
        var launchers = client.pods().inNamespace("default").withLabels(svc.getSpec().getSelector()).list().getItems();
        assertEquals(1, launchers.size(), "the Service selects the launcher pod: " + svc.getSpec().getSelector());
        assertEquals(v.getMetadata().getUid(), launchers.get(0).getMetadata().getLabels().get("kubevirt.io/created-by"));

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
        long secondQemu = qemuPid(second);
        assertNotEquals(firstQemu, secondQemu, "restart: a new QEMU");
        SandboxIT.await(SHORT, "the first QEMU (pid " + firstQemu + ") gone", () -> ProcessHandle.of(firstQemu).isEmpty());

        // stop: the guest powers off (seen on a console opened before), then the VMI goes.
        Process console2 = virtctlProcess("console", "testvm", "--timeout", "3")
                .redirectError(tmp.resolve("console2.err").toFile()).start();
        try (ConsoleWatcher out = new ConsoleWatcher(console2.getInputStream(), "virtctl console testvm (2)")) {
            awaitConnected(tmp.resolve("console2.err"));
            SandboxIT.await(BOOT, "the second guest's shell prompt in its console.log", () -> {
                try {
                    return Files.readString(vmDir(second).resolve("console.log")).contains(GuestMarkers.PROMPT);
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertEquals("VM testvm was scheduled to stop\n", ok("stop", "testvm").out());
            out.await(GuestMarkers.POWEROFF, Duration.ofSeconds(90));
        } finally {
            console2.destroyForcibly();
        }
        SandboxIT.await(Duration.ofSeconds(90), "VMI gone", () -> vmi("testvm") == null);
        SandboxIT.await(SHORT, "VM printableStatus Stopped", () -> "Stopped".equals(printable()));
        Result stopped = virtctl("stop", "testvm");
        assertEquals(1, stopped.code(), "stopping a stopped VM is virt-api's 409: " + stopped.err());
        assertTrue(stopped.err().startsWith("error: error stopping VirtualMachine ") && stopped.err().contains("VM is not running"),
                stopped.err());

        assertTrue(ok("version").out().contains("\nServer Version: version.Info{GitVersion:\"v"), "virt-api's version");
        Result deleted = kubectl("delete", "vm", "testvm");
        assertEquals(0, deleted.code(), deleted.err());
        SandboxIT.await(Duration.ofSeconds(60), "no VM, VMI or launcher pod, no QEMU left", () ->
                client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").get() == null
                        && vmi("testvm") == null
                        && client.pods().inNamespace("default").withLabel("kubevirt.io", "virt-launcher").list()
                                .getItems().isEmpty()
                        && SandboxIT.processesMentioning(dir).stream().noneMatch(p -> p.contains("qemu-system")));
        assertTrue(ProcessHandle.of(secondQemu).isEmpty(), "the second QEMU (pid " + secondQemu + ") is gone");
    }

    /** kubectl (the real binary, as KubectlRigIT finds it) on the rig's kubeconfig. */
    static Result kubectl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(KubectlRigIT.kubectlBinary(), "--kubeconfig",
                dir.resolve("kubeconfig").toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", tmp.resolve("kube-home").toString()); // a fresh ~/.kube cache
        pb.environment().remove("KUBECONFIG");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(200, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kubectl " + String.join(" ", args) + " did not end within 200 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static void awaitConnected(Path consoleErr) throws Exception {
        SandboxIT.await(SHORT, "virtctl console connected", () -> {
            try {
                return Files.readString(consoleErr).contains("Successfully connected to testvm console");
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }

    /** The QEMU of a VMI: the pid the launcher recorded in its VM directory (it exec'd into QEMU). */
    static long qemuPid(VirtualMachineInstance v) throws Exception {
        Path info = vmDir(v).resolve("launcher.json");
        return SandboxIT.awaitValue(SHORT, "launcher.json of " + v.getMetadata().getUid(), () -> {
            try {
                long pid = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(info))
                        .path("qemuPid").asLong();
                return pid > 0 ? pid : null;
            } catch (java.io.IOException e) {
                return null;
            }
        });
    }
}
