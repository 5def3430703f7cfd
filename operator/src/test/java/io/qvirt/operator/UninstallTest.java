package io.qvirt.operator;

import static io.qvirt.operator.MockCluster.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Deleting the KubeVirt CR uninstalls everything the operator installed, but not while VMs exist unless the CR says
 * RemoveWorkloads (KubeVirt's message in the CR's status meanwhile); the webhook refuses such a delete up front.
 */
class UninstallTest {
    private static final ResourceDefinitionContext VMS = new ResourceDefinitionContext.Builder().withGroup("kubevirt.io")
            .withVersion("v1").withKind("VirtualMachine").withPlural("virtualmachines").withNamespaced(true).build();

    private static int managedObjects(KubernetesClient client) {
        int n = 0;
        for (ManagedKind k : ManagedKind.values()) {
            var ops = client.genericKubernetesResources(k.context());
            n += (k.namespaced ? ops.inAnyNamespace().withLabel(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY)
                    : ops.withLabel(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY)).list().getItems().size();
        }
        return n;
    }

    @Test
    void refusedWhileVmsExistThenDoneWithRemoveWorkloads() throws Exception {
        try (InstalledCluster c = new InstalledCluster()) {
            KubernetesClient client = c.mock.client;
            GenericKubernetesResource vm = new GenericKubernetesResourceBuilder().withApiVersion("kubevirt.io/v1")
                    .withKind("VirtualMachine").withNewMetadata().withName("testvm").withNamespace("default").endMetadata()
                    .withAdditionalProperties(Map.of("spec", Map.of("runStrategy", "Halted"))).build();
            client.genericKubernetesResources(VMS).inNamespace("default").resource(vm).create();
            int installed = managedObjects(client);
            assertTrue(installed > 30, "installed: " + installed);

            // The webhook's answer, as kube-apiserver would ask it before the delete.
            var review = io.qvirt.api.KubevirtJson.json().readTree("""
                    {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
                     "request":{"uid":"u-1","operation":"DELETE","namespace":"kubevirt","name":"kubevirt"}}""");
            var answer = new KubeVirtAdmitter(client).admit(KubeVirtAdmitter.DELETE_PATH, review);
            assertEquals(false, answer.at("/response/allowed").asBoolean());
            assertEquals(String.format(KubeVirtReconciler.UNINSTALL_REFUSED, "Virtual Machines"),
                    answer.at("/response/status/message").asText());

            // Bypassing the webhook (the mock runs none): the finalizer holds the CR, status says why, nothing goes.
            client.resources(KubeVirt.class).inNamespace(NS).withName("kubevirt").delete();
            MockCluster.await(Duration.ofSeconds(30), "uninstall refused in status", () -> {
                KubeVirt kv = c.cr();
                return kv != null && KubeVirtStatus.DELETING.equals(InstallTest.phase(kv)) && InstallTest.is(kv, "Degraded", "True");
            });
            assertEquals(String.format(KubeVirtReconciler.UNINSTALL_REFUSED, "Virtual Machines"),
                    InstallTest.condition(c.cr(), "Degraded").getMessage());
            Thread.sleep(500);
            assertEquals(installed, managedObjects(client), "nothing removed while a VM exists");
            assertNotNull(client.genericKubernetesResources(VMS).inNamespace("default").withName("testvm").get());

            // RemoveWorkloads: the VM goes, then everything installed, then the CR.
            client.resources(KubeVirt.class).inNamespace(NS).withName("kubevirt").edit(kv -> {
                kv.getSpec().setUninstallStrategy(KubeVirtSpec.REMOVE_WORKLOADS);
                return kv;
            });
            MockCluster.await(Duration.ofSeconds(30), "the CR gone", () -> c.cr() == null);
            assertEquals(0, managedObjects(client));
            assertEquals(null, client.genericKubernetesResources(VMS).inNamespace("default").withName("testvm").get());
            assertEquals(null, client.apiextensions().v1().customResourceDefinitions().withName("virtualmachines.kubevirt.io").get());
            // What kubevirt-operator.yaml holds stays: the operator, its CRD and Service.
            assertNotNull(client.apps().deployments().inNamespace(NS).withName("virt-operator").get());
            assertNotNull(client.apiextensions().v1().customResourceDefinitions().withName("kubevirts.kubevirt.io").get());
        }
    }
}
