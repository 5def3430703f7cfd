package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * cloud-init data over KubeVirt's limits (vmi-create-admitter.go: cloudInitUserMaxLen and cloudInitNetworkMaxLen,
 * 2048 bytes each: the VMI is copied to every node, larger data belongs in a Secret): refused by the volume's
 * field with KubeVirt's message, counting bytes (UTF-8, and base64 decoded), for VMIs, VM templates and both
 * validators virt-api's webhook calls.
 */
class CloudInitLimitTest {
    private static final String USER_MSG = " userdata exceeds 2048 byte limit. Should use UserDataSecretRef for larger data.";
    private static final String NET_MSG = " networkdata exceeds 2048 byte limit. Should use NetworkDataSecretRef for larger data.";

    /** A VMI whose second volume is {@code cloudInitNoCloud: {KEY: VALUE}}; VALUE is quoted as a YAML string. */
    private static List<FieldError> vmi(String key, String value) throws Exception {
        String yaml = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: t}
                spec:
                  domain:
                    devices:
                      disks:
                      - {name: root, disk: {bus: virtio}}
                      - {name: ci, disk: {bus: virtio}}
                    resources: {requests: {memory: 64M}}
                  volumes:
                  - {name: root, containerDisk: {image: quay.io/kubevirt/cirros-container-disk-demo}}
                  - {name: ci, cloudInitNoCloud: {%s: "%s"}}
                """.formatted(key, value);
        LoadedManifest m = ManifestLoader.loadString(yaml, "vmi").get(0);
        List<FieldError> viaLoader = m.validate();
        assertEquals(viaLoader, VmiValidator.validate(m.vmi()), "the webhook's validator says the same");
        return viaLoader;
    }

    private static String base64(int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return Base64.getEncoder().encodeToString(b);
    }

    private static List<FieldError> refused(String msg) {
        return List.of(new FieldError("spec.volumes[1].cloudInitNoCloud", "spec.volumes[1].cloudInitNoCloud" + msg));
    }

    @Test
    void userDataUpToTheLimitIsAdmittedOneByteMoreIsNot() throws Exception {
        assertEquals(List.of(), vmi("userData", "x".repeat(2048)));
        assertEquals(refused(USER_MSG), vmi("userData", "x".repeat(2049)));
    }

    @Test
    void userDataIsCountedInUtf8Bytes() throws Exception {
        assertEquals(2048, "é".repeat(1024).getBytes(StandardCharsets.UTF_8).length);
        assertEquals(List.of(), vmi("userData", "é".repeat(1024)));
        assertEquals(refused(USER_MSG), vmi("userData", "é".repeat(1025)), "1025 characters, 2050 bytes");
    }

    @Test
    void base64IsCountedDecoded() throws Exception {
        assertEquals(List.of(), vmi("userDataBase64", base64(2048)), "2732 characters encoding 2048 bytes");
        assertEquals(refused(USER_MSG), vmi("userDataBase64", base64(2049)));
        assertEquals(List.of(), vmi("networkDataBase64", base64(2048)));
        assertEquals(refused(NET_MSG), vmi("networkDataBase64", base64(2049)));
    }

    @Test
    void networkDataUpToTheLimitIsAdmittedOneByteMoreIsNot() throws Exception {
        assertEquals(List.of(), vmi("networkData", "n".repeat(2048)));
        assertEquals(refused(NET_MSG), vmi("networkData", "n".repeat(2049)));
    }

    @Test
    void aVmTemplateIsRefusedByItsOwnPath() throws Exception {
        String yaml = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: t}
                spec:
                  running: false
                  template:
                    spec:
                      domain:
                        devices:
                          disks:
                          - {name: ci, disk: {bus: virtio}}
                        resources: {requests: {memory: 64M}}
                      volumes:
                      - {name: ci, cloudInitNoCloud: {userData: "%s", networkData: "%s"}}
                """.formatted("u".repeat(3000), "n".repeat(2049));
        LoadedManifest m = ManifestLoader.loadString(yaml, "vm").get(0);
        String p = "spec.template.spec.volumes[0].cloudInitNoCloud";
        List<FieldError> expected = List.of(new FieldError(p, p + USER_MSG), new FieldError(p, p + NET_MSG));
        assertEquals(expected, m.validate());
        assertEquals(expected, VmValidator.validate(m.vm()));
    }
}
