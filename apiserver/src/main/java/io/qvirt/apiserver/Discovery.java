package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** The discovery documents of {@code subresources.kubevirt.io} that the aggregator and kubectl read. */
final class Discovery {
    static final String GROUP = "subresources.kubevirt.io";
    static final List<String> VERSIONS = List.of("v1", "v1alpha3");

    /** Every subresource served, with its verbs (RBAC verbs: PUT is update, GET is get). */
    static final List<String[]> RESOURCES = List.of(
            new String[] {"virtualmachineinstances/console", "get"},
            new String[] {"virtualmachineinstances/pause", "update"},
            new String[] {"virtualmachineinstances/unpause", "update"},
            new String[] {"virtualmachineinstances/reset", "update"},
            new String[] {"virtualmachineinstances/portforward", "get"},
            new String[] {"virtualmachines/start", "update"},
            new String[] {"virtualmachines/stop", "update"},
            new String[] {"virtualmachines/restart", "update"},
            new String[] {"virtualmachines/migrate", "update"},
            new String[] {"virtualmachines/expand-spec", "get"},
            new String[] {"virtualmachines/portforward", "get"},
            new String[] {"expand-vm-spec", "update"});

    private Discovery() {
    }

    static ObjectNode resourceList(String version) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("kind", "APIResourceList");
        o.put("apiVersion", "v1");
        o.put("groupVersion", GROUP + "/" + version);
        ArrayNode rs = o.putArray("resources");
        for (String[] r : RESOURCES) {
            ObjectNode x = rs.addObject();
            x.put("name", r[0]);
            x.put("singularName", "");
            x.put("namespaced", true);
            x.put("kind", r[0].startsWith("virtualmachineinstances") ? "VirtualMachineInstance" : "VirtualMachine");
            x.putArray("verbs").add(r[1]);
        }
        return o;
    }

    static ObjectNode group() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("kind", "APIGroup");
        o.put("apiVersion", "v1");
        fillGroup(o);
        return o;
    }

    private static void fillGroup(ObjectNode o) {
        o.put("name", GROUP);
        ArrayNode vs = o.putArray("versions");
        for (String v : VERSIONS) {
            vs.addObject().put("groupVersion", GROUP + "/" + v).put("version", v);
        }
        o.putObject("preferredVersion").put("groupVersion", GROUP + "/v1").put("version", "v1");
    }

    static ObjectNode groupList() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("kind", "APIGroupList");
        o.put("apiVersion", "v1");
        fillGroup(o.putArray("groups").addObject());
        return o;
    }

    /** KubeVirt's {@code version} answer (its Info fields). */
    static ObjectNode version() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        String v = Discovery.class.getPackage().getImplementationVersion();
        o.put("gitVersion", "v" + (v == null ? "0.1.0-SNAPSHOT" : v) + "-qvirt");
        o.put("gitCommit", "");
        o.put("gitTreeState", "");
        o.put("buildDate", "");
        o.put("goVersion", "");
        o.put("compiler", "java " + Runtime.version());
        o.put("platform", System.getProperty("os.name").toLowerCase() + "/" + System.getProperty("os.arch"));
        return o;
    }
}
