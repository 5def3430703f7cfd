package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.qvirt.api.KubevirtJson;

/**
 * The operator's admission webhooks on KubeVirt CRs, KubeVirt's paths and messages: {@value #CREATE_PATH} refuses a
 * KubeVirt CR when one exists already; {@value #DELETE_PATH} refuses deleting the deployed CR while VMIs or VMs exist,
 * unless its uninstallStrategy is {@code RemoveWorkloads} (the reconciler holds the same line behind its finalizer,
 * should the webhook be bypassed).
 */
final class KubeVirtAdmitter {
    static final String CREATE_PATH = "/kubevirt-validate-create";
    static final String DELETE_PATH = "/kubevirt-validate-delete";
    static final String ALREADY_CREATED = "Kubevirt is already created";

    private final KubernetesClient client;

    KubeVirtAdmitter(KubernetesClient client) {
        this.client = client;
    }

    /**
     * The AdmissionReview answering {@code review} (admission.k8s.io/v1) for the webhook at {@code path}.
     *
     * @throws IllegalArgumentException if {@code review} has no request or the path is not one of ours
     */
    ObjectNode admit(String path, JsonNode review) {
        JsonNode request = review.path("request");
        if (!request.isObject() || !request.path("uid").isTextual()) {
            throw new IllegalArgumentException("not an AdmissionReview with a request");
        }
        String refusal = switch (path) {
            case CREATE_PATH -> client.resources(KubeVirt.class).inAnyNamespace().list().getItems().isEmpty() ? null : ALREADY_CREATED;
            case DELETE_PATH -> refuseDelete(request.path("namespace").asText(), request.path("name").asText());
            default -> throw new IllegalArgumentException("no webhook at " + path);
        };
        ObjectNode out = KubevirtJson.json().createObjectNode();
        out.put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode response = out.putObject("response");
        response.put("uid", request.path("uid").asText()).put("allowed", refusal == null);
        if (refusal != null) {
            response.putObject("status").put("code", 400).put("message", refusal);
        }
        return out;
    }

    private String refuseDelete(String namespace, String name) {
        KubeVirt kv = client.resources(KubeVirt.class).inNamespace(namespace).withName(name).get();
        if (kv == null || !KubeVirtStatus.DEPLOYED.equals(kv.getStatus() == null ? null : kv.getStatus().getPhase())
                || (kv.getSpec() != null && KubeVirtSpec.REMOVE_WORKLOADS.equals(kv.getSpec().getUninstallStrategy()))) {
            return null;
        }
        if (exists("VirtualMachineInstance", "virtualmachineinstances")) {
            return String.format(KubeVirtReconciler.UNINSTALL_REFUSED, "Virtual Machine Instances");
        }
        if (exists("VirtualMachine", "virtualmachines")) {
            return String.format(KubeVirtReconciler.UNINSTALL_REFUSED, "Virtual Machines");
        }
        return null;
    }

    private boolean exists(String kind, String plural) {
        var ctx = new ResourceDefinitionContext.Builder().withGroup("kubevirt.io").withVersion("v1").withKind(kind)
                .withPlural(plural).withNamespaced(true).build();
        try {
            return !client.genericKubernetesResources(ctx).inAnyNamespace().list().getItems().isEmpty();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return false;
            }
            throw e;
        }
    }
}
