package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.NetworkSettings;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The KubeVirt CR's {@code spec.configuration.network} through virt-api's webhooks: read from the API server (fabric8's
 * CRUD mock, NOT a kube-apiserver) by {@link KubeVirtConfig}, applied by the VMI mutator (the implicit interface's
 * binding) and the validators (bridge on the pod network refused by field when not permitted).
 */
class AdmissionNetworkSettingsTest {
    private static final String NO_INTERFACES = "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachineInstance\","
            + "\"metadata\":{\"name\":\"v\",\"namespace\":\"default\"},\"spec\":{\"domain\":{\"devices\":{},"
            + "\"resources\":{\"requests\":{\"memory\":\"64Mi\"}}}}}";
    private static final String BRIDGE_ON_POD = "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachineInstance\","
            + "\"metadata\":{\"name\":\"v\",\"namespace\":\"default\"},\"spec\":{\"domain\":{\"devices\":{\"interfaces\":"
            + "[{\"name\":\"default\",\"bridge\":{}}]},\"resources\":{\"requests\":{\"memory\":\"64Mi\"}}},"
            + "\"networks\":[{\"name\":\"default\",\"pod\":{}}]}}";

    private static byte[] review(String vmi) throws Exception {
        ObjectNode r = AdmissionTest.review("VirtualMachineInstance", "CREATE", KubevirtJson.json().readTree(vmi), null, "alice");
        return r.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The interface the VMI mutator's patch gives a VMI with none. */
    private static JsonNode defaultedInterface(Admission a) throws Exception {
        JsonNode resp = a.handle("/virtualmachineinstances-mutate", review(NO_INTERFACES)).path("response");
        assertTrue(resp.path("allowed").asBoolean(), resp.toString());
        JsonNode patch = KubevirtJson.json().readTree(Base64.getDecoder().decode(resp.path("patch").asText()));
        JsonNode spec = patch.get(0).path("value");
        assertEquals("default", spec.path("networks").get(0).path("name").asText(), spec.toString());
        assertTrue(spec.path("networks").get(0).has("pod"), spec.toString());
        return spec.path("domain").path("devices").path("interfaces").get(0);
    }

    @Test
    void theKubeVirtCrsNetworkSettingsReachTheWebhooks() throws Exception {
        KubernetesMockServer mock = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        mock.init();
        try (KubernetesClient client = mock.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withNamespace("kubevirt").withRequestRetryBackoffLimit(0).endConfig())) {
            // no CR: qvirt's defaults, masquerade
            JsonNode iface = defaultedInterface(KubeVirtConfig.admission(client));
            assertTrue(iface.has("masquerade") && !iface.has("bridge"), iface.toString());

            GenericKubernetesResource cr = new GenericKubernetesResource();
            cr.setApiVersion("kubevirt.io/v1");
            cr.setKind("KubeVirt");
            cr.setMetadata(new ObjectMetaBuilder().withName("kubevirt").withNamespace("kubevirt").build());
            cr.setAdditionalProperties(Map.of("spec", Map.of("configuration", Map.of("network",
                    Map.of("defaultNetworkInterface", "bridge", "permitBridgeInterfaceOnPodNetwork", false)))));
            client.genericKubernetesResources(KubeVirtConfig.KUBEVIRT).inNamespace("kubevirt").resource(cr).create();

            Admission a = KubeVirtConfig.admission(client);
            iface = defaultedInterface(a);
            assertTrue(iface.has("bridge") && !iface.has("masquerade"), iface.toString());
            for (String vmi : List.of(BRIDGE_ON_POD, NO_INTERFACES)) {
                JsonNode resp = a.handle("/virtualmachineinstances-validate-create", review(vmi)).path("response");
                assertFalse(resp.path("allowed").asBoolean(), resp.toString());
                JsonNode cause = resp.path("status").path("details").path("causes").get(0);
                assertEquals("spec.domain.devices.interfaces[0].name", cause.path("field").asText(), resp.toString());
                assertEquals("spec.domain.devices.interfaces[0].name: Bridge on pod network configuration is not enabled "
                        + "under kubevirt-config", cause.path("message").asText());
            }

            // A change to the CR reaches the same webhooks while they serve (through the informer's watch).
            cr.setAdditionalProperties(Map.of("spec", Map.of("configuration", Map.of("network",
                    Map.of("defaultNetworkInterface", "masquerade")))));
            client.genericKubernetesResources(KubeVirtConfig.KUBEVIRT).inNamespace("kubevirt").resource(cr).update();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
            do {
                iface = defaultedInterface(a);
                if (iface.has("masquerade")) {
                    break;
                }
                Thread.sleep(100);
            } while (System.nanoTime() < deadline);
            assertTrue(iface.has("masquerade") && !iface.has("bridge"), "the updated CR applied: " + iface);
        } finally {
            mock.destroy();
        }
    }

    @Test
    void theCrsValuesAreReadAsKubeVirtReadsThem() {
        assertEquals(NetworkSettings.QVIRT_DEFAULTS, KubeVirtConfig.networkSettings(null));
        assertEquals(NetworkSettings.QVIRT_DEFAULTS, KubeVirtConfig.networkSettings(Map.of("configuration", Map.of())));
        assertEquals(NetworkSettings.QVIRT_DEFAULTS, KubeVirtConfig.networkSettings(Map.of("configuration",
                Map.of("network", Map.of("defaultNetworkInterface", "")))));
        assertEquals(new NetworkSettings("bridge", true), KubeVirtConfig.networkSettings(Map.of("configuration",
                Map.of("network", Map.of("defaultNetworkInterface", "bridge")))));
        assertEquals(new NetworkSettings("masquerade", false), KubeVirtConfig.networkSettings(Map.of("configuration",
                Map.of("network", Map.of("permitBridgeInterfaceOnPodNetwork", false)))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KubeVirtConfig.networkSettings(
                Map.of("configuration", Map.of("network", Map.of("defaultNetworkInterface", "slirp")))));
        assertEquals("spec.configuration.network.defaultNetworkInterface: 'slirp' is not allowed: bridge, masquerade",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KubeVirtConfig.networkSettings(
                Map.of("configuration", Map.of("network", Map.of("permitBridgeInterfaceOnPodNetwork", "yes")))));
        assertEquals("spec.configuration.network.permitBridgeInterfaceOnPodNetwork: 'yes' is not allowed: true, false",
                e.getMessage());
    }
}
