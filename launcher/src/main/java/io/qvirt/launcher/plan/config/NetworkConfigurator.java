package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.Interface;
import io.qvirt.api.model.Network;
import io.qvirt.api.model.Port;
import io.qvirt.launcher.plan.HostForward;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.PlumbedPodNetwork;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The pod network with {@code masquerade}, as QEMU user-mode networking shaped like KubeVirt's: the
 * guest gets 10.0.2.2/24 by DHCP, gateway 10.0.2.1, DNS forwarded through 10.0.2.3, the spec's MAC if
 * set. Each of the interface's {@code ports} is forwarded from the host ({@code hostfwd}); KubeVirt
 * forwards every port when {@code ports} is empty, which user-mode networking cannot do, so qvirt then
 * forwards none. {@code bridge} on the pod network runs only where the node agent plumbs the pod's network
 * namespace ({@code launcher exec} on a cluster, {@link io.qvirt.launcher.plan.PlanOptions#podNetwork()}): a tap
 * netdev the guest's NIC uses with the pod's MAC; on one machine it is refused by name with the way out. Other
 * bindings and multus networks are refused by field.
 */
public final class NetworkConfigurator implements QemuConfigurator {
    private static final Set<String> MODELS = Set.of("virtio", "e1000", "e1000e", "rtl8139");

    @Override
    public void configure(PlanContext ctx) {
        var dev = ctx.spec().getDomain().getDevices();
        List<Interface> ifaces = dev == null || dev.getInterfaces() == null ? List.of() : dev.getInterfaces();
        List<Network> nets = ctx.spec().getNetworks() == null ? List.of() : ctx.spec().getNetworks();
        for (int i = 0; i < ifaces.size(); i++) {
            Interface itf = ifaces.get(i);
            String f = "domain.devices.interfaces[" + i + "]";
            Network net = nets.stream().filter(n -> itf.getName().equals(n.getName())).findFirst().orElse(null);
            if (net == null) {
                ctx.refuse(f + ".name", "no network named '" + itf.getName() + "' in spec.networks");
                continue;
            }
            if (net.getPod() == null) {
                int ni = nets.indexOf(net);
                ctx.refuse("networks[" + ni + "]" + (net.getMultus() != null ? ".multus" : ""),
                        "not supported by qvirt on one machine: only the pod network");
                continue;
            }
            String binding = binding(itf);
            if ("bridge".equals(binding) && ctx.options().podNetwork() == null) {
                // KubeVirt's default binding: say how to get the one qvirt runs, also when the VM declares no interface.
                ctx.refuse(f + ".bridge", "not supported by qvirt on one machine: use masquerade (masquerade: {} on the "
                        + "interface; a VM with no interfaces gets it unless --default-network-interface bridge)");
                continue;
            }
            if ("bridge".equals(binding)) {
                bridge(ctx, i, itf, f);
                continue;
            }
            if (!"masquerade".equals(binding)) {
                ctx.refuse(f + "." + (binding == null ? "masquerade" : binding),
                        binding == null ? "the pod network needs a binding: masquerade"
                                : "not supported by qvirt on one machine: use masquerade");
                continue;
            }
            String model = itf.getModel() == null ? "virtio" : itf.getModel();
            if (!MODELS.contains(model)) {
                ctx.refuse(f + ".model", "'" + model + "' is not supported by qvirt: virtio, e1000, e1000e, rtl8139");
                continue;
            }
            String id = "net" + i;
            QemuOpts netdev = QemuOpts.of("user").put("id", id).put("net", "10.0.2.0/24").put("host", "10.0.2.1")
                    .put("dns", "10.0.2.3").put("dhcpstart", "10.0.2.2");
            String hostname = ctx.spec().getHostname() != null ? ctx.spec().getHostname() : ctx.vmi().getMetadata().getName();
            netdev.put("hostname", hostname);
            List<Port> ports = itf.getPorts() == null ? List.of() : itf.getPorts();
            for (int p = 0; p < ports.size(); p++) {
                Port port = ports.get(p);
                String proto = port.getProtocol() == null ? "tcp" : port.getProtocol().toLowerCase(Locale.ROOT);
                if (!proto.equals("tcp") && !proto.equals("udp")) {
                    ctx.refuse(f + ".ports[" + p + "].protocol", "'" + port.getProtocol() + "' is not allowed: TCP, UDP");
                    continue;
                }
                if (port.getPort() == null || port.getPort() < 1 || port.getPort() > 65535) {
                    ctx.refuse(f + ".ports[" + p + "].port", "must be 1-65535");
                    continue;
                }
                int hostPort = ctx.options().hostPorts().applyAsInt(port.getPort());
                HostForward fw = new HostForward(itf.getName(), port.getName(), proto, ctx.options().forwardAddr(),
                        hostPort, port.getPort());
                ctx.forward(fw);
                netdev.put("hostfwd", proto + ":" + fw.hostAddr() + ":" + hostPort + "-:" + port.getPort());
            }
            ctx.arg("-netdev", netdev);
            ctx.podAddress(ctx.options().forwardAddr());
            String qemuModel = model.equals("virtio") ? "virtio-net-pci" : model;
            QemuOpts d = QemuOpts.of(qemuModel).put("netdev", id).put("id", "ua-" + itf.getName());
            if (itf.getMacAddress() != null) {
                d.put("mac", itf.getMacAddress());
            }
            if (itf.getBootOrder() != null) {
                d.put("bootindex", itf.getBootOrder());
            } else {
                d.put("romfile", "");
            }
            ctx.arg("-device", d);
        }
    }

    /**
     * {@code bridge} on a cluster: the tap the node agent made in the pod's network namespace (enslaved with eth0
     * to its bridge), opened by name, and the NIC with the MAC the node agent says the guest must use (the pod's
     * own, so the guest answers for the pod's IP, which the node agent hands out by DHCP). No port forwards: every
     * port of the pod's address reaches the guest. Precondition: {@code ctx.options().podNetwork()} is not null.
     */
    private static void bridge(PlanContext ctx, int i, Interface itf, String f) {
        String model = itf.getModel() == null ? "virtio" : itf.getModel();
        if (!MODELS.contains(model)) {
            ctx.refuse(f + ".model", "'" + model + "' is not supported by qvirt: virtio, e1000, e1000e, rtl8139");
            return;
        }
        PlumbedPodNetwork pn = ctx.options().podNetwork();
        PlumbedPodNetwork.Tap tap = pn.taps().get(itf.getName());
        if (tap == null && !pn.pending()) {
            ctx.refuse(f + ".bridge", "the node agent plumbed no tap for interface '" + itf.getName() + "' (it made: "
                    + (pn.taps().isEmpty() ? "none" : String.join(", ", pn.taps().keySet())) + ")");
            return;
        }
        String id = "net" + i;
        ctx.arg("-netdev", QemuOpts.of("tap").put("id", id).put("ifname", tap == null ? "tap" + i : tap.ifname())
                .put("script", "no").put("downscript", "no"));
        String qemuModel = model.equals("virtio") ? "virtio-net-pci" : model;
        QemuOpts d = QemuOpts.of(qemuModel).put("netdev", id).put("id", "ua-" + itf.getName());
        String mac = tap != null ? tap.mac() : itf.getMacAddress();
        if (mac != null) {
            d.put("mac", mac);
        }
        if (tap != null && model.equals("virtio")) {
            d.put("host_mtu", tap.mtu()); // the pod network's MTU, as KubeVirt's domain <mtu>
        }
        if (itf.getBootOrder() != null) {
            d.put("bootindex", itf.getBootOrder());
        } else {
            d.put("romfile", "");
        }
        ctx.arg("-device", d);
    }

    private static String binding(Interface i) {
        if (i.getMasquerade() != null) {
            return "masquerade";
        }
        if (i.getBridge() != null) {
            return "bridge";
        }
        if (i.getSriov() != null) {
            return "sriov";
        }
        if (i.getSlirp() != null) {
            return "slirp";
        }
        if (i.getMacvtap() != null) {
            return "macvtap";
        }
        if (i.getPasst() != null) {
            return "passt";
        }
        if (i.getBinding() != null) {
            return "binding";
        }
        return null;
    }
}
