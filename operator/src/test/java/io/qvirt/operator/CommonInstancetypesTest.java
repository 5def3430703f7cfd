package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.KubevirtJson;
import java.util.List;
import org.junit.jupiter.api.Test;

/** KubeVirt's {@code commonInstancetypesDeployment}: what the operator installs of manifests/instancetypes. */
class CommonInstancetypesTest {
    private static List<String> common(String specYaml) throws Exception {
        KubeVirtSpec spec = specYaml == null ? null : KubevirtJson.yaml().readValue(specYaml, KubeVirtSpec.class);
        return InstallStrategy.desired(Templates.fromClassPath(), InstallStrategy.Target.of(spec, "r", "t"), "CA").stream()
                .filter(o -> o.path("apiVersion").asText().startsWith("instancetype.kubevirt.io/"))
                .map(o -> o.path("kind").asText() + "/" + o.at("/metadata/name").asText()).toList();
    }

    @Test
    void deployedByDefaultWithTheFourSeriesAndTheX86Preferences() throws Exception {
        List<String> names = common(null);
        assertEquals(names, common("configuration: {commonInstancetypesDeployment: {enabled: true}}"));
        for (String series : List.of("u1", "o1", "cx1", "m1")) {
            assertTrue(names.contains("VirtualMachineClusterInstancetype/" + series + ".large"), series + ": " + names);
        }
        assertTrue(names.stream().noneMatch(n -> n.startsWith("VirtualMachineClusterInstancetype/rt1.")
                || n.startsWith("VirtualMachineClusterInstancetype/d1.")), names.toString());
        for (String os : List.of("fedora", "ubuntu", "debian", "centos.stream9", "rhel.9", "alpine", "cirros", "windows.11")) {
            assertTrue(names.contains("VirtualMachineClusterPreference/" + os), os + ": " + names);
        }
        assertTrue(names.stream().noneMatch(n -> n.contains("arm64") || n.contains("s390x")), names.toString());
        ObjectNode u1 = InstallStrategy.desired(Templates.fromClassPath(), InstallStrategy.Target.of(null, "r", "t"), "CA")
                .stream().filter(o -> "u1.medium".equals(o.at("/metadata/name").asText())).findFirst().orElseThrow();
        assertEquals(1, u1.at("/spec/cpu/guest").asInt());
        assertEquals("4Gi", u1.at("/spec/memory/guest").asText());
        assertEquals(InstallStrategy.MANAGED_BY, u1.at("/metadata/labels").path(InstallStrategy.MANAGED_BY_LABEL).asText());
    }

    @Test
    void notDeployedWhenTheCrTurnsItOff() throws Exception {
        assertEquals(List.of(), common("configuration: {commonInstancetypesDeployment: {enabled: false}}"));
    }
}
