package io.qvirt.virtctl;

import static io.qvirt.virtctl.MockApiServer.virtctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.qvirt.api.VirtualMachine;
import io.qvirt.virtctl.MockApiServer.Run;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code expose}: the Service KubeVirt's expose makes, created through the (mock) API server. */
class ExposeTest {
    @TempDir
    Path tmp;
    MockApiServer api;
    Map<String, String> env;

    @BeforeEach
    void up() throws Exception {
        api = new MockApiServer();
        env = Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString());
    }

    @AfterEach
    void down() {
        api.close();
    }

    @Test
    void exposeVmWithPort() {
        VirtualMachine vm = api.createSeedVm("ns1");
        Run r = virtctl(env, "expose", "vm", "testvm", "--name", "testvm-http", "--port", "8080", "--target-port", "80",
                "--type", "nodeport");
        assertEquals(0, r.code(), r.err());
        assertEquals("Service testvm-http successfully created for vm testvm\n", r.out());
        Service svc = api.client.services().inNamespace("ns1").withName("testvm-http").get();
        assertNotNull(svc);
        assertEquals(Map.of("vmi.kubevirt.io/id", "testvm"), svc.getSpec().getSelector());
        assertEquals("NodePort", svc.getSpec().getType());
        ServicePort p = svc.getSpec().getPorts().get(0);
        assertEquals(List.of(8080, "TCP", new IntOrString(80)), List.of(p.getPort(), p.getProtocol(), p.getTargetPort()));
        assertNull(p.getName());
        OwnerReference owner = svc.getMetadata().getOwnerReferences().get(0);
        assertEquals(List.of("kubevirt.io/v1", "VirtualMachine", "testvm", vm.getMetadata().getUid(), true, false),
                List.of(owner.getApiVersion(), owner.getKind(), owner.getName(), owner.getUid(), owner.getController(),
                        owner.getBlockOwnerDeletion()));

        // the same name again: the API server's conflict, passed through
        r = virtctl(env, "expose", "vm", "testvm", "--name", "testvm-http", "--port", "8080");
        assertEquals(1, r.code());
        assertEquals(true, r.err().startsWith("error: service creation failed: "), r.err());
    }

    @Test
    void exposeVmiWithoutPortUsesThePodInterfacePorts() {
        Map<String, Object> iface = Map.of("name", "default", "masquerade", Map.of(),
                "ports", List.of(Map.of("port", 80), Map.of("port", 53, "protocol", "UDP")));
        Map<String, Object> spec = Map.of("networks", List.of(Map.of("name", "default", "pod", Map.of())),
                "domain", Map.of("devices", Map.of("interfaces", List.of(iface))));
        io.fabric8.kubernetes.api.model.GenericKubernetesResource vmi = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
                .withApiVersion("kubevirt.io/v1").withKind("VirtualMachineInstance")
                .withNewMetadata().withName("vmi1").withNamespace("ns1").endMetadata().build();
        vmi.setAdditionalProperty("spec", spec);
        api.client.resource(vmi).inNamespace("ns1").create();
        Run r = virtctl(env, "expose", "vmi", "vmi1", "--name", "web");
        assertEquals(0, r.code(), r.err());
        Service svc = api.client.services().inNamespace("ns1").withName("web").get();
        assertEquals(2, svc.getSpec().getPorts().size());
        assertEquals(List.of("port-1", 80, "port-2", 53, "UDP"), List.of(svc.getSpec().getPorts().get(0).getName(),
                svc.getSpec().getPorts().get(0).getPort(), svc.getSpec().getPorts().get(1).getName(),
                svc.getSpec().getPorts().get(1).getPort(), svc.getSpec().getPorts().get(1).getProtocol()));
        assertEquals("VirtualMachineInstance", svc.getMetadata().getOwnerReferences().get(0).getKind());

        // the seed VM lists no ports: nothing to expose without --port
        api.createSeedVm("ns1");
        r = virtctl(env, "expose", "vm", "testvm", "--name", "none");
        assertEquals(2, r.code());
        assertEquals("error: couldn't find port via --port flag or introspection\n", r.err());
        assertNull(api.client.services().inNamespace("ns1").withName("none").get());
    }

    @Test
    void longNamesAreHashedAsKubevirt() {
        String name = "a".repeat(70);
        String id = ExposeCommand.vmiId(name);
        assertEquals(63, id.length());
        assertEquals("a".repeat(54) + "-", id.substring(0, 55));
        assertEquals("short", ExposeCommand.vmiId("short"));
    }
}
