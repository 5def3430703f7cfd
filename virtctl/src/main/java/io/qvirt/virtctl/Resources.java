package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/** Paths and names of the objects virtctl reads, and the option bodies of virt-api's verbs. */
final class Resources {
    static final String VM = "virtualmachine.kubevirt.io";
    static final String VMI = "virtualmachineinstance.kubevirt.io";
    static final String VMS = "virtualmachines";
    static final String VMIS = "virtualmachineinstances";

    private Resources() {
    }

    static String vmPath(String ns, String name) {
        return "/apis/kubevirt.io/v1/namespaces/" + ns + "/" + VMS + "/" + name;
    }

    static String vmiPath(String ns, String name) {
        return "/apis/kubevirt.io/v1/namespaces/" + ns + "/" + VMIS + "/" + name;
    }

    /** {@code vm}, {@code vms}, {@code virtualmachine(s)} -> true; the VMI forms -> false; else a usage error. */
    static boolean isVm(String type, String verb) throws VirtctlException.Usage {
        switch (type.toLowerCase(Locale.ROOT)) {
            case "vm", "vms", "virtualmachine", "virtualmachines":
                return true;
            case "vmi", "vmis", "virtualmachineinstance", "virtualmachineinstances":
                return false;
            default:
                throw new VirtctlException.Usage("unsupported resource type \"" + type + "\" for " + verb
                        + ": vm (virtualmachine) or vmi (virtualmachineinstance)");
        }
    }

    /** An options body ({@code StartOptions}, {@code PauseOptions}, ...): {@code dryRun: [All]} when asked. */
    static ObjectNode options(boolean dryRun) {
        ObjectNode o = Cluster.JSON.createObjectNode();
        if (dryRun) {
            o.putArray("dryRun").add("All");
        }
        return o;
    }

    /** The VM's run strategy as KubeVirt reads it: {@code runStrategy}, else {@code running} true/false. */
    static String runStrategy(JsonNode vm) {
        JsonNode spec = vm.path("spec");
        if (spec.path("runStrategy").isTextual()) {
            return spec.path("runStrategy").asText();
        }
        return spec.path("running").asBoolean(false) ? "Always" : "Halted";
    }
}
