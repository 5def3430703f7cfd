package io.qvirt.launcher.plan;

import java.util.Map;

/**
 * The pod network as the node agent (virt-handler) plumbs it for a {@code bridge} interface on a cluster: in the
 * launcher pod's network namespace, a bridge holding the pod's {@code eth0} and a persistent tap per interface,
 * which QEMU opens by name. Only {@code launcher exec} (the launcher pod's entrypoint) plans with one; without it
 * (one machine: run, validate, render) {@code bridge} is refused by name.
 *
 * @param pending true while the node agent has not answered yet: the plan is a draft (validation, host fit) and
 *                its taps are stand-ins; false once {@code taps} holds the node agent's answer
 * @param taps    by interface name ({@code spec.domain.devices.interfaces[].name}): what QEMU opens and the guest uses
 */
public record PlumbedPodNetwork(boolean pending, Map<String, Tap> taps) {
    /** Before the node agent answered: bridge interfaces are accepted and rendered with stand-in taps. */
    public static final PlumbedPodNetwork PENDING = new PlumbedPodNetwork(true, Map.of());

    public PlumbedPodNetwork {
        taps = Map.copyOf(taps);
    }

    /**
     * One tap made by the node agent.
     *
     * @param ifname the tap's name in the pod's network namespace ({@code tap0})
     * @param mac    the MAC the guest must use (the pod's original eth0 MAC, or the spec's {@code macAddress})
     * @param mtu    the pod network's MTU (eth0's)
     */
    public record Tap(String ifname, String mac, int mtu) {}

    /** The node agent's answer. */
    public static PlumbedPodNetwork ready(Map<String, Tap> taps) {
        return new PlumbedPodNetwork(false, taps);
    }
}
