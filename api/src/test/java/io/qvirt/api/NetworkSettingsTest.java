package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The cluster's network settings through validation: the implicit interface, and bridge on the pod network. */
class NetworkSettingsTest {
    private static final FeatureGates GATES = FeatureGates.kubevirtDefaults();
    private static final NetworkSettings BRIDGE_FORBIDDEN = new NetworkSettings("masquerade", false);
    private static final String BRIDGE_REFUSAL = "Bridge on pod network configuration is not enabled under kubevirt-config";

    private static LoadedManifest vm(String templateSpec) throws Exception {
        return ManifestLoader.loadString("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: t}\n"
                + "spec:\n  runStrategy: Always\n  template:\n    spec:\n" + templateSpec.indent(6), "test").get(0);
    }

    private static LoadedManifest vmi(String spec) throws Exception {
        return ManifestLoader.loadString("apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: t}\n"
                + "spec:\n" + spec.indent(2), "test").get(0);
    }

    private static final String NO_INTERFACES = "domain: {devices: {}, resources: {requests: {memory: 64Mi}}}";
    private static final String BRIDGE_ON_POD = "domain: {devices: {interfaces: [{name: default, bridge: {}}]}, "
            + "resources: {requests: {memory: 64Mi}}}\nnetworks: [{name: default, pod: {}}]";

    @Test
    void noInterfacesIsValidWithEitherDefault() throws Exception {
        assertEquals(List.of(), vm(NO_INTERFACES).validate(GATES, NetworkSettings.QVIRT_DEFAULTS));
        assertEquals(List.of(), vm(NO_INTERFACES).validate(GATES, NetworkSettings.KUBEVIRT_DEFAULTS));
        assertEquals(List.of(), vmi(NO_INTERFACES).validate(GATES, NetworkSettings.KUBEVIRT_DEFAULTS));
        assertEquals(List.of(), vmi(NO_INTERFACES).validate(GATES, BRIDGE_FORBIDDEN));
    }

    @Test
    void bridgeOnThePodNetworkIsRefusedByFieldWhenNotPermitted() throws Exception {
        assertEquals(List.of(new FieldError("spec.template.spec.domain.devices.interfaces[0].name", BRIDGE_REFUSAL)),
                vm(BRIDGE_ON_POD).validate(GATES, BRIDGE_FORBIDDEN));
        assertEquals(List.of(new FieldError("spec.domain.devices.interfaces[0].name", BRIDGE_REFUSAL)),
                vmi(BRIDGE_ON_POD).validate(GATES, BRIDGE_FORBIDDEN));
        assertEquals(List.of(), vmi(BRIDGE_ON_POD).validate(GATES, NetworkSettings.KUBEVIRT_DEFAULTS));
    }

    @Test
    void bridgeOnAMultusNetworkStaysAllowedWhenBridgeIsForbiddenOnThePodNetwork() throws Exception {
        String multus = "domain: {devices: {interfaces: [{name: blue, bridge: {}}]}, resources: {requests: {memory: 64Mi}}}\n"
                + "networks: [{name: blue, multus: {networkName: n}}]";
        assertEquals(List.of(), vmi(multus).validate(GATES, BRIDGE_FORBIDDEN));
    }

    @Test
    void aDefaultBridgeThatIsNotPermittedIsRefusedOnTheImplicitInterface() throws Exception {
        // KubeVirt: "Bridge interface is not enabled in kubevirt-config" from its defaulting; qvirt names the field.
        List<FieldError> errors = vm(NO_INTERFACES).validate(GATES, new NetworkSettings("bridge", false));
        assertEquals(List.of(new FieldError("spec.template.spec.domain.devices.interfaces[0].name", BRIDGE_REFUSAL)), errors);
    }

    @Test
    void anUnknownDefaultBindingIsRefusedWithTheAllowedOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NetworkSettings("slirp", true));
        assertEquals("defaultNetworkInterface: 'slirp' is not allowed: allowed are bridge, masquerade", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new NetworkSettings(null, true));
        assertTrue(e.getMessage().startsWith("defaultNetworkInterface: missing"), e.getMessage());
    }
}
