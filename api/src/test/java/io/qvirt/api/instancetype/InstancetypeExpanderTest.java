package io.qvirt.api.instancetype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.api.FeatureGates;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestException;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmValidator;
import io.qvirt.api.Quantities;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link InstancetypeExpander} against KubeVirt's own examples ({@code examples/csmall.yaml}, {@code clarge.yaml},
 * {@code virtio.yaml}, {@code windows.yaml} and the VMs naming them, copied unchanged into the test resources) and
 * KubeVirt's rules, message for message ({@code pkg/instancetype/apply}, {@code preference/apply},
 * {@code preference/requirements}, {@code expand}).
 */
class InstancetypeExpanderTest {
    static final NetworkSettings NET = NetworkSettings.QVIRT_DEFAULTS;

    static String example(String name) throws IOException {
        try (InputStream in = InstancetypeExpanderTest.class.getResourceAsStream("/kubevirt-examples/" + name + ".yaml")) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The documents of KubeVirt's examples named, joined into one manifest. */
    static List<LoadedManifest> load(String... names) throws Exception {
        StringBuilder all = new StringBuilder();
        for (String n : names) {
            all.append(example(n)).append('\n');
        }
        return ManifestLoader.loadString(all.toString(), "examples");
    }

    static VirtualMachine vm(List<LoadedManifest> docs) {
        return docs.stream().map(LoadedManifest::vm).filter(v -> v != null).findFirst().orElseThrow();
    }

    static VirtualMachine vm(String yaml) throws Exception {
        return ManifestLoader.loadString(yaml, "vm").get(0).vm();
    }

    static InstancetypeLookup lookup(String... names) throws Exception {
        return ManifestInstancetypes.of(load(names));
    }

    /** KubeVirt's example VM without its {@code memory.guest} (which conflicts with every example instancetype). */
    static VirtualMachine withoutGuestMemory(VirtualMachine vm) {
        vm.getSpec().getTemplate().getSpec().getDomain().setMemory(null);
        return vm;
    }

    static JsonNode template(VirtualMachine vm) {
        return KubevirtJson.toTree(vm.getSpec().getTemplate().getSpec());
    }

    static String cpu(JsonNode spec) {
        JsonNode c = spec.path("domain").path("cpu");
        return c.path("sockets").asInt() + "/" + c.path("cores").asInt() + "/" + c.path("threads").asInt();
    }

    // ---- KubeVirt's examples ----

    @Test
    void kubevirtsCsmallExampleIsRefusedForItsTemplatesGuestMemoryAsKubevirtsAdmissionRefusesIt() throws Exception {
        List<LoadedManifest> docs = load("csmall", "vm-cirros-csmall");
        VirtualMachine vm = vm(docs);
        FieldError conflict = new FieldError("spec.template.spec.domain.memory.guest",
                "VM field(s) spec.template.spec.domain.memory.guest conflicts with selected instance type");
        assertEquals(List.of(conflict), VmValidator.validate(vm, FeatureGates.kubevirtDefaults(), NET,
                ManifestInstancetypes.of(docs)));
        assertEquals(List.of(conflict), InstancetypeExpander.expand(vm, ManifestInstancetypes.of(docs), NET).errors());
    }

    @Test
    void everyKubevirtInstancetypeExampleConflictsOnGuestMemory() throws Exception {
        for (String[] c : List.of(new String[] {"cluster-csmall", "vm-cirros-cluster-csmall"},
                new String[] {"clarge", "vm-cirros-clarge"}, new String[] {"clarge", "virtio", "vm-cirros-clarge-virtio"},
                new String[] {"clarge", "windows", "vm-cirros-clarge-windows"})) {
            List<LoadedManifest> docs = load(c);
            List<FieldError> errors = VmValidator.validate(vm(docs), FeatureGates.kubevirtDefaults(), NET,
                    ManifestInstancetypes.of(docs));
            assertEquals(List.of("spec.template.spec.domain.memory.guest"), errors.stream().map(FieldError::path).toList(),
                    String.join(",", c));
        }
    }

    @Test
    void csmallWithoutTheConflictExpandsToOneSocketAndItsMemory() throws Exception {
        List<LoadedManifest> docs = load("csmall", "vm-cirros-csmall");
        VirtualMachine vm = withoutGuestMemory(vm(docs));
        assertEquals(List.of(), VmValidator.validate(vm, FeatureGates.kubevirtDefaults(), NET, ManifestInstancetypes.of(docs)));
        InstancetypeExpander.Expanded e = InstancetypeExpander.expand(vm, ManifestInstancetypes.of(docs), NET);
        assertEquals(List.of(), e.errors());
        JsonNode spec = template(e.vm());
        assertEquals("1/1/1", cpu(spec));
        assertEquals("128Mi", spec.at("/domain/memory/guest").asText());
        assertNull(e.vm().getSpec().getInstancetype(), "expand-spec removes the matcher");
        assertNotNull(vm.getSpec().getInstancetype(), "the argument is not changed");
        // then the template's spec defaults, as KubeVirt's expand sets them
        assertEquals("q35", spec.at("/domain/machine/type").asText());
    }

    @Test
    void clargeWithTheVirtioPreferenceGivesFourSocketsAndVirtioWhereTheTemplateSaysNothing() throws Exception {
        List<LoadedManifest> docs = load("clarge", "virtio", "vm-cirros-clarge-virtio");
        VirtualMachine vm = withoutGuestMemory(vm(docs));
        InstancetypeExpander.Expanded e = InstancetypeExpander.expand(vm, ManifestInstancetypes.of(docs), NET);
        assertEquals(List.of(), e.errors());
        JsonNode spec = template(e.vm());
        assertEquals("4/1/1", cpu(spec), "KubeVirt's default topology is sockets");
        assertEquals("2Gi", spec.at("/domain/memory/guest").asText());
        for (JsonNode d : spec.at("/domain/devices/disks")) {
            assertEquals("virtio", d.at("/disk/bus").asText(), d.toString());
        }
        // the default interface is added before the preference, so it gets the preferred model
        assertEquals("virtio", spec.at("/domain/devices/interfaces/0/model").asText());
    }

    @Test
    void theWindowsPreferenceFillsFirmwareFeaturesClockAndDevices() throws Exception {
        List<LoadedManifest> docs = load("clarge", "windows", "vm-cirros-clarge-windows");
        VirtualMachine vm = withoutGuestMemory(vm(docs));
        InstancetypeExpander.Expanded e = InstancetypeExpander.expand(vm, ManifestInstancetypes.of(docs), NET);
        assertEquals(List.of(), e.errors());
        JsonNode d = template(e.vm()).path("domain");
        assertEquals("4/1/1", cpu(template(e.vm())));
        assertTrue(d.at("/firmware/bootloader/efi/secureBoot").asBoolean(), d.path("firmware").toString());
        assertTrue(d.at("/features/smm").isObject());
        assertTrue(d.at("/features/apic").isObject());
        assertEquals(8191, d.at("/features/hyperv/spinlocks/spinlocks").asInt());
        assertTrue(d.at("/features/hyperv/relaxed").isObject());
        assertTrue(d.at("/clock/utc").isObject());
        assertEquals("delay", d.at("/clock/timer/pit/tickPolicy").asText());
        assertTrue(d.at("/devices/tpm").isObject());
        assertEquals("e1000", d.at("/devices/interfaces/0/model").asText());
        // neither disk names a bus: the preference's sata
        List<String> buses = new ArrayList<>();
        d.at("/devices/disks").forEach(x -> buses.add(x.path("name").asText() + "=" + x.at("/disk/bus").asText()));
        assertEquals(List.of("containerdisk=sata", "cloudinitdisk=sata"), buses);
    }

    // ---- kinds and lookup ----

    static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: t, namespace: ns1}
            spec:
              runStrategy: Always
              %s
              template:
                spec:
                  domain:
                    devices:
                      disks: [{name: root}]
                  volumes: [{name: root, containerDisk: {image: example/disk}}]
            """;

    static VirtualMachine vmWith(String matchers) throws Exception {
        return vm(String.format(VM, matchers.replace("\n", "\n  ")));
    }

    static final String ITS = """
            apiVersion: instancetype.kubevirt.io/v1beta1
            kind: VirtualMachineClusterInstancetype
            metadata: {name: c2}
            spec: {cpu: {guest: 2}, memory: {guest: 1Gi}}
            ---
            apiVersion: instancetype.kubevirt.io/v1beta1
            kind: VirtualMachineInstancetype
            metadata: {name: n3, namespace: ns1}
            spec: {cpu: {guest: 3}, memory: {guest: 512Mi}}
            """;

    static InstancetypeLookup its(String more) throws Exception {
        return ManifestInstancetypes.of(ManifestLoader.loadString(ITS + (more.isEmpty() ? "" : "---\n" + more), "its"));
    }

    @Test
    void anOmittedKindIsTheClusterKindAndKindsCompareCaseInsensitivelySingularOrPlural() throws Exception {
        InstancetypeLookup l = its("");
        assertEquals("2/1/1", cpu(template(InstancetypeExpander.expand(vmWith("instancetype: {name: c2}"), l, NET).vm())));
        for (String kind : List.of("VirtualMachineInstancetype", "virtualMachineInstancetype", "virtualmachineinstancetypes")) {
            InstancetypeExpander.Expanded e = InstancetypeExpander.expand(
                    vmWith("instancetype: {name: n3, kind: " + kind + "}"), l, NET);
            assertEquals(List.of(), e.errors(), kind);
            assertEquals("3/1/1", cpu(template(e.vm())), kind);
        }
    }

    @Test
    void aNamespacedObjectIsFoundInTheVmsNamespaceOnly() throws Exception {
        VirtualMachine other = vmWith("instancetype: {name: n3, kind: VirtualMachineInstancetype}");
        other.getMetadata().setNamespace("ns2");
        assertEquals(List.of(new FieldError("spec.instancetype.name",
                        "virtualmachineinstancetypes.instancetype.kubevirt.io \"n3\" not found")),
                InstancetypeExpander.expand(other, its(""), NET).errors());
    }

    @Test
    void whatDoesNotExistIsAdmittedAsKubevirtAdmitsItButExpandSpecRefusesIt() throws Exception {
        VirtualMachine vm = vmWith("instancetype: {name: nope}\npreference: {name: nope2, kind: VirtualMachinePreference}");
        InstancetypeExpander.Admitted a = InstancetypeExpander.admit(vm, its(""), NET);
        assertEquals(List.of(), a.errors());
        List<FieldError> missing = List.of(
                new FieldError("spec.instancetype.name", "virtualmachineclusterinstancetypes.instancetype.kubevirt.io "
                        + "\"nope\" not found"),
                new FieldError("spec.preference.name", "virtualmachinepreferences.instancetype.kubevirt.io \"nope2\" "
                        + "not found"));
        assertEquals(missing, a.notFound());
        assertEquals(missing, InstancetypeExpander.expand(vm, its(""), NET).errors());
    }

    @Test
    void aLookupThatFailsIsNotNotFound() throws Exception {
        InstancetypeLookup failing = (r, ns, name) -> {
            throw new InstancetypeLookupException("the server timed out", null);
        };
        assertEquals(List.of(new FieldError("spec.instancetype", "failed to find VirtualMachineClusterInstancetype c2: "
                + "the server timed out")), InstancetypeExpander.expand(vmWith("instancetype: {name: c2}"), failing, NET).errors());
    }

    @Test
    void theRevisionTheControllerStoredIsUsedWhileItHoldsTheNamedObject() throws Exception {
        InstancetypeLookup live = its("");
        JsonNode stored = KubevirtJson.yaml().readTree("{apiVersion: instancetype.kubevirt.io/v1beta1, kind: "
                + "VirtualMachineClusterInstancetype, metadata: {name: c2}, spec: {cpu: {guest: 6}, memory: {guest: 1Gi}}}");
        InstancetypeLookup withRevisions = new InstancetypeLookup() {
            @Override
            public java.util.Optional<JsonNode> spec(InstancetypeResource r, String ns, String name) {
                return live.spec(r, ns, name);
            }

            @Override
            public java.util.Optional<JsonNode> revision(String ns, String name) {
                return "t-c2-v1beta1-uid-1".equals(name) ? java.util.Optional.of(stored) : java.util.Optional.empty();
            }
        };
        VirtualMachine vm = vmWith("instancetype: {name: c2}");
        vm.setStatus(KubevirtJson.json().readValue("{\"instancetypeRef\": {\"name\": \"c2\", \"controllerRevisionRef\": "
                + "{\"name\": \"t-c2-v1beta1-uid-1\"}}}", io.qvirt.api.model.VirtualMachineStatus.class));
        assertEquals("6/1/1", cpu(template(InstancetypeExpander.expand(vm, withRevisions, NET).vm())), "the stored one");
        VirtualMachine renamed = vmWith("instancetype: {name: n3, kind: VirtualMachineInstancetype}");
        renamed.setStatus(vm.getStatus());
        assertEquals("3/1/1", cpu(template(InstancetypeExpander.expand(renamed, withRevisions, NET).vm())),
                "the stored revision holds another object: the live one");
        vm.getStatus().getInstancetypeRef().getControllerRevisionRef().setName("gone");
        assertEquals(List.of(new FieldError("status.instancetypeRef.controllerRevisionRef.name",
                "controllerrevisions.apps \"gone\" not found")), InstancetypeExpander.expand(vm, withRevisions, NET).errors());
    }

    @Test
    void matchersAreCheckedAsKubevirtsMutatorChecksThem() throws Exception {
        assertEquals(List.of(
                new FieldError("spec.instancetype.name", "Name already set, should be cleared before setting inferFromVolume"),
                new FieldError("spec.instancetype.inferFromVolume", "not supported by qvirt (it infers from CDI volume "
                        + "labels): give spec.instancetype.name instead"),
                new FieldError("spec.instancetype.inferFromVolumeFailurePolicy", "Invalid value 'Maybe' for "
                        + "InferFromVolumeFailurePolicy")),
                InstancetypeExpander.validateMatchers(vmWith("instancetype: {name: a, inferFromVolume: root, "
                        + "inferFromVolumeFailurePolicy: Maybe}").getSpec()));
        assertEquals(List.of(new FieldError("spec.preference", "Either Name or InferFromVolume should be provided within "
                + "the PreferenceMatcher")), InstancetypeExpander.validateMatchers(vmWith("preference: {kind: "
                + "VirtualMachinePreference}").getSpec()));
    }

    // ---- the instancetype ----

    @Test
    void everyFieldTheInstancetypeAlsoSetsIsAConflictNamedByPath() throws Exception {
        VirtualMachine vm = vmWith("instancetype: {name: c2}");
        var domain = vm.getSpec().getTemplate().getSpec().getDomain();
        domain.setCpu(new io.qvirt.api.model.CPU());
        domain.getCpu().setSockets(2);
        domain.getCpu().setThreads(1);
        domain.setResources(KubevirtJson.json().readValue("{\"requests\": {\"cpu\": \"1\"}}",
                io.qvirt.api.model.ResourceRequirements.class));
        List<FieldError> errors = InstancetypeExpander.admit(vm, its(""), NET).errors();
        assertEquals(List.of("spec.template.spec.domain.resources.requests.cpu", "spec.template.spec.domain.cpu.sockets",
                "spec.template.spec.domain.cpu.threads"), errors.stream().map(FieldError::path).toList());
        assertEquals("VM field(s) spec.template.spec.domain.cpu.sockets conflicts with selected instance type",
                errors.get(1).message());
    }

    @Test
    void topologiesSpreadTheVcpusAsKubevirtDoes() throws Exception {
        String it8 = "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterInstancetype\n"
                + "metadata: {name: c8}\nspec: {cpu: {guest: 8}, memory: {guest: 1Gi}}\n";
        String[][] cases = {
                {"", "8/1/1"}, {"cpu: {preferredCPUTopology: cores}", "1/8/1"},
                {"cpu: {preferredCPUTopology: preferThreads}", "1/1/8"}, {"cpu: {preferredCPUTopology: any}", "8/1/1"},
                {"cpu: {preferredCPUTopology: spread}", "4/2/1"},
                {"cpu: {preferredCPUTopology: spread, spreadOptions: {across: CoresThreads, ratio: 4}}", "1/2/4"},
                {"cpu: {preferredCPUTopology: spread, spreadOptions: {across: SocketsCoresThreads}}", "2/2/2"},
                {"preferSpreadSocketToCoreRatio: 4\n  cpu: {preferredCPUTopology: preferSpread}", "2/4/1"}};
        for (String[] c : cases) {
            String pref = "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterPreference\n"
                    + "metadata: {name: p}\nspec:\n  " + (c[0].isEmpty() ? "{}" : c[0]) + "\n";
            InstancetypeExpander.Expanded e = InstancetypeExpander.expand(vmWith("instancetype: {name: c8}\n"
                    + "preference: {name: p}"), its(it8 + "---\n" + pref), NET);
            assertEquals(List.of(), e.errors(), c[0]);
            assertEquals(c[1], cpu(template(e.vm())), c[0]);
        }
        String spread3 = "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterPreference\n"
                + "metadata: {name: p}\nspec: {cpu: {preferredCPUTopology: spread, spreadOptions: {ratio: 3}}}\n";
        assertEquals(List.of(new FieldError("instancetype.spec.cpu.guest", "8 vCPUs provided by the instance type are "
                + "not divisible by the Spec.PreferSpreadSocketToCoreRatio or Spec.CPU.PreferSpreadOptions.Ratio of 3 "
                + "provided by the preference")), InstancetypeExpander.admit(vmWith("instancetype: {name: c8}\n"
                + "preference: {name: p}"), its(it8 + "---\n" + spread3), NET).errors());
    }

    @Test
    void overcommitLowersTheMemoryRequestAndTheRestIsCopied() throws Exception {
        String it = "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterInstancetype\n"
                + "metadata: {name: oc}\nspec:\n  cpu: {guest: 1, model: Haswell}\n  memory: {guest: 1Gi, "
                + "overcommitPercent: 50}\n  nodeSelector: {disk: ssd}\n  annotations: {team: a}\n";
        InstancetypeExpander.Expanded e = InstancetypeExpander.expand(vmWith("instancetype: {name: oc}"), its(it), NET);
        assertEquals(List.of(), e.errors());
        JsonNode spec = template(e.vm());
        // half of 1Gi, as KubeVirt computes it
        assertEquals(536870912L, Quantities.bytes(spec.at("/domain/resources/requests/memory").asText()));
        assertEquals("Haswell", spec.at("/domain/cpu/model").asText());
        assertEquals("ssd", spec.at("/nodeSelector/disk").asText());
        assertEquals("a", e.vm().getSpec().getTemplate().getMetadata().getAnnotations().get("team"));
        VirtualMachine clash = vmWith("instancetype: {name: oc}");
        clash.getSpec().getTemplate().setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
        clash.getSpec().getTemplate().getMetadata().setAnnotations(new java.util.HashMap<>(java.util.Map.of("team", "b")));
        assertEquals(List.of(new FieldError("annotations.team", "VM field(s) annotations.team conflicts with selected "
                + "instance type")), InstancetypeExpander.admit(clash, its(it), NET).errors());
    }

    // ---- the preference ----

    @Test
    void aPreferenceOnlyFillsWhatTheTemplateLeavesUnset() throws Exception {
        String pref = """
                apiVersion: instancetype.kubevirt.io/v1beta1
                kind: VirtualMachinePreference
                metadata: {name: p, namespace: ns1}
                spec:
                  devices: {preferredDiskBus: virtio, preferredCdromBus: scsi, preferredAutoattachSerialConsole: false}
                  machine: {preferredMachineType: pc-q35-7.2}
                  firmware: {preferredUseEfi: true, preferredUseSecureBoot: false}
                  preferredTerminationGracePeriodSeconds: 5
                  preferredSubdomain: sub
                """;
        VirtualMachine vm = vmWith("preference: {name: p, kind: VirtualMachinePreference}");
        vm.getSpec().getTemplate().getSpec().setTerminationGracePeriodSeconds(0L);
        var disks = vm.getSpec().getTemplate().getSpec().getDomain().getDevices().getDisks();
        disks.add(KubevirtJson.json().readValue("{\"name\": \"cd\", \"cdrom\": {}}", io.qvirt.api.model.Disk.class));
        disks.add(KubevirtJson.json().readValue("{\"name\": \"sata\", \"disk\": {\"bus\": \"sata\"}}",
                io.qvirt.api.model.Disk.class));
        InstancetypeExpander.Expanded e = InstancetypeExpander.expand(vm, its(pref), NET);
        assertEquals(List.of(), e.errors());
        JsonNode s = template(e.vm());
        assertEquals("virtio", s.at("/domain/devices/disks/0/disk/bus").asText());
        assertEquals("scsi", s.at("/domain/devices/disks/1/cdrom/bus").asText());
        assertEquals("sata", s.at("/domain/devices/disks/2/disk/bus").asText(), "the template's own bus wins");
        assertEquals(0, s.path("terminationGracePeriodSeconds").asInt(), "the template's own 0 wins");
        assertEquals("sub", s.path("subdomain").asText());
        assertEquals("pc-q35-7.2", s.at("/domain/machine/type").asText());
        assertEquals("{\"secureBoot\":false}", s.at("/domain/firmware/bootloader/efi").toString());
        assertTrue(s.at("/domain/devices/autoattachSerialConsole").isBoolean());
        assertEquals(false, s.at("/domain/devices/autoattachSerialConsole").asBoolean());
        assertEquals("1/1/1", cpu(s), "no instancetype: the template's defaults");
    }

    @Test
    void requirementsRefuseWithKubevirtsWords() throws Exception {
        String pref = "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterPreference\n"
                + "metadata: {name: big}\nspec: {requirements: {cpu: {guest: 4}, memory: {guest: 2Gi}}}\n";
        assertEquals(List.of(new FieldError("spec.instancetype", "failure checking preference requirements: "
                + "insufficient CPU resources of 2 vCPU provided by instance type, preference requires 4 vCPU")),
                InstancetypeExpander.admit(vmWith("instancetype: {name: c2}\npreference: {name: big}"), its(pref), NET)
                        .errors());
        String memOnly = "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterPreference\n"
                + "metadata: {name: big}\nspec: {requirements: {memory: {guest: 2Gi}}}\n";
        assertEquals(List.of(new FieldError("spec.instancetype", "failure checking preference requirements: "
                + "insufficient Memory resources of 1Gi provided by instance type, preference requires 2Gi")),
                InstancetypeExpander.admit(vmWith("instancetype: {name: c2}\npreference: {name: big}"), its(memOnly), NET)
                        .errors());
        // no instancetype: the template's defaulted topology (1 socket) against the preferred one (sockets)
        VirtualMachine alone = vmWith("preference: {name: big}");
        assertEquals(List.of(new FieldError("spec.template.spec.domain.cpu.sockets", "failure checking preference "
                + "requirements: insufficient CPU resources of 1 vCPU provided by VirtualMachine, preference requires "
                + "4 vCPU provided as sockets")), InstancetypeExpander.admit(alone, its(pref), NET).errors());
        alone.getSpec().getTemplate().getSpec().getDomain().setCpu(new io.qvirt.api.model.CPU());
        alone.getSpec().getTemplate().getSpec().getDomain().getCpu().setSockets(4);
        alone.getSpec().getTemplate().getSpec().getDomain().setMemory(KubevirtJson.json().readValue(
                "{\"guest\": \"128Mi\"}", io.qvirt.api.model.Memory.class));
        assertEquals(List.of(new FieldError("spec.template.spec.domain.memory", "failure checking preference "
                + "requirements: insufficient Memory resources of 128Mi provided by VirtualMachine, preference requires "
                + "2Gi")), InstancetypeExpander.admit(alone, its(pref), NET).errors());
    }

    // ---- the VMI the controller makes ----

    @Test
    void theVmiHasTheInstancetypeAppliedAndKubevirtsAnnotations() throws Exception {
        VirtualMachine vm = vmWith("instancetype: {name: n3, kind: VirtualMachineInstancetype}\npreference: {name: c}");
        String pref = "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterPreference\n"
                + "metadata: {name: c}\nspec: {devices: {preferredAutoattachPodInterface: false, preferredDiskBus: virtio}}\n";
        InstancetypeLookup l = its(pref);
        InstancetypeExpander.Found found = InstancetypeExpander.find(vm, l);
        assertEquals(List.of(), found.errors());
        InstancetypeExpander.Made made = InstancetypeExpander.toVmi(vm, found.specs(), NET);
        assertEquals(List.of(), made.conflicts());
        VirtualMachineInstance vmi = made.vmi();
        assertEquals("n3", vmi.getMetadata().getAnnotations().get("kubevirt.io/instancetype-name"));
        assertEquals("c", vmi.getMetadata().getAnnotations().get("kubevirt.io/cluster-preference-name"));
        JsonNode s = KubevirtJson.toTree(vmi.getSpec());
        assertEquals("3/1/1", cpu(s));
        assertEquals("virtio", s.at("/domain/devices/disks/0/disk/bus").asText());
        assertTrue(s.at("/domain/devices/interfaces").isMissingNode(), "autoattachPodInterface false: no default interface");
        vm.getSpec().getTemplate().getSpec().getDomain().setMemory(KubevirtJson.json().readValue(
                "{\"guest\": \"1Gi\"}", io.qvirt.api.model.Memory.class));
        InstancetypeExpander.Made clash = InstancetypeExpander.toVmi(vm, InstancetypeExpander.find(vm, l).specs(), NET);
        assertNull(clash.vmi());
        assertEquals("VMI conflicts with instancetype spec in fields: [spec.domain.memory.guest]", clash.describe());
    }

    // ---- the objects ----

    @Test
    void instancetypeDocumentsAreCheckedAndOnlyV1beta1IsServed() throws Exception {
        List<LoadedManifest> docs = ManifestLoader.loadString("apiVersion: instancetype.kubevirt.io/v1beta1\n"
                + "kind: VirtualMachineInstancetype\nmetadata: {name: bad}\nspec: {cpu: {guest: 0}, memory: {}}\n---\n"
                + "apiVersion: instancetype.kubevirt.io/v1beta1\nkind: VirtualMachineClusterPreference\n"
                + "metadata: {name: p}\nspec: {cpu: {preferredCPUTopology: diagonal}}\n", "objs");
        assertEquals("default", docs.get(0).namespace());
        assertNull(docs.get(1).namespace(), "a Cluster kind has no namespace");
        assertNull(docs.get(0).vmi());
        assertEquals(List.of("spec.cpu.guest", "spec.memory.guest"), docs.get(0).validate().stream()
                .map(FieldError::path).toList());
        assertEquals(List.of("spec.cpu.preferredCPUTopology"), docs.get(1).validate().stream().map(FieldError::path).toList());
        ManifestException old = assertThrows(ManifestException.class, () -> ManifestLoader.loadString(
                "apiVersion: instancetype.kubevirt.io/v1alpha1\nkind: VirtualMachineInstancetype\nmetadata: {name: x}\n"
                        + "spec: {cpu: {guest: 1}, memory: {guest: 1Gi}}\n", "old"));
        assertTrue(old.getMessage().contains("apiVersion 'instancetype.kubevirt.io/v1alpha1' is not served for "
                + "VirtualMachineInstancetype: expected instancetype.kubevirt.io/v1beta1"), old.getMessage());
        ManifestException twice = assertThrows(ManifestException.class, () -> ManifestInstancetypes.of(
                ManifestLoader.loadString(ITS + "---\n" + ITS, "twice")));
        assertTrue(twice.getMessage().contains("a second VirtualMachineClusterInstancetype named c2"), twice.getMessage());
    }
}
