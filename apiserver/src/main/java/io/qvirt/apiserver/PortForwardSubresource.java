package io.qvirt.apiserver;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import java.util.List;
import java.util.Locale;

/**
 * {@code portforward/{port}} and {@code portforward/{port}/{protocol}} of {@code virtualmachineinstances} and
 * {@code virtualmachines}: the checks KubeVirt's virt-api makes before it dials ({@code FetchVirtualMachineInstance},
 * {@code FetchVirtualMachineInstanceForVM}, {@code validateVMIForPortForward}), with its messages; then the VMI's node,
 * whose handler makes the TCP connection (KubeVirt's virt-api dials the VMI's address itself; qvirt's goes through
 * the handler's node API over mutual TLS, as the console does). The WebSocket relay is {@link ConsoleProxy}'s.
 *
 * <ul>
 * <li>the port: 1-65535, else 400; the protocol: {@code tcp} (default) or {@code udp}, case-insensitive, else 400;
 * {@code udp}: 400, qvirt forwards TCP only;</li>
 * <li>a VM: 404 {@code virtualmachine.kubevirt.io "x" not found}; 409 "VMI is not started" unless its status says
 * {@code created}; its VMI 404, or 500 when the VMI is not the VM's;</li>
 * <li>a VMI: 404 {@code virtualmachineinstance.kubevirt.io "x" not found}; 409 "VMI is paused"; 400 "Unable to connect
 * to VirtualMachineInstance because phase is X instead of Running".</li>
 * </ul>
 */
final class PortForwardSubresource {
    static final String VM = VmSubresources.VM;
    static final String VMI = VmSubresources.VMI;

    /** A checked request: the guest port and protocol. */
    record Target(int port, String protocol) {
        /** The handler's path tail: {@code portforward/PORT/PROTOCOL}. */
        String handlerAction() {
            return "portforward/" + port + "/" + protocol;
        }
    }

    private final KubernetesClient client;
    private final VmiSubresources vmis;

    PortForwardSubresource(VmiSubresources vmis) {
        this.client = vmis.client();
        this.vmis = vmis;
    }

    /**
     * The path's port and protocol, as a 400 naming what is allowed when they are not.
     *
     * @param protocol null when the path has none (tcp)
     */
    static Target parse(String port, String protocol) {
        int p = port.matches("[0-9]{1,5}") ? Integer.parseInt(port) : -1;
        if (p < 1 || p > 65535) {
            throw ApiError.badRequest("invalid port \"" + printable(port) + "\": must be a number from 1 to 65535");
        }
        String proto = protocol == null ? "tcp" : protocol.toLowerCase(Locale.ROOT);
        if (!proto.equals("tcp") && !proto.equals("udp")) {
            throw ApiError.badRequest("invalid protocol \"" + printable(protocol) + "\": tcp or udp");
        }
        if (proto.equals("udp")) {
            throw ApiError.badRequest("port-forward over udp is not supported by qvirt: tcp only");
        }
        return new Target(p, proto);
    }

    /** Checks the VM (when {@code vm}) and its VMI, or the VMI; the address of the VMI's node. */
    String node(String ns, String name, boolean vm) {
        VirtualMachineInstance vmi = vm ? vmiOfVm(ns, name) : fetchVmi(ns, name);
        if (VmiSubresources.paused(vmi)) {
            throw ApiError.conflict(VMI, name, "VMI is paused");
        }
        String phase = VmSubresources.phase(vmi);
        if (!"Running".equals(phase)) {
            throw ApiError.badRequest("Unable to connect to VirtualMachineInstance because phase is " + phase + " instead of Running");
        }
        return vmis.nodeAddress(vmi);
    }

    private VirtualMachineInstance vmiOfVm(String ns, String name) {
        VirtualMachine v;
        try {
            v = client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
        } catch (KubernetesClientException e) {
            throw ApiError.internal("unable to retrieve vm [" + name + "]: " + e.getMessage());
        }
        if (v == null) {
            throw ApiError.notFound(VM, name);
        }
        if (v.getStatus() == null || !Boolean.TRUE.equals(v.getStatus().getCreated())) {
            throw ApiError.conflict(VM, name, "VMI is not started");
        }
        VirtualMachineInstance vmi = fetchVmi(ns, name);
        List<OwnerReference> owners = vmi.getMetadata().getOwnerReferences();
        String uid = v.getMetadata().getUid();
        if (owners == null || owners.stream().noneMatch(o -> o.getUid() != null && o.getUid().equals(uid))) {
            throw ApiError.internal("unable to retrieve vmi [" + name + "] for vm: it is not owned by the VM");
        }
        return vmi;
    }

    private VirtualMachineInstance fetchVmi(String ns, String name) {
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

    private static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
