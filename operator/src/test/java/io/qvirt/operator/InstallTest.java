package io.qvirt.operator;

import static io.qvirt.operator.MockCluster.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.qvirt.api.model.Condition;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's install flow on fabric8's CRUD mock: the two release files applied, the operator (in-process, as its
 * Deployment would run it) installs everything with the registry and tag asked for, the components only once the
 * FAKE apiextensions controller has marked the CRDs Established, and the CR becomes Available only once the FAKE
 * workload controllers report the components ready.
 */
class InstallTest {
    static final String REGISTRY = "registry.internal:5000/virt";
    static final String TAG = "v1.2.3";

    static OperatorOptions options() {
        return new OperatorOptions(NS, REGISTRY, TAG, Duration.ofMinutes(5), Duration.ofDays(3650), Duration.ofDays(365));
    }

    static KubeVirt cr(MockCluster mock) {
        return mock.client.resources(KubeVirt.class).inNamespace(NS).withName("kubevirt").get();
    }

    static Condition condition(KubeVirt kv, String type) {
        if (kv == null || kv.getStatus() == null || kv.getStatus().getConditions() == null) {
            return null;
        }
        return kv.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    static boolean is(KubeVirt kv, String type, String status) {
        Condition c = condition(kv, type);
        return c != null && status.equals(c.getStatus());
    }

    static String phase(KubeVirt kv) {
        return kv == null || kv.getStatus() == null ? null : kv.getStatus().getPhase();
    }

    @Test
    void installsEverythingFromTheCrAndIsAvailableOnlyOnceReady(@TempDir Path dir) throws Exception {
        assertEquals(0, MockCluster.render(dir, REGISTRY, TAG));
        try (MockCluster mock = new MockCluster()) {
            mock.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node01").endMetadata()
                    .withNewStatus().addNewAddress().withType("InternalIP").withAddress("10.0.0.7").endAddress().endStatus()
                    .build()).create();
            mock.applyRelease(dir);
            try (Operator operator = new Operator(mock.newClient("operator"), options());
                 FakeCrdEstablisher crds = new FakeCrdEstablisher(mock.client)) {
                operator.start();
                // KubeVirt's order: the CRDs first, and no component before the API server serves their kinds.
                MockCluster.await(Duration.ofSeconds(30), "the CRDs and the Services", () -> mock.client.apiextensions().v1()
                        .customResourceDefinitions().withName("virtualmachineclusterpreferences.instancetype.kubevirt.io").get() != null
                        && mock.client.services().inNamespace(NS).withName("kubevirt-prometheus-metrics").get() != null);
                Thread.sleep(300);
                assertEquals(null, mock.client.apps().deployments().inNamespace(NS).withName("virt-api").get(),
                        "virt-api created before the CRDs are Established");
                assertEquals(null, mock.client.apps().daemonSets().inNamespace(NS).withName("virt-handler").get());
                assertEquals(null, mock.client.genericKubernetesResources(ManagedKind.CLUSTER_INSTANCETYPE.context())
                        .withName("u1.medium").get(), "a common instancetype created before its CRD is Established");
                assertTrue(is(cr(mock), "Available", "False") && is(cr(mock), "Progressing", "True"));
                assertTrue(crds.establishAll() >= 7, "the CRDs the operator installed, marked Established");
                // The common instancetypes and preferences, as KubeVirt's commonInstancetypesDeployment (on by default).
                MockCluster.await(Duration.ofSeconds(30), "the common instancetypes and preferences", () ->
                        mock.client.genericKubernetesResources(ManagedKind.CLUSTER_INSTANCETYPE.context())
                                .withName("u1.medium").get() != null
                        && mock.client.genericKubernetesResources(ManagedKind.CLUSTER_PREFERENCE.context())
                                .withName("fedora").get() != null);
                GenericKubernetesResource u1 = mock.client.genericKubernetesResources(
                        ManagedKind.CLUSTER_INSTANCETYPE.context()).withName("u1.medium").get();
                assertEquals(Map.of("guest", 1), u1.getAdditionalProperties().get("spec") instanceof Map<?, ?> m
                        ? m.get("cpu") : null, "u1.medium as common-instancetypes publishes it");
                MockCluster.await(Duration.ofSeconds(30), "virt-handler DaemonSet",
                        () -> mock.client.apps().daemonSets().inNamespace(NS).withName("virt-handler").get() != null);
                MockCluster.await(Duration.ofSeconds(30), "phase Deploying", () -> KubeVirtStatus.DEPLOYING.equals(phase(cr(mock))));

                // Every component, with the registry and tag asked for.
                Deployment api = mock.client.apps().deployments().inNamespace(NS).withName("virt-api").get();
                Deployment controller = mock.client.apps().deployments().inNamespace(NS).withName("virt-controller").get();
                DaemonSet handler = mock.client.apps().daemonSets().inNamespace(NS).withName("virt-handler").get();
                assertEquals(2, api.getSpec().getReplicas());
                assertEquals(2, controller.getSpec().getReplicas());
                List<Container> containers = new ArrayList<>();
                for (var spec : List.of(api.getSpec().getTemplate().getSpec(), controller.getSpec().getTemplate().getSpec(),
                        handler.getSpec().getTemplate().getSpec())) {
                    containers.addAll(spec.getContainers());
                    containers.addAll(spec.getInitContainers());
                }
                for (Container c : containers) {
                    assertTrue(c.getImage().startsWith(REGISTRY + "/virt-") && c.getImage().endsWith(":" + TAG), c.getImage());
                }
                assertTrue(controller.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()
                        .containsAll(List.of("--image-registry=" + REGISTRY, "--image-tag=" + TAG)));
                for (String svc : List.of("virt-api", "kubevirt-operator-webhook", "kubevirt-prometheus-metrics")) {
                    assertNotNull(mock.client.services().inNamespace(NS).withName(svc).get(), "Service " + svc);
                }
                for (String crd : List.of("virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io",
                        "virtualmachineinstancemigrations.kubevirt.io", "kubevirts.kubevirt.io",
                        "virtualmachineinstancetypes.instancetype.kubevirt.io",
                        "virtualmachineclusterinstancetypes.instancetype.kubevirt.io",
                        "virtualmachinepreferences.instancetype.kubevirt.io",
                        "virtualmachineclusterpreferences.instancetype.kubevirt.io")) {
                    assertNotNull(mock.client.apiextensions().v1().customResourceDefinitions().withName(crd).get(), crd);
                }
                for (String role : List.of("qvirt-controller", "qvirt-handler", "qvirt-apiserver", "kubevirt.io:admin",
                        "kubevirt.io:edit", "kubevirt.io:view")) {
                    assertNotNull(mock.client.rbac().clusterRoles().withName(role).get(), "ClusterRole " + role);
                }
                // Everything it made carries its label and install record.
                Deployment managed = mock.client.apps().deployments().inNamespace(NS).withName("virt-api").get();
                assertEquals("virt-operator", managed.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
                assertEquals(TAG, managed.getMetadata().getAnnotations().get("kubevirt.io/install-strategy-version"));

                // Certificates: made from one CA, which is every caBundle, with the Node's address in the handlers'.
                X509Certificate ca = Pki.parseCertificate(secret(mock, Certificates.CA_SECRET, "tls.crt"));
                X509Certificate apiCert = Pki.parseCertificate(secret(mock, Certificates.VIRT_API_SECRET, "tls.crt"));
                apiCert.verify(ca.getPublicKey());
                assertTrue(apiCert.getSubjectAlternativeNames().stream().anyMatch(n -> "virt-api.kubevirt.svc".equals(n.get(1))));
                X509Certificate handlerCert = Pki.parseCertificate(secret(mock, Certificates.HANDLER_SECRET, "tls.crt"));
                handlerCert.verify(ca.getPublicKey());
                assertTrue(handlerCert.getSubjectAlternativeNames().stream().anyMatch(n -> "10.0.0.7".equals(n.get(1))));
                String bundle = Base64.getEncoder().encodeToString(secret(mock, Certificates.CA_SECRET, "tls.crt")
                        .getBytes(StandardCharsets.US_ASCII));
                GenericKubernetesResource apiService = mock.client.genericKubernetesResources(ManagedKind.API_SERVICE.context())
                        .withName("v1.subresources.kubevirt.io").get();
                assertEquals(bundle, ((Map<?, ?>) apiService.getAdditionalProperties().get("spec")).get("caBundle"));
                GenericKubernetesResource validator = mock.client.genericKubernetesResources(
                        ManagedKind.VALIDATING_WEBHOOK.context()).withName("virt-operator-validator").get();
                assertNotNull(validator, "the operator's own webhook configuration");

                // Not Available before the components report ready.
                Thread.sleep(300);
                KubeVirt kv = cr(mock);
                assertTrue(is(kv, "Available", "False"), "Available before readiness: " + kv.getStatus().getConditions());
                assertTrue(is(kv, "Progressing", "True"));
                assertEquals(TAG, kv.getStatus().getTargetKubeVirtVersion());
                assertEquals(null, kv.getStatus().getObservedKubeVirtVersion());
                assertTrue(kv.getMetadata().getFinalizers().contains(KubeVirtReconciler.FINALIZER));

                FakeWorkloadControllers fake = new FakeWorkloadControllers(mock.client, NS, 1);
                fake.deploymentReady("virt-api");
                fake.deploymentReady("virt-controller");
                Thread.sleep(300);
                assertFalse(is(cr(mock), "Available", "True"), "Available while virt-handler is not ready");
                fake.daemonSetReady("virt-handler");
                MockCluster.await(Duration.ofSeconds(30), "Available", () -> is(cr(mock), "Available", "True"));
                kv = cr(mock);
                assertEquals(KubeVirtStatus.DEPLOYED, kv.getStatus().getPhase());
                assertEquals("AllComponentsReady", condition(kv, "Available").getReason());
                assertTrue(is(kv, "Progressing", "False"));
                assertTrue(is(kv, "Degraded", "False"));
                assertEquals(TAG, kv.getStatus().getObservedKubeVirtVersion());
                assertEquals(REGISTRY, kv.getStatus().getObservedKubeVirtRegistry());
                assertEquals(kv.getStatus().getTargetDeploymentID(), kv.getStatus().getObservedDeploymentID());
                assertTrue(kv.getStatus().getGenerations().stream()
                        .anyMatch(g -> "daemonsets".equals(g.getResource()) && "virt-handler".equals(g.getName())));

                // A new Node: the handlers' certificate is re-issued to name its address too.
                mock.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node02").endMetadata()
                        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("10.0.0.8").endAddress().endStatus()
                        .build()).create();
                MockCluster.await(Duration.ofSeconds(30), "the handlers' certificate naming 10.0.0.8", () -> {
                    try {
                        return Pki.parseCertificate(secret(mock, Certificates.HANDLER_SECRET, "tls.crt")).getSubjectAlternativeNames()
                                .stream().anyMatch(n -> "10.0.0.8".equals(n.get(1)));
                    } catch (java.security.GeneralSecurityException e) {
                        throw new AssertionError(e);
                    }
                });
            }
        }
    }

    @Test
    void appliesPullPolicySecretsAndPlacementFromTheCr() throws Exception {
        KubeVirtSpec spec = io.qvirt.api.KubevirtJson.yaml().readValue("""
                imageRegistry: other.example/kv
                imageTag: v9
                imagePullPolicy: Always
                imagePullSecrets: [{name: regcred}]
                infra:
                  replicas: 3
                  nodePlacement:
                    nodeSelector: {node-role.kubernetes.io/infra: ""}
                workloads:
                  nodePlacement:
                    nodeSelector: {kubevirt.io/schedulable: "true"}
                    tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
                configuration: {developerConfiguration: {useEmulation: true}}
                """, KubeVirtSpec.class);
        var target = InstallStrategy.Target.of(spec, REGISTRY, TAG);
        var objects = InstallStrategy.desired(Templates.fromClassPath(), target, "CA");
        var api = objects.stream().filter(o -> "virt-api".equals(o.at("/metadata/name").asText())
                && "Deployment".equals(o.path("kind").asText())).findFirst().orElseThrow();
        assertEquals(3, api.at("/spec/replicas").asInt());
        assertEquals("", api.at("/spec/template/spec/nodeSelector/node-role.kubernetes.io~1infra").asText("x"));
        assertEquals("other.example/kv/virt-api:v9", api.at("/spec/template/spec/containers/0/image").asText());
        assertEquals("Always", api.at("/spec/template/spec/containers/0/imagePullPolicy").asText());
        assertEquals("regcred", api.at("/spec/template/spec/imagePullSecrets/0/name").asText());
        var handler = objects.stream().filter(o -> "DaemonSet".equals(o.path("kind").asText())).findFirst().orElseThrow();
        assertEquals("true", handler.at("/spec/template/spec/nodeSelector/kubevirt.io~1schedulable").asText());
        assertEquals("dedicated", handler.at("/spec/template/spec/tolerations/0/key").asText());
        // useEmulation is read live by virt-handler from the CR: the DaemonSet, and so the deployment ID, do not
        // depend on it (else a change would restart every handler).
        ((com.fasterxml.jackson.databind.node.ObjectNode) spec.getConfiguration().path("developerConfiguration"))
                .put("useEmulation", false);
        var withoutEmulation = InstallStrategy.Target.of(spec, REGISTRY, TAG);
        var handlerWithout = InstallStrategy.desired(Templates.fromClassPath(), withoutEmulation, "CA").stream()
                .filter(o -> "DaemonSet".equals(o.path("kind").asText())).findFirst().orElseThrow();
        assertEquals(handler, handlerWithout, "the DaemonSet for useEmulation true and false");
        assertEquals(target.deploymentId(), withoutEmulation.deploymentId());
        assertFalse(handler.at("/spec/template/spec/containers/0/args").toString().contains("--use-emulation"),
                handler.at("/spec/template/spec/containers/0/args").toString());
        // The order KubeVirt updates in: CRDs first, then the rest, then virt-api, virt-controller, virt-handler.
        assertEquals("CustomResourceDefinition", objects.get(0).path("kind").asText());
        List<String> tail = objects.subList(objects.size() - 3, objects.size()).stream()
                .map(o -> o.path("kind").asText() + "/" + o.at("/metadata/name").asText()).toList();
        assertEquals(InstallStrategy.WORKLOAD_ORDER, tail);
    }

    static String secret(MockCluster mock, String name, String key) {
        Secret s = mock.client.secrets().inNamespace(NS).withName(name).get();
        assertNotNull(s, "Secret " + name);
        return Certificates.decode(s, key);
    }
}
