package io.qvirt.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's network settings as {@code launcher} flags, through the command line a user runs (in process): a VM
 * with no interfaces (KubeVirt's {@code examples/vm-cirros.yaml}, byte for byte but the copy's name) gets masquerade
 * and is valid; with {@code --default-network-interface bridge} it is refused by name with the way out; with bridge
 * not permitted, a declared bridge gets KubeVirt's refusal; bad flag values are refused naming the flag.
 */
class NetworkOptionsTest {
    /** KubeVirt's examples/vm-cirros.yaml: no interfaces, no networks. */
    static final String VM_CIRROS = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              labels:
                kubevirt.io/vm: vm-cirros
              name: vm-cirros
            spec:
              runStrategy: Halted
              template:
                metadata:
                  labels:
                    kubevirt.io/vm: vm-cirros
                spec:
                  domain:
                    devices:
                      disks:
                      - disk:
                          bus: virtio
                        name: containerdisk
                      - disk:
                          bus: virtio
                        name: cloudinitdisk
                    memory:
                      guest: 128Mi
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

    record Run(int code, String out, String err) {
    }

    private Run launcher(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path file(String text) throws Exception {
        Path f = tmp.resolve("vm.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void aVmWithNoInterfacesGetsMasqueradeAndIsValid() throws Exception {
        Path f = file(VM_CIRROS);
        Run r = launcher("validate", f.toString(), "--runtime-root", tmp.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("valid: default/vm-cirros (" + f + ")\n", r.out());
        // what run would start: a user-mode netdev for the implicit interface "default"
        Run render = launcher("render", f.toString(), "--accel", "tcg", "--runtime-root", tmp.resolve("run").toString());
        assertEquals(0, render.code(), render.err());
        assertTrue(render.out().contains("user,id=net0,net=10.0.2.0/24"), render.out());
        assertTrue(render.out().contains("virtio-net-pci,netdev=net0,id=ua-default"), render.out());
    }

    @Test
    void kubevirtsDefaultBridgeIsRefusedByNameWithTheWayOut() throws Exception {
        Path f = file(VM_CIRROS);
        Run r = launcher("validate", f.toString(), "--default-network-interface", "bridge",
                "--runtime-root", tmp.resolve("run").toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("spec.template.spec.domain.devices.interfaces[0].bridge: not supported by qvirt on "
                + "one machine: use masquerade (masquerade: {} on the interface; a VM with no interfaces gets it unless "
                + "--default-network-interface bridge)"), r.err());
    }

    @Test
    void bridgeNotPermittedOnThePodNetworkGetsKubevirtsRefusal() throws Exception {
        String declared = VM_CIRROS.replace("    devices:\n", "    devices:\n          interfaces:\n"
                + "          - name: default\n            bridge: {}\n").replace("\n      volumes:\n",
                "\n      networks:\n      - name: default\n        pod: {}\n      volumes:\n");
        assertTrue(declared.contains("bridge: {}") && declared.contains("pod: {}"), declared);
        Path f = file(declared);
        Run r = launcher("validate", f.toString(), "--permit-bridge-interface-on-pod-network", "false",
                "--runtime-root", tmp.resolve("run").toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("  spec.template.spec.domain.devices.interfaces[0].name: Bridge on pod network "
                + "configuration is not enabled under kubevirt-config"), r.err());
        // permitted (the default): KubeVirt would admit it, and qvirt refuses what it cannot run, by name
        r = launcher("validate", f.toString(), "--runtime-root", tmp.resolve("run").toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("interfaces[0].bridge: not supported by qvirt on one machine: use masquerade"), r.err());
    }

    @Test
    void badValuesAreRefusedNamingTheFlag() throws Exception {
        Path f = file(VM_CIRROS);
        Run r = launcher("validate", f.toString(), "--default-network-interface", "slirp");
        assertEquals(2, r.code());
        assertEquals("error: --default-network-interface: 'slirp' is not allowed: bridge, masquerade\n", r.err());
        r = launcher("validate", f.toString(), "--permit-bridge-interface-on-pod-network", "maybe");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: Invalid value for option '--permit-bridge-interface-on-pod-network': "
                + "'maybe' is not a boolean"), r.err());
    }
}
