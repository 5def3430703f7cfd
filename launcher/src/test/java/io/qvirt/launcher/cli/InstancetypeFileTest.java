package io.qvirt.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code launcher validate|render FILE} with a VM naming an instancetype and a preference given as other documents
 * of the same file (KubeVirt's {@code examples/clarge.yaml}, {@code virtio.yaml}, {@code vm-cirros-clarge-virtio.yaml}).
 */
class InstancetypeFileTest {
    static final String CLARGE = """
            apiVersion: instancetype.kubevirt.io/v1beta1
            kind: VirtualMachineInstancetype
            metadata:
              name: clarge
            spec:
              cpu:
                guest: 4
              memory:
                guest: 2Gi
            """;
    static final String VIRTIO = """
            apiVersion: instancetype.kubevirt.io/v1beta1
            kind: VirtualMachinePreference
            metadata:
              name: virtio
            spec:
              devices:
                preferredDiskBus: virtio
                preferredInterfaceModel: virtio
            """;
    /** KubeVirt's vm-cirros-clarge-virtio.yaml, its image from a local registry name. */
    static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: vm-cirros-clarge-virtio
            spec:
              instancetype:
                kind: VirtualMachineInstancetype
                name: clarge
              preference:
                kind: VirtualMachinePreference
                name: virtio
              runStrategy: Halted
              template:
                spec:
                  domain:
                    devices:
                      disks:
                      - disk: {}
                        name: containerdisk
                      - disk: {}
                        name: cloudinitdisk
                    %s
                    resources: {}
                  terminationGracePeriodSeconds: 0
                  volumes:
                  - containerDisk:
                      image: registry:5000/kubevirt/cirros-container-disk-demo:devel
                    name: containerdisk
                  - cloudInitNoCloud:
                      userData: |
                        #!/bin/sh
                        echo 'printed from cloud-init userdata'
                    name: cloudinitdisk
            """;

    @TempDir
    Path tmp;

    record Outcome(int code, String out, String err) {
    }

    Outcome launcher(String command, String... docs) throws Exception {
        Path file = tmp.resolve("vm.yaml");
        Files.writeString(file, String.join("---\n", docs), StandardCharsets.UTF_8);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(command, file.toString(), "--runtime-root", tmp.resolve("run").toString());
        return new Outcome(code, out.toString(), err.toString());
    }

    static String vm(boolean guestMemory) {
        return String.format(VM, guestMemory ? "memory: {guest: 128Mi}" : "");
    }

    @Test
    void theExpandedVmIsPlannedWithTheInstancetypesCpusAndMemoryAndThePreferredBuses() throws Exception {
        Outcome v = launcher("validate", CLARGE, VIRTIO, vm(false));
        assertEquals(0, v.code(), v.err());
        Outcome r = launcher("render", CLARGE, VIRTIO, vm(false));
        assertEquals(0, r.code(), r.err());
        List<String> argv = r.out().lines().toList();
        String smp = argv.get(argv.indexOf("-smp") + 1);
        assertTrue(smp.startsWith("4,") && smp.contains("sockets=4") && smp.contains("cores=1") && smp.contains("threads=1"),
                smp);
        String mem = argv.get(argv.indexOf("-m") + 1);
        assertEquals("2048M", mem);
        assertTrue(argv.stream().filter(a -> a.contains("virtio-blk")).count() >= 2, "both disks virtio: " + r.out());
        assertTrue(argv.stream().noneMatch(a -> a.contains("ide-hd")), r.out());
    }

    @Test
    void kubevirtsExampleAsWrittenIsRefusedForItsGuestMemoryAsKubevirtRefusesIt() throws Exception {
        Outcome v = launcher("validate", CLARGE, VIRTIO, vm(true));
        assertEquals(ExitCodes.INVALID, v.code(), v.out() + v.err());
        assertTrue(v.err().contains("spec.template.spec.domain.memory.guest: VM field(s) "
                + "spec.template.spec.domain.memory.guest conflicts with selected instance type"), v.err());
    }

    @Test
    void anInstancetypeMissingFromTheFileIsNamedWithWhereToPutIt() throws Exception {
        Outcome v = launcher("validate", VIRTIO, vm(false));
        assertEquals(ExitCodes.INVALID, v.code(), v.out() + v.err());
        assertTrue(v.err().contains("spec.instancetype.name: virtualmachineinstancetypes.instancetype.kubevirt.io "
                + "\"clarge\" not found: put the VirtualMachineInstancetype in the same file as the VirtualMachine "
                + "(another document, after ---, in namespace default) or in a file given with --instancetypes"), v.err());
    }

    Outcome launcherWith(String command, String vm, String... args) throws Exception {
        Path file = tmp.resolve("vm.yaml");
        Files.writeString(file, vm, StandardCharsets.UTF_8);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> argv = new java.util.ArrayList<>(List.of(command, file.toString(), "--runtime-root",
                tmp.resolve("run").toString()));
        argv.addAll(List.of(args));
        int code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(argv.toArray(String[]::new));
        return new Outcome(code, out.toString(), err.toString());
    }

    @Test
    void instancetypesFromAFileOrADirectoryOfThemAsIfInTheVmsFile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("its"));
        Files.writeString(dir.resolve("clarge.yaml"), CLARGE);
        Files.writeString(dir.resolve("virtio.yml"), VIRTIO);
        Files.writeString(dir.resolve("notes.txt"), "not read: not yaml or json");
        Outcome fromDir = launcherWith("render", vm(false), "--instancetypes", dir.toString());
        assertEquals(0, fromDir.code(), fromDir.err());
        List<String> argv = fromDir.out().lines().toList();
        assertEquals("2048M", argv.get(argv.indexOf("-m") + 1));
        Outcome fromFiles = launcherWith("render", vm(false), "--instancetypes", dir.resolve("clarge.yaml").toString(),
                "--instancetypes", dir.resolve("virtio.yml").toString());
        assertEquals(fromDir, fromFiles);
        // A preference alone: the instancetype it lacks is named.
        Outcome missing = launcherWith("validate", vm(false), "--instancetypes", dir.resolve("virtio.yml").toString());
        assertEquals(ExitCodes.INVALID, missing.code());
        assertTrue(missing.err().contains("spec.instancetype.name: ") && missing.err().contains("\"clarge\" not found"),
                missing.err());
    }

    @Test
    void qvirtsCommonInstancetypesExpandU1Medium() throws Exception {
        Path common = io.qvirt.testdata.TestGuest.projectRoot().resolve("manifests/instancetypes");
        String vm = vm(false).replace("kind: VirtualMachineInstancetype\n    name: clarge",
                "kind: VirtualMachineClusterInstancetype\n    name: u1.medium")
                .replace("kind: VirtualMachinePreference\n    name: virtio", "name: fedora");
        assertTrue(vm.contains("u1.medium") && vm.contains("name: fedora"), vm);
        Outcome r = launcherWith("render", vm, "--instancetypes", common.toString(), "--accel", "tcg");
        assertEquals(0, r.code(), r.err());
        List<String> argv = r.out().lines().toList();
        assertEquals("4096M", argv.get(argv.indexOf("-m") + 1), "u1.medium: 4Gi");
        assertTrue(argv.get(argv.indexOf("-smp") + 1).startsWith("1,"), r.out());
        assertTrue(r.out().contains("OVMF"), "the fedora preference's EFI: " + r.out());
    }

    @Test
    void anInstancetypesFileHoldingAVmOrADirectoryHoldingNoneIsRefusedByName() throws Exception {
        Path vmFile = tmp.resolve("other-vm.yaml");
        Files.writeString(vmFile, vm(false));
        Outcome v = launcherWith("validate", vm(false), "--instancetypes", vmFile.toString());
        assertEquals(ExitCodes.INVALID, v.code());
        assertTrue(v.err().contains("--instancetypes takes only") && v.err().contains("not a VirtualMachine"), v.err());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Outcome e = launcherWith("validate", vm(false), "--instancetypes", empty.toString());
        assertEquals(ExitCodes.INVALID, e.code());
        assertTrue(e.err().contains("--instancetypes: the directory holds no"), e.err());
        Outcome n = launcherWith("validate", vm(false), "--instancetypes", tmp.resolve("nope.yaml").toString());
        assertEquals(ExitCodes.INVALID, n.code());
        assertTrue(n.err().contains("nope.yaml") && n.err().contains("no such file"), n.err());
    }

    @Test
    void anInvalidInstancetypeDocumentIsRefusedByItsOwnPaths() throws Exception {
        Outcome v = launcher("validate", CLARGE.replace("guest: 4", "guest: 0"), VIRTIO, vm(false));
        assertEquals(ExitCodes.INVALID, v.code(), v.out() + v.err());
        assertTrue(v.err().contains("VirtualMachineInstancetype clarge") && v.err().contains("spec.cpu.guest"), v.err());
    }

    @Test
    void twoVmsOrAnInstancetypeBesideAVmiAreRefused() throws Exception {
        Outcome two = launcher("validate", CLARGE, vm(false), vm(false));
        assertEquals(ExitCodes.INVALID, two.code());
        assertTrue(two.err().contains("expected exactly one VirtualMachine or VirtualMachineInstance"), two.err());
        Outcome vmi = launcher("validate", CLARGE, "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\n"
                + "metadata: {name: i}\nspec: {domain: {devices: {}, memory: {guest: 64Mi}}}\n");
        assertEquals(ExitCodes.INVALID, vmi.code());
        assertTrue(vmi.err().contains("goes with a VirtualMachine"), vmi.err());
    }
}
