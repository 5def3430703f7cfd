package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.testdata.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's kubectl commands with a real {@code kubectl} binary (the one on PATH, or {@code $QVIRT_KUBECTL}) against
 * the rig (fabric8's CRUD mock API behind the front door, NOT a kube-apiserver; virt-api, controller and handler
 * real; FAKE node agent), with the rig's kubeconfig as is and a fresh discovery cache: apply creates the VM, get
 * shows KubeVirt's printer columns and values, -o yaml the object, virtctl starts it, wait sees Ready, get vmis
 * shows it Running with its IP and node, a changed apply is kubectl's merge patch; an unknown field and an invalid VM are refused
 * naming the field (the unknown one with kubectl 1.27+, which sends fieldValidation); delete leaves nothing. Any kubectl
 * version runs it: Debian's 1.20 too (QVIRT_KUBECTL).
 */
class KubectlRigIT {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration SHORT = Duration.ofSeconds(30);

    @TempDir
    static Path tmp;
    static Path dir;
    static KubernetesClient client;
    static String kubectl;

    record Result(int code, String out, String err) {
    }

    /** The kubectl the test runs: $QVIRT_KUBECTL, else kubectl on PATH (scripts/install-deps.sh installs Debian's). */
    static String kubectlBinary() {
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

    @BeforeAll
    static void up() throws Exception {
        assertTrue(Files.isRegularFile(SandboxIT.ROOT.resolve("virtctl/target/qvirt-virtctl.jar")),
                "bin/virtctl is not built (mvn -pl virtctl package)");
        kubectl = kubectlBinary();
        SandboxIT.registry();
        dir = tmp.resolve("rig");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir",
                dir.toString(), "--nodes", "1");
        assertEquals(0, up.code(), up.out());
        client = SandboxIT.client(dir);
        System.out.println("KubectlRigIT: " + kubectl + ": " + run(List.of(kubectl, "version", "--client")).out().trim());
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

    static Result run(List<String> cmd) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", tmp.resolve("home").toString()); // a fresh ~/.kube cache
        if (dir != null) {
            pb.environment().put("KUBECONFIG", dir.resolve("kubeconfig").toString());
        }
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(200, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not end within 200 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Result kubectl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(kubectl));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    static Result ok(String... args) throws Exception {
        Result r = kubectl(args);
        assertEquals(0, r.code(), "kubectl " + String.join(" ", args) + ": " + r.err() + r.out());
        return r;
    }

    /** kubectl's client minor version (fieldValidation came with 1.27). */
    static int clientMinor() throws Exception {
        Matcher m = Pattern.compile("\"minor\":\\s*\"(\\d+)").matcher(ok("version", "--client", "-o", "json").out());
        assertTrue(m.find(), "kubectl version --client -o json names its minor version");
        return Integer.parseInt(m.group(1));
    }

    /** The cells of {@code name}'s row under {@code header} (columns split on two or more spaces, as kubectl pads them). */
    static List<String> row(String table, String header, String name) {
        List<String> lines = table.lines().toList();
        assertTrue(!lines.isEmpty() && lines.get(0).trim().matches(header.replace(" ", "\\s+")), "header " + header + " in:\n" + table);
        for (String l : lines.subList(1, lines.size())) {
            List<String> cells = List.of(l.trim().split("\\s{2,}"));
            if (cells.get(0).equals(name)) {
                return cells;
            }
        }
        return null;
    }

    @Test
    void theSeedsKubectlCommands() throws Exception {
        Path vmYaml = TestGuest.testVmYaml();
        assertEquals("virtualmachine.kubevirt.io/testvm created\n", ok("apply", "-f", vmYaml.toString()).out());

        // kubectl get vms: KubeVirt's columns, the controller's status.
        List<String> stopped = SandboxIT.awaitValue(SHORT, "kubectl get vms shows testvm Stopped", () -> {
            try {
                List<String> r = row(ok("get", "vms").out(), "NAME AGE STATUS READY", "testvm");
                return r != null && r.size() >= 3 && r.get(2).equals("Stopped") ? r : null;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(stopped.get(1).matches("\\d+s"), "AGE as kubectl prints it: " + stopped);

        String yaml = ok("get", "vms", "-o", "yaml", "testvm").out();
        assertTrue(yaml.contains("kind: VirtualMachine") && yaml.contains("  name: testvm") && yaml.contains("running: false")
                && yaml.contains("kubectl.kubernetes.io/last-applied-configuration"), yaml);

        // A second apply: nothing changed, nothing sent. A third with a label: kubectl's merge patch (fieldValidation=Strict).
        assertEquals("virtualmachine.kubevirt.io/testvm unchanged\n", ok("apply", "-f", vmYaml.toString()).out());
        Path labelled = tmp.resolve("labelled.yaml");
        Files.writeString(labelled, Files.readString(vmYaml).replace("name: testvm\n", "name: testvm\n  labels:\n    qvirt.io/applied: twice\n"));
        assertEquals("virtualmachine.kubevirt.io/testvm configured\n", ok("apply", "-f", labelled.toString()).out());
        assertEquals("twice", ok("get", "vm", "testvm", "-o", "jsonpath={.metadata.labels.qvirt\\.io/applied}").out());

        Result start = run(List.of(SandboxIT.ROOT.resolve("bin/virtctl").toString(), "start", "testvm"));
        assertEquals(0, start.code(), start.err());
        assertEquals("VM testvm was scheduled to start\n", start.out());
        Result ready = ok("wait", "vm", "testvm", "--for", "condition=Ready", "--timeout=" + BOOT.toSeconds() + "s");
        assertEquals("virtualmachine.kubevirt.io/testvm condition met\n", ready.out());

        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class).inNamespace("default").withName("testvm").get();
        List<String> running = SandboxIT.awaitValue(SHORT, "kubectl get vmis shows testvm Running with its IP and node", () -> {
            try {
                List<String> r = row(ok("get", "vmis").out(), "NAME AGE PHASE IP NODENAME READY", "testvm");
                return r != null && r.size() == 6 && r.get(2).equals("Running") && r.get(5).equals("True") ? r : null;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(running.get(3).matches("\\d+\\.\\d+\\.\\d+\\.\\d+"), "IP: " + running);
        assertEquals(vmi.getStatus().getInterfaces().get(0).getIpAddress(), running.get(3));
        assertEquals(vmi.getStatus().getNodeName(), running.get(4));
        List<String> vmRow = row(ok("get", "vm", "testvm").out(), "NAME AGE STATUS READY", "testvm");
        assertEquals(List.of("Running", "True"), vmRow.subList(2, 4));
        // kubectl get all: the category reaches VMs, VMIs and the launcher pod.
        String all = ok("get", "all").out();
        assertTrue(all.contains("virtualmachine.kubevirt.io/testvm") && all.contains("virtualmachineinstance.kubevirt.io/testvm")
                && all.contains("pod/virt-launcher-testvm-"), all);

        // Refusals name the field: the front door's strict field validation, then virt-api's validating webhook.
        Path unknown = tmp.resolve("unknown-field.yaml");
        Files.writeString(unknown, Files.readString(vmYaml).replace("name: testvm\n", "name: oddvm\n  colour: red\n"));
        Result strict = kubectl("apply", "-f", unknown.toString());
        if (clientMinor() >= 27) {
            assertEquals(1, strict.code(), strict.out());
            assertTrue(strict.err().contains("strict decoding error: unknown field \"metadata.colour\""), strict.err());
        } else {
            // An older kubectl (Debian's 1.20) sends no fieldValidation and validates client-side against /openapi/v2,
            // which holds no schemas (README): the VM is stored, as the README says.
            assertEquals(0, strict.code(), strict.err());
            ok("delete", "vm", "oddvm");
        }
        Path invalid = tmp.resolve("invalid.yaml");
        Files.writeString(invalid, Files.readString(vmYaml).replace("name: testvm\n", "name: badvm\n")
                .replaceFirst("- name: containerdisk", "- name: Bad_Name"));
        Result denied = kubectl("apply", "-f", invalid.toString());
        assertEquals(1, denied.code(), denied.out());
        // kube-apiserver passes the webhook's Status on (Invalid, with KubeVirt's causes); kubectl prints the causes.
        assertTrue(denied.err().startsWith("The request is invalid") && denied.err().contains(
                "* spec.template.spec.domain.devices.disks[0].name: spec.template.spec.domain.devices.disks[0].name: "
                        + "spec.template.spec.domain.devices.disks[0].Name 'Bad_Name' not found."), denied.err());
        assertTrue(kubectl("get", "vm", "badvm").err().contains("\"badvm\" not found"));

        // kubectl delete waits for the VM to go (watch bridged to the mock); the controller then removes the rest.
        Result deleted = ok("delete", "vm", "testvm");
        assertEquals("virtualmachine.kubevirt.io \"testvm\" deleted\n", deleted.out());
        SandboxIT.await(Duration.ofSeconds(90), "nothing left: no VM, VMI or pod in default", () -> {
            try {
                Result r = kubectl("get", "vms,vmis,pods");
                return r.code() == 0 && r.out().isEmpty() && r.err().contains("No resources found in default namespace.");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Matcher launchers = Pattern.compile("qemu-system").matcher(String.join("\n", SandboxIT.processesMentioning(dir)));
        assertTrue(!launchers.find(), "no QEMU left: " + SandboxIT.processesMentioning(dir));
    }
}
