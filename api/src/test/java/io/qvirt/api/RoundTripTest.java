package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.VirtualMachineStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Fields qvirt does not model survive a read-modify-write unchanged. */
class RoundTripTest {
    static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: rich
              namespace: ns
              annotations:
                kubevirt.io/latest-observed-api-version: v1
              finalizers: [kubevirt.io/virtualMachineControllerFinalize]
            spec:
              runStrategy: Always
              instancetype:
                kind: VirtualMachineClusterInstancetype
                name: u1.medium
              updateVolumesStrategy: Migration
              template:
                metadata:
                  creationTimestamp: null
                  labels: {app: x}
                spec:
                  domain:
                    clock:
                      utc: {}
                      timer:
                        hpet: {present: false}
                    cpu:
                      cores: 2
                      features:
                      - {name: vmx, policy: require}
                    devices:
                      tpm: {persistent: true}
                      disks:
                      - name: root
                        disk: {bus: virtio}
                        blockSize: {custom: {logical: 512, physical: 4096}}
                      interfaces:
                      - name: default
                        masquerade: {}
                        dhcpOptions: {bootFileName: pxe}
                    resources:
                      requests: {memory: 1Gi}
                  affinity:
                    nodeAffinity:
                      requiredDuringSchedulingIgnoredDuringExecution:
                        nodeSelectorTerms:
                        - matchExpressions:
                          - {key: zone, operator: In, values: [a]}
                  tolerations:
                  - {key: dedicated, operator: Exists, effect: NoSchedule}
                  readinessProbe:
                    guestAgentPing: {}
                  networks:
                  - name: default
                    pod: {vmNetworkCIDR: 10.11.12.0/24}
                  volumes:
                  - name: root
                    containerDisk: {image: quay.io/containerdisks/fedora:40}
            status:
              printableStatus: Running
              ready: true
              created: true
              desiredGeneration: 3
              observedGeneration: 3
              runStrategy: Always
              volumeSnapshotStatuses:
              - {name: root, enabled: false, reason: "Snapshot is not supported for this volumeSource type [root]"}
              conditions:
              - {type: Ready, status: "True", lastProbeTime: null, lastTransitionTime: "2024-05-01T10:00:00Z"}
              instancetypeRef: {kind: VirtualMachineClusterInstancetype, name: u1.medium, controllerRevisionRef: {name: r1}}
            """;

    @Test
    void unmodelledFieldsSurviveReadModifyWrite() throws Exception {
        VirtualMachine vm = ManifestLoader.loadString(VM, "rich.yaml").get(0).vm();
        // modify what qvirt owns
        VirtualMachineStatus st = vm.getStatus();
        st.setPrintableStatus("Stopped");
        Condition c = new Condition();
        c.setType("Paused");
        c.setStatus("False");
        List<Condition> conds = new ArrayList<>(st.getConditions());
        conds.add(c);
        st.setConditions(conds);
        vm.getSpec().setRunStrategy("Halted");

        JsonNode written = KubevirtJson.json().readTree(KubevirtJson.toJson(vm));
        JsonNode expected = KubevirtJson.yaml().readTree(VM);
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected.get("status")).put("printableStatus", "Stopped");
        ((com.fasterxml.jackson.databind.node.ArrayNode) expected.get("status").get("conditions"))
                .add(KubevirtJson.json().readTree("{\"type\":\"Paused\",\"status\":\"False\"}"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected.get("spec")).put("runStrategy", "Halted");
        // explicit nulls are the one thing not kept (NON_NULL): KubeVirt writes them for empty times only
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected.at("/status/conditions/0")).remove("lastProbeTime");
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected.at("/spec/template/metadata"))
                .remove("creationTimestamp");
        assertEquals(expected, written);
    }

    @Test
    void unknownFieldsAreReachable() throws Exception {
        VirtualMachine vm = ManifestLoader.loadString(VM, "rich.yaml").get(0).vm();
        var domain = vm.getSpec().getTemplate().getSpec().getDomain();
        assertEquals(true, domain.getAdditionalProperties().containsKey("clock"));
        assertEquals("Migration", vm.getSpec().getAdditionalProperties().get("updateVolumesStrategy"));
        assertEquals(true, domain.getDevices().getDisks().get(0).getAdditionalProperties().containsKey("blockSize"));
    }

    @Test
    void vmiStatusRoundTripsWithQvirtAccelerator() throws Exception {
        String vmi = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: v, namespace: default}
                spec:
                  domain:
                    devices: {}
                    resources: {requests: {memory: 64M}}
                status:
                  phase: Running
                  nodeName: node1
                  interfaces:
                  - {name: default, ipAddress: 10.0.2.2, mac: "52:54:00:12:34:56", ipAddresses: [10.0.2.2], infoSource: domain}
                  guestOSInfo: {name: Alpine, id: alpine}
                  launcherContainerImageVersion: quay.io/qvirt/launcher:0.1
                  qvirtAccelerator: {name: tcg, reason: "/dev/kvm missing; useEmulation is on"}
                  activePods: {abc: node1}
                  runtimeUser: 107
                """;
        VirtualMachineInstance v = ManifestLoader.loadString(vmi, "vmi.yaml").get(0).vmi();
        assertEquals("tcg", v.getStatus().getQvirtAccelerator().getName());
        assertEquals("10.0.2.2", v.getStatus().getInterfaces().get(0).getIpAddress());
        assertEquals(KubevirtJson.yaml().readTree(vmi), KubevirtJson.json().readTree(KubevirtJson.toJson(v)));
    }
}
