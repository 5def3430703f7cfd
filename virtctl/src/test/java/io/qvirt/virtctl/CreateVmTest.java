package io.qvirt.virtctl;

import static io.qvirt.virtctl.MockApiServer.virtctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.VmiValidator;
import io.qvirt.virtctl.MockApiServer.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code create vm}: KubeVirt's generator flags; the YAML it prints is loaded and validated by qvirt's api module. */
class CreateVmTest {
    @TempDir
    Path tmp;

    /** Loads the printed manifest with qvirt's loader and runs the VM and (defaulted) VMI admission rules on it. */
    static VirtualMachine valid(String yaml) throws Exception {
        List<LoadedManifest> docs = ManifestLoader.loadString(yaml, "virtctl create vm");
        assertEquals(1, docs.size());
        LoadedManifest m = docs.get(0);
        assertTrue(m.isVirtualMachine());
        assertEquals(List.of(), m.validate(), yaml);
        VirtualMachineInstance vmi = m.vmi();
        VmiDefaults.apply(vmi);
        assertEquals(List.of(), VmiValidator.validate(vmi), yaml);
        return m.vm();
    }

    @Test
    void defaultsAsKubevirt() throws Exception {
        Run r = virtctl(Map.of("HOME", tmp.toString()), "create", "vm");
        assertEquals(0, r.code(), r.err());
        VirtualMachine vm = valid(r.out());
        assertTrue(vm.getMetadata().getName().matches("vm-[a-z0-9]{5}"), vm.getMetadata().getName());
        assertTrue(r.out().contains("runStrategy: Always"), r.out());
        assertTrue(r.out().contains("terminationGracePeriodSeconds: 180"), r.out());
        assertTrue(r.out().contains("guest: 512Mi"), r.out());
    }

    @Test
    void theSeedShapedVm() throws Exception {
        Run r = virtctl(Map.of("HOME", tmp.toString()), "create", "vm", "--name", "testvm", "--run-strategy", "halted",
                "--memory", "128Mi", "--volume-containerdisk", "src:127.0.0.1:5000/qvirt/guest:latest",
                "--cloud-init-user-data", "SGkuXG4=", "--termination-grace-period", "30");
        assertEquals(0, r.code(), r.err());
        valid(r.out());
        assertEquals("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: testvm
                spec:
                  runStrategy: Halted
                  template:
                    spec:
                      domain:
                        devices: {}
                        memory:
                          guest: 128Mi
                        resources: {}
                      terminationGracePeriodSeconds: 30
                      volumes:
                        - name: testvm-containerdisk-0
                          containerDisk:
                            image: 127.0.0.1:5000/qvirt/guest:latest
                        - name: cloudinitdisk
                          cloudInitNoCloud:
                            userDataBase64: SGkuXG4=
                """, r.out());
    }

    @Test
    void generatedCloudConfigBootOrderAndNamespace() throws Exception {
        Path pw = Files.writeString(tmp.resolve("pw"), "s3cret\n");
        Run r = virtctl(Map.of("HOME", tmp.toString()), "-n", "team", "create", "vm", "--name", "a",
                "--volume-containerdisk", "src:reg.local/os:1,name:root,bootorder:1",
                "--volume-containerdisk", "src:reg.local/data:2",
                "--user", "cloud-user", "--password-file", pw.toString(), "--ssh-key", "ssh-ed25519 AAAAkey");
        assertEquals(0, r.code(), r.err());
        VirtualMachine vm = valid(r.out());
        assertEquals("team", vm.getMetadata().getNamespace());
        assertTrue(r.out().contains("bootOrder: 1"), r.out());
        assertTrue(r.out().contains("name: a-containerdisk-1"), r.out());
        assertTrue(r.out().contains("userData: |\n"), r.out());
        assertTrue(r.out().contains("#cloud-config\n") && r.out().contains("user: cloud-user\n")
                && r.out().contains("password: s3cret\n") && r.out().contains("  - ssh-ed25519 AAAAkey\n"), r.out());
        assertTrue(r.err().contains("WARNING: --password-file: The password is stored in cleartext"), r.err());
        assertNotNull(vm.getSpec().getTemplate());
    }

    @Test
    void refusals() {
        Map<String, String> env = Map.of("HOME", tmp.toString());
        Run r = virtctl(env, "create", "vm", "--volume-containerdisk", "src:a/b", "--volume-containerdisk", "src:c/d,name:vm1-containerdisk-0", "--name", "vm1");
        assertEquals(2, r.code());
        assertEquals("error: --volume-containerdisk: there is already a volume with name \"vm1-containerdisk-0\"\n", r.err());
        r = virtctl(env, "create", "vm", "--volume-containerdisk", "src:a/b,bootorder:0");
        assertEquals("error: --volume-containerdisk: bootorder must be greater than 0\n", r.err());
        r = virtctl(env, "create", "vm", "--cloud-init-user-data", "SGk=", "--user", "x");
        assertEquals(2, r.code());
        r = virtctl(env, "create", "vm", "--name", "Not_A_Name");
        assertEquals(2, r.code());
        r = virtctl(env, "create", "vm", "--cloud-init", "configdrive", "--user", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("qvirt does not run cloudInitConfigDrive"), r.err());
    }
}
