package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.logging.Logger;

/**
 * The VirtualMachineInstance subresources that reach the VMI's node: {@code pause}, {@code unpause},
 * {@code reset} (checked here with KubeVirt's rules and messages, then a PUT to the handler on the node's
 * InternalIP) and {@code console} (checked here; the WebSocket relay is {@link ConsoleProxy}).
 *
 * <ul>
 * <li>pause: 409 "VM is not running" unless Running; 403 with a liveness probe; 409 "VMI is already paused".</li>
 * <li>unpause: 409 "VMI is not paused" unless Running with the Paused condition.</li>
 * <li>reset: 409 "VMI is not running" unless Running.</li>
 * <li>console: 400 "No serial consoles are present." when {@code autoattachSerialConsole: false}; 400
 * "Unable to connect to VirtualMachineInstance because phase is X instead of Running" unless Running.</li>
 * </ul>
 * A handler's own refusal (a Kubernetes Status 4xx, such as its 409s) is passed on as it is; a handler that cannot
 * be reached or answers otherwise is a 500 ({@code Internal error occurred: ...}), as KubeVirt's.
 */
public final class VmiSubresources {
    private static final Logger LOG = Logger.getLogger(VmiSubresources.class.getName());
    static final String VMI = VmSubresources.VMI;

    private final KubernetesClient client;
    private final HandlerClient handlers;

    public VmiSubresources(KubernetesClient client, HandlerClient handlers) {
        this.client = client;
        this.handlers = handlers;
    }

    /** The handler's answer to pass on: its status code and body (a Status JSON), or 200 with none. */
    public record Forwarded(int code, String body) {
    }

    public Forwarded pause(String ns, String name, byte[] body) {
        Options o = Options.parse(body, null);
        VirtualMachineInstance vmi = fetch(ns, name);
        if (!"Running".equals(VmSubresources.phase(vmi))) {
            throw ApiError.conflict(VMI, name, "VM is not running");
        }
        if (vmi.getSpec() != null && vmi.getSpec().getAdditionalProperties().get("livenessProbe") != null) {
            throw ApiError.forbidden(VMI, name, "Pausing VMIs with LivenessProbe is currently not supported");
        }
        if (paused(vmi)) {
            throw ApiError.conflict(VMI, name, "VMI is already paused");
        }
        return o.dryRun() ? new Forwarded(200, null) : forward(vmi, "pause");
    }

    public Forwarded unpause(String ns, String name, byte[] body) {
        Options o = Options.parse(body, null);
        VirtualMachineInstance vmi = fetch(ns, name);
        if (!"Running".equals(VmSubresources.phase(vmi)) || !paused(vmi)) {
            throw ApiError.conflict(VMI, name, "VMI is not paused");
        }
        return o.dryRun() ? new Forwarded(200, null) : forward(vmi, "unpause");
    }

    public Forwarded reset(String ns, String name) {
        VirtualMachineInstance vmi = fetch(ns, name);
        if (!"Running".equals(VmSubresources.phase(vmi))) {
            throw ApiError.conflict(VMI, name, "VMI is not running");
        }
        return forward(vmi, "reset");
    }

    /** Checks a console request; the address of the VMI's node. */
    public String consoleNode(String ns, String name) {
        VirtualMachineInstance vmi = fetch(ns, name);
        Object devices = vmi.getSpec() == null || vmi.getSpec().getDomain() == null ? null : vmi.getSpec().getDomain().getDevices();
        if (devices != null) {
            JsonNode d = io.qvirt.api.KubevirtJson.toTree(devices);
            if (d.path("autoattachSerialConsole").isBoolean() && !d.path("autoattachSerialConsole").asBoolean()) {
                throw ApiError.badRequest("No serial consoles are present.");
            }
        }
        String phase = VmSubresources.phase(vmi);
        if (!"Running".equals(phase)) {
            throw ApiError.badRequest("Unable to connect to VirtualMachineInstance because phase is " + phase + " instead of Running");
        }
        return nodeAddress(vmi);
    }

    HandlerClient handlers() {
        return handlers;
    }

    KubernetesClient client() {
        return client;
    }

    private Forwarded forward(VirtualMachineInstance vmi, String action) {
        String ns = vmi.getMetadata().getNamespace();
        String name = vmi.getMetadata().getName();
        String node = nodeAddress(vmi);
        HttpResponse<String> r;
        try {
            r = handlers.put(node, ns, name, action);
        } catch (IOException e) {
            throw ApiError.internal("cannot reach the handler of node " + vmi.getStatus().getNodeName() + " (" + node + "): " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.internal("interrupted");
        }
        LOG.info(action + " " + ns + "/" + name + " on node " + vmi.getStatus().getNodeName() + ": handler answered " + r.statusCode());
        if (r.statusCode() / 100 == 2) {
            return new Forwarded(200, null);
        }
        if (r.statusCode() / 100 == 4 && r.body() != null && r.body().contains("\"Status\"")) {
            return new Forwarded(r.statusCode(), r.body());
        }
        throw ApiError.internal("the handler of node " + vmi.getStatus().getNodeName() + " answered " + r.statusCode() + ": " + r.body());
    }

    private VirtualMachineInstance fetch(String ns, String name) {
        try {
            VirtualMachineInstance v = client.resources(VirtualMachineInstance.class).inNamespace(ns).withName(name).get();
            if (v == null) {
                throw ApiError.notFound(VMI, name);
            }
            return v;
        } catch (KubernetesClientException e) {
            throw ApiError.internal("unable to retrieve vmi [" + name + "]: " + e.getMessage());
        }
    }

    static boolean paused(VirtualMachineInstance vmi) {
        List<Condition> c = vmi.getStatus() == null ? null : vmi.getStatus().getConditions();
        return c != null && c.stream().anyMatch(x -> "Paused".equals(x.getType()) && "True".equals(x.getStatus()));
    }

    /** The InternalIP of the VMI's node, where its handler serves the node API. */
    String nodeAddress(VirtualMachineInstance vmi) {
        String nodeName = vmi.getStatus() == null ? null : vmi.getStatus().getNodeName();
        if (nodeName == null || nodeName.isEmpty()) {
            throw ApiError.conflict(VMI, vmi.getMetadata().getName(), "VMI is not running");
        }
        Node node;
        try {
            node = client.nodes().withName(nodeName).get();
        } catch (KubernetesClientException e) {
            throw ApiError.internal("unable to retrieve node [" + nodeName + "]: " + e.getMessage());
        }
        if (node == null || node.getStatus() == null || node.getStatus().getAddresses() == null) {
            throw ApiError.internal("node " + nodeName + " of VMI " + vmi.getMetadata().getName() + " has no addresses");
        }
        return node.getStatus().getAddresses().stream().filter(a -> "InternalIP".equals(a.getType()))
                .map(NodeAddress::getAddress).findFirst()
                .orElseThrow(() -> ApiError.internal("node " + nodeName + " has no InternalIP"));
    }
}
