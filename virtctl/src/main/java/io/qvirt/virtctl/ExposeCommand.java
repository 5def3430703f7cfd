package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl expose vm|vmi NAME --name SVC}: the Service KubeVirt's expose makes, created through the API server:
 * selector {@code vmi.kubevirt.io/id: <VMI id>}, owned by the VM or VMI (controller, no blockOwnerDeletion), the
 * ports of {@code --port} or else those the pod network interface lists.
 */
@Command(name = "expose", mixinStandardHelpOptions = true,
        description = {"Expose a virtual machine instance or virtual machine as a new service.",
            "TYPE: vm (virtualmachine) or vmi (virtualmachineinstance), case insensitive, singular or plural.",
            "Without --port, the ports the pod network interface lists are used."},
        footer = {"", "Example:", "  # Expose SSH to a virtual machine instance called 'myvm' on each node via a NodePort service:",
            "  virtctl expose vmi myvm --port=22 --name=myvm-ssh --type=NodePort"})
final class ExposeCommand extends BaseCommand {
    static final String VMI_ID_LABEL = "vmi.kubevirt.io/id";

    @Parameters(index = "0", paramLabel = "TYPE", description = "vm or vmi")
    String type;

    @Parameters(index = "1", paramLabel = "NAME", description = "the VirtualMachine or VirtualMachineInstance")
    String name;

    @Option(names = "--name", required = true, description = "Name of the service created for the exposure of the VM.")
    String serviceName;

    @Option(names = "--port", description = "The port that the service should serve on.")
    int port;

    @Option(names = "--protocol", defaultValue = "TCP", description = "The network protocol for the service to be created (TCP, UDP).")
    String protocol;

    @Option(names = "--target-port", description = "Name or number for the port on the VM that the service should direct traffic to (default: --port).")
    String targetPort;

    @Option(names = "--type", defaultValue = "ClusterIP", description = "Type for this service: ClusterIP, NodePort, or LoadBalancer.")
    String serviceType;

    @Option(names = "--port-name", description = "Name of the port.")
    String portName;

    @Option(names = "--cluster-ip", description = "ClusterIP to be assigned to the service; empty to auto-allocate, None for a headless service.")
    String clusterIp;

    @Option(names = "--external-ip", description = "Additional external IP address (not managed by the cluster) to accept for the service.")
    String externalIp;

    @Override
    int doCall() throws VirtctlException {
        boolean vm = Resources.isVm(type, "expose");
        String proto = switch (protocol.toLowerCase(Locale.ROOT)) {
            case "tcp" -> "TCP";
            case "udp" -> "UDP";
            default -> throw new VirtctlException.Usage("unknown protocol: " + protocol);
        };
        String svcType = switch (serviceType.toLowerCase(Locale.ROOT)) {
            case "clusterip" -> "ClusterIP";
            case "nodeport" -> "NodePort";
            case "loadbalancer" -> "LoadBalancer";
            case "externalname" -> throw new VirtctlException.Usage("type: " + serviceType + " not supported");
            default -> throw new VirtctlException.Usage("unknown service type: " + serviceType);
        };
        if (port < 0 || port > 65535) {
            throw new VirtctlException.Usage("--port " + port + ": must be between 1 and 65535");
        }
        try (Cluster c = cluster()) {
            JsonNode owner;
            try {
                owner = vm ? c.get(Resources.vmPath(c.namespace(), name), Resources.VM, name)
                        : c.get(Resources.vmiPath(c.namespace(), name), Resources.VMI, name);
            } catch (VirtctlException.Api e) {
                throw e.prefixed("error fetching " + (vm ? "VirtualMachine" : "VirtualMachineInstance") + ": ");
            }
            ObjectNode svc = Cluster.JSON.createObjectNode();
            svc.put("apiVersion", "v1").put("kind", "Service");
            ObjectNode meta = svc.putObject("metadata");
            meta.put("name", serviceName).put("namespace", c.namespace());
            meta.putArray("ownerReferences").addObject()
                    .put("apiVersion", "kubevirt.io/v1")
                    .put("kind", vm ? "VirtualMachine" : "VirtualMachineInstance")
                    .put("name", owner.path("metadata").path("name").asText(name))
                    .put("uid", owner.path("metadata").path("uid").asText(""))
                    .put("controller", true)
                    .put("blockOwnerDeletion", false);
            ObjectNode spec = svc.putObject("spec");
            ArrayNode ports = spec.putArray("ports");
            if (port != 0) {
                ObjectNode p = ports.addObject();
                if (portName != null && !portName.isEmpty()) {
                    p.put("name", portName);
                }
                p.put("protocol", proto).put("port", port);
                if (targetPort == null || targetPort.isEmpty()) {
                    p.put("targetPort", port);
                } else if (targetPort.chars().allMatch(Character::isDigit)) {
                    p.put("targetPort", Integer.parseInt(targetPort));
                } else {
                    p.put("targetPort", targetPort);
                }
            } else {
                JsonNode vmiSpec = vm ? owner.path("spec").path("template").path("spec") : owner.path("spec");
                podNetworkPorts(vmiSpec, ports);
            }
            if (ports.isEmpty()) {
                throw new VirtctlException.Usage("couldn't find port via --port flag or introspection");
            }
            spec.putObject("selector").put(VMI_ID_LABEL, vmiId(name));
            spec.put("type", svcType);
            if (clusterIp != null && !clusterIp.isEmpty()) {
                spec.put("clusterIP", clusterIp);
            }
            if (externalIp != null && !externalIp.isEmpty()) {
                spec.putArray("externalIPs").add(externalIp);
            }
            try {
                c.create("/api/v1/namespaces/" + c.namespace() + "/services", svc, "services");
            } catch (VirtctlException.Api e) {
                throw e.prefixed("service creation failed: ");
            }
        }
        out().printf("Service %s successfully created for %s %s%n", serviceName, type.toLowerCase(Locale.ROOT), name);
        return ExitCodes.OK;
    }

    /** The ports listed on the interface of the pod network, named {@code port-1}, {@code port-2}, ... */
    static void podNetworkPorts(JsonNode vmiSpec, ArrayNode into) {
        String podNetwork = null;
        for (JsonNode n : vmiSpec.path("networks")) {
            if (n.has("pod")) {
                podNetwork = n.path("name").asText();
                break;
            }
        }
        if (podNetwork == null) {
            return;
        }
        for (JsonNode iface : vmiSpec.path("domain").path("devices").path("interfaces")) {
            if (podNetwork.equals(iface.path("name").asText())) {
                int i = 1;
                for (JsonNode p : iface.path("ports")) {
                    ObjectNode sp = into.addObject().put("name", "port-" + i++);
                    if (p.hasNonNull("protocol")) {
                        sp.put("protocol", p.path("protocol").asText());
                    }
                    sp.put("port", p.path("port").asInt());
                }
                return;
            }
        }
    }

    /** KubeVirt's VMI id label value: the name, or for names over 63 characters its first 54 and a SHA-1 prefix. */
    static String vmiId(String vmiName) {
        if (vmiName.length() <= 63) {
            return vmiName;
        }
        try {
            byte[] sha = MessageDigest.getInstance("SHA-1").digest(vmiName.getBytes(StandardCharsets.UTF_8));
            return vmiName.substring(0, 63 - 8 - 1) + "-" + HexFormat.of().formatHex(sha).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
