package io.qvirt.handler.vmi;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LiveMigratability;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.AcceleratorStatus;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.Conditions;
import io.qvirt.api.model.ConditionType;
import io.qvirt.api.model.Interface;
import io.qvirt.api.model.Network;
import io.qvirt.api.model.Phase;
import io.qvirt.api.model.PhaseTransition;
import io.qvirt.api.model.VirtualMachineInstanceStatus;
import io.qvirt.api.model.VmiInterfaceStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The VMI status fields the handler owns, computed from what QEMU and the launcher pod report: pure functions
 * from a fresh VMI to the merge patch of {@code status} that brings it there, or null when it already says so
 * (so a sync that changes nothing writes nothing).
 */
final class VmiStatuses {
    static final String PAUSED_BY_USER = "PausedByUser";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private VmiStatuses() {
    }

    /**
     * What the handler saw of a running VM.
     *
     * @param paused         QEMU reports the guest paused (or not yet started, with startStrategy Paused)
     * @param podIp          the launcher pod's IP (masquerade: the guest is reached there), or null
     * @param launcherImage  the launcher pod's compute image
     * @param qosClass       the pod's QoS class, or null if the kubelet has not set it
     * @param accelerator    what the launcher chose, and why
     */
    /**
     * What the handler saw of a running VMI.
     *
     * @param guestMacs the MAC virt-handler gave each bridge interface without a {@code macAddress} (the pod
     *                  interface's own, from {@code network-ready.json}), by interface name
     */
    record Observed(boolean paused, String podIp, String launcherImage, String qosClass,
                    AcceleratorStatus accelerator, java.util.Map<String, String> guestMacs) {
        Observed(boolean paused, String podIp, String launcherImage, String qosClass, AcceleratorStatus accelerator) {
            this(paused, podIp, launcherImage, qosClass, accelerator, java.util.Map.of());
        }
    }

    /** Phase Running with conditions, interfaces, accelerator; null if {@code vmi} already says all of it. */
    static ObjectNode running(VirtualMachineInstance vmi, Observed o, Instant now) {
        VirtualMachineInstanceStatus cur = status(vmi);
        ObjectNode s = NODES.objectNode();
        if (!Phase.RUNNING.equals(cur.getPhase())) {
            s.put("phase", Phase.RUNNING);
            s.set("phaseTransitionTimestamps", KubevirtJson.toTree(transitions(cur, Phase.RUNNING, now)));
        }
        List<Condition> conds = conditions(cur);
        conds = Conditions.with(conds, o.paused()
                ? condition(ConditionType.READY, "False", "PodNotReady", "VMI is paused", now)
                : condition(ConditionType.READY, "True", null, null, now));
        conds = o.paused() ? Conditions.with(conds, condition(ConditionType.PAUSED, "True", PAUSED_BY_USER,
                "VMI was paused by user", now)) : Conditions.without(conds, ConditionType.PAUSED);
        conds = Conditions.with(conds, liveMigratable(vmi, now));
        if (!KubevirtJson.toTree(conds).equals(KubevirtJson.toTree(conditions(cur)))) {
            s.set("conditions", KubevirtJson.toTree(conds));
        }
        List<VmiInterfaceStatus> itfs = interfaces(vmi, o.podIp(), o.guestMacs());
        if (!KubevirtJson.toTree(itfs).equals(KubevirtJson.toTree(cur.getInterfaces() == null ? List.of() : cur.getInterfaces()))) {
            s.set("interfaces", KubevirtJson.toTree(itfs));
        }
        setIfChanged(s, "launcherContainerImageVersion", o.launcherImage(), cur.getLauncherContainerImageVersion());
        setIfChanged(s, "qosClass", o.qosClass(), cur.getQosClass());
        if (o.accelerator() != null && !KubevirtJson.toTree(o.accelerator()).equals(KubevirtJson.toTree(cur.getQvirtAccelerator()))) {
            s.set("qvirtAccelerator", KubevirtJson.toTree(o.accelerator()));
        }
        return s.isEmpty() ? null : s;
    }

    /**
     * KubeVirt's {@code LiveMigratable} condition: True (no reason), or False with the reason and message of
     * {@link LiveMigratability} (claims judged by the access modes the controller recorded in volumeStatus).
     */
    static Condition liveMigratable(VirtualMachineInstance vmi, Instant now) {
        LiveMigratability.Refusal r = LiveMigratability.check(vmi);
        return r == null ? condition(ConditionType.LIVE_MIGRATABLE, "True", null, null, now)
                : condition(ConditionType.LIVE_MIGRATABLE, "False", r.reason(), r.message(), now);
    }

    /**
     * A final phase (Succeeded or Failed) with its reason; Ready False, Paused gone. Null if the VMI is final
     * already: a final phase is never rewritten.
     *
     * @param reason  KubeVirt-style reason word, e.g. {@code GuestShutdown}, {@code QemuExited}
     * @param message one line naming the cause (the signal, the panic, ...)
     */
    static ObjectNode ended(VirtualMachineInstance vmi, String phase, String reason, String message, Instant now) {
        VirtualMachineInstanceStatus cur = status(vmi);
        if (Phase.isFinal(cur.getPhase())) {
            return null;
        }
        ObjectNode s = NODES.objectNode();
        s.put("phase", phase);
        s.put("reason", reason);
        s.set("phaseTransitionTimestamps", KubevirtJson.toTree(transitions(cur, phase, now)));
        List<Condition> conds = Conditions.without(conditions(cur), ConditionType.PAUSED);
        conds = Conditions.with(conds, condition(ConditionType.READY, "False", reason, message, now));
        if (Phase.FAILED.equals(phase)) {
            conds = Conditions.with(conds, condition(ConditionType.FAILURE, "True", reason, message, now));
        }
        s.set("conditions", KubevirtJson.toTree(conds));
        return s;
    }

    /** One entry per interface on the pod network, with the pod's IP (masquerade), as KubeVirt reports it without an agent. */
    static List<VmiInterfaceStatus> interfaces(VirtualMachineInstance vmi, String podIp) {
        return interfaces(vmi, podIp, java.util.Map.of());
    }

    /**
     * As {@link #interfaces(VirtualMachineInstance, String)}; an interface without a {@code macAddress} reports the
     * MAC the guest was given ({@code guestMacs}: a bridge's, the pod interface's own), as KubeVirt reports the
     * domain's.
     */
    static List<VmiInterfaceStatus> interfaces(VirtualMachineInstance vmi, String podIp, java.util.Map<String, String> guestMacs) {
        List<VmiInterfaceStatus> out = new ArrayList<>();
        if (vmi.getSpec() == null || vmi.getSpec().getDomain() == null || vmi.getSpec().getDomain().getDevices() == null
                || vmi.getSpec().getDomain().getDevices().getInterfaces() == null) {
            return out;
        }
        List<Network> nets = vmi.getSpec().getNetworks() == null ? List.of() : vmi.getSpec().getNetworks();
        for (Interface i : vmi.getSpec().getDomain().getDevices().getInterfaces()) {
            boolean pod = nets.stream().anyMatch(n -> Objects.equals(n.getName(), i.getName()) && n.getPod() != null);
            VmiInterfaceStatus st = new VmiInterfaceStatus();
            st.setName(i.getName());
            st.setMac(i.getMacAddress() != null ? i.getMacAddress() : guestMacs.get(i.getName()));
            st.setInfoSource("domain");
            if (pod) {
                st.setPodInterfaceName("eth0");
                if (podIp != null && !podIp.isEmpty()) {
                    st.setIpAddress(podIp);
                    st.setIpAddresses(List.of(podIp));
                }
            }
            out.add(st);
        }
        return out;
    }

    private static void setIfChanged(ObjectNode s, String field, String value, String current) {
        if (value != null && !value.equals(current)) {
            s.put(field, value);
        }
    }

    private static VirtualMachineInstanceStatus status(VirtualMachineInstance vmi) {
        return vmi.getStatus() == null ? new VirtualMachineInstanceStatus() : vmi.getStatus();
    }

    private static List<Condition> conditions(VirtualMachineInstanceStatus s) {
        return s.getConditions() == null ? List.of() : s.getConditions();
    }

    static Condition condition(String type, String status, String reason, String message, Instant now) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message);
        c.setLastProbeTime(null);
        c.setLastTransitionTime(now.toString());
        return c;
    }

    private static List<PhaseTransition> transitions(VirtualMachineInstanceStatus cur, String phase, Instant now) {
        List<PhaseTransition> out = new ArrayList<>();
        if (cur.getPhaseTransitionTimestamps() != null) {
            out.addAll(cur.getPhaseTransitionTimestamps());
        }
        PhaseTransition t = new PhaseTransition();
        t.setPhase(phase);
        t.setPhaseTransitionTimestamp(now.toString());
        out.add(t);
        return out;
    }
}
