package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.VirtualMachine;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@code expand-spec} defaults a template with no interface by the KubeVirt CR's network settings, read live. */
class ExpandNetworkSettingsTest {
    static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: plain, namespace: default}
            spec:
              runStrategy: Halted
              template:
                spec:
                  domain: {devices: {}, memory: {guest: 64Mi}}
            """;

    @Test
    void theImplicitInterfaceFollowsDefaultNetworkInterface() throws Exception {
        AtomicReference<NetworkSettings> settings = new AtomicReference<>(NetworkSettings.QVIRT_DEFAULTS);
        // No request is made: a VM naming no instancetype is expanded without the API server.
        try (KubernetesClient unused = new KubernetesClientBuilder().build()) {
            VmSubresources vms = new VmSubresources(unused, settings::get);
            VirtualMachine vm = KubevirtJson.yaml().readValue(VM, VirtualMachine.class);
            JsonNode masquerade = vms.expand(vm, ApiError::badRequest).at("/spec/template/spec/domain/devices/interfaces/0");
            assertEquals("default", masquerade.path("name").asText());
            assertTrue(masquerade.has("masquerade"), masquerade.toString());
            settings.set(NetworkSettings.KUBEVIRT_DEFAULTS);
            JsonNode bridge = vms.expand(vm, ApiError::badRequest).at("/spec/template/spec/domain/devices/interfaces/0");
            assertTrue(bridge.has("bridge") && !bridge.has("masquerade"), bridge.toString());
        }
    }
}
