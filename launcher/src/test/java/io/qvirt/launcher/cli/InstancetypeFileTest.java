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
                + "(another document, after ---, in namespace default)"), v.err());
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
